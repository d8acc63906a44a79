-- 005_app_role.sql: what the gateway's runtime role may do.
--
-- Migrations run as the owner role (fhirgw: owns the database and every
-- object in it).  `fhirgw serve` connects as fhirgw_app, which owns
-- nothing, so grants are what limit it: it reads what it serves, writes
-- only where a feature needs it (consent rules here, the audit trail in
-- 010_audit.sql), and can never update or delete an audit record.  Both
-- roles are made when the cluster is bootstrapped (deploy/pg.sh init); see
-- docs/audit.md, "Roles".
do $$
begin
	if not exists (select 1 from pg_roles where rolname = 'fhirgw_app') then
		raise exception 'role fhirgw_app does not exist: create it (LOGIN) before migrating; deploy/pg.sh init does';
	end if;
end $$;

grant usage on schema gw to fhirgw_app;
grant select on gw.node, gw.consent_default, gw.consent_rule to fhirgw_app;
-- The consent API (gateway/consent_api.c) records and revokes rules; rules
-- are never deleted.
grant insert, update on gw.consent_rule to fhirgw_app;
grant usage on sequence gw.consent_rule_id_seq to fhirgw_app;

-- Country registries are read-only for the gateway.  Registries that exist
-- already are granted here; every schema and table the owner creates later
-- (the next registry migrations) is readable through default privileges,
-- so a registry migration needs no grants of its own.  Writes are never a
-- default: each is granted where it is needed.
do $$
declare
	s name;
begin
	for s in select n.nspname from pg_namespace n
	    where n.nspowner = (select oid from pg_roles where rolname = current_user)
	    and n.nspname not in ('gw', 'public') and n.nspname not like 'pg\_%'
	loop
		execute format('grant usage on schema %I to fhirgw_app', s);
		execute format('grant select on all tables in schema %I to fhirgw_app', s);
	end loop;
end $$;
alter default privileges grant usage on schemas to fhirgw_app;
alter default privileges grant select on tables to fhirgw_app;
