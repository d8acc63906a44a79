-- 010_audit.sql: the tamper-evident audit trail (docs/audit.md).
--
-- gw.audit is append-only: one row per request that touched patient data,
-- in a hash chain.  seq is the position in the chain (gap-free, from 1);
-- canonical is the record's canonical text exactly as the gateway built it
-- (gateway/audit.c); hash = sha256(prev_hash || convert_to(canonical,
-- 'UTF8')), and prev_hash is the previous record's hash (32 zero bytes for
-- the first).  The other columns repeat fields of canonical for queries;
-- `fhirgw audit-verify` checks that they still agree with it.
create table gw.audit (
	seq		bigint primary key check (seq > 0),
	recorded_at	timestamptz not null,
	node_key	text not null,
	node_name	text not null,
	node_country	text not null,
	practitioner	text not null,
	organization	text not null,
	purpose		text not null,
	patient_system	text not null,
	patient_national_id text not null,
	patient_logical_id text not null,
	request		text not null,		-- "GET /fhir/Patient/fi-.../$summary"
	operation	text not null,		-- read, search-type, $summary, ...
	returned_types	text[] not null,
	returned_ids	text[] not null,	-- the first 100 "Type/id"
	returned_count	integer not null,	-- all resources returned
	decision	text not null,		-- permit, deny or '' (none reached)
	rule		text not null,		-- the rule that decided
	break_glass	boolean not null,
	emergency_reason text not null,
	request_id	text not null,
	traceparent	text not null,
	status		integer not null,	-- HTTP status of the answer
	canonical	text not null,
	prev_hash	bytea not null check (length(prev_hash) = 32),
	hash		bytea not null check (length(hash) = 32)
);
create index audit_patient on gw.audit (patient_logical_id, seq);
create index audit_recorded on gw.audit (recorded_at);

-- The head of the chain: one row, locked by every append, so appends from
-- every worker of every instance are serialised into one chain.
create table gw.audit_head (
	one		boolean primary key default true check (one),
	seq		bigint not null,
	hash		bytea not null check (length(hash) = 32)
);
insert into gw.audit_head (seq, hash) values (0, decode(repeat('00', 32), 'hex'));

-- Rows enter gw.audit only through gw.audit_append (which runs as the
-- owner): a direct INSERT by any other role is refused, so nobody but the
-- owner can put a record into the chain without chaining it.
create function gw.audit_insert_guard() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
	if current_user <> (select pg_get_userbyid(relowner) from pg_class where oid = tg_relid) then
		raise exception 'gw.audit accepts rows only from gw.audit_append'
			using errcode = 'insufficient_privilege';
	end if;
	return null;
end $$;
create trigger audit_insert_guard before insert on gw.audit
	for each statement execute function gw.audit_insert_guard();

-- Append a batch: records is a JSON array of canonical texts, chained in
-- array order.  One statement, so the gateway's asynchronous pool commits a
-- whole group of records in one transaction.  SECURITY DEFINER: it runs as
-- the owner, so the caller needs no rights on gw.audit_head (it can never
-- move the head by hand) -- but it must hold INSERT on gw.audit: revoking
-- that privilege stops the gateway from appending (and so from answering
-- with data) at once.  Returns the seq of the last record.
create function gw.audit_append(records jsonb) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
	head_seq bigint;
	head_hash bytea;
	c text;
	r jsonb;
	h bytea;
begin
	if not has_table_privilege(session_user, 'gw.audit', 'INSERT') then
		raise exception 'role % may not append audit records', session_user
			using errcode = 'insufficient_privilege';
	end if;
	if jsonb_typeof(records) is distinct from 'array' then
		raise exception 'gw.audit_append takes a JSON array of records';
	end if;
	select a.seq, a.hash into head_seq, head_hash from gw.audit_head a for update;
	for c in select e.value from jsonb_array_elements_text(records) with ordinality as e (value, n)
	    order by e.n
	loop
		r := c::jsonb;
		head_seq := head_seq + 1;
		h := sha256(head_hash || convert_to(c, 'UTF8'));
		insert into gw.audit (seq, recorded_at, node_key, node_name, node_country,
			practitioner, organization, purpose, patient_system, patient_national_id,
			patient_logical_id, request, operation, returned_types, returned_ids,
			returned_count, decision, rule, break_glass, emergency_reason, request_id,
			traceparent, status, canonical, prev_hash, hash)
		values (head_seq, (r ->> 'time')::timestamptz, r #>> '{node,key}',
			r #>> '{node,name}', r #>> '{node,country}', r ->> 'practitioner',
			r ->> 'organization', r ->> 'purpose', r #>> '{patient,system}',
			r #>> '{patient,id}', r #>> '{patient,logical}', r ->> 'request',
			r ->> 'operation',
			array(select jsonb_array_elements_text(r #> '{returned,types}')),
			array(select jsonb_array_elements_text(r #> '{returned,ids}')),
			(r #>> '{returned,count}')::integer, r ->> 'decision', r ->> 'rule',
			(r ->> 'break_glass')::boolean, r ->> 'emergency_reason',
			r ->> 'request_id', r ->> 'traceparent', (r ->> 'status')::integer,
			c, head_hash, h);
		head_hash := h;
	end loop;
	update gw.audit_head set seq = head_seq, hash = head_hash;
	return head_seq;
end $$;

revoke all on function gw.audit_append(jsonb) from public;
grant execute on function gw.audit_append(jsonb) to fhirgw_app;
-- The switch that lets the gateway append (checked by gw.audit_append; a
-- direct INSERT is refused by the guard), and reading for GET AuditEvent.
-- Never UPDATE, DELETE or TRUNCATE.
grant insert, select on gw.audit to fhirgw_app;
revoke update, delete, truncate on gw.audit from fhirgw_app;
