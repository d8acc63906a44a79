-- 014_audit_guard_rls.sql: rows enter gw.audit only through gw.audit_append,
-- now by row-level security instead of 010's statement trigger.
--
-- Why: the trigger ran a PL/pgSQL function, with a catalog query, on every
-- append: 9 % of the audit backend's CPU in a perf profile under $summary
-- load (docs/benchmarks.md, "The audit guard").  Row-level security costs
-- the append nothing: gw.audit_append runs as the table's owner, and the
-- owner is not subject to the table's policies (the table does not FORCE
-- them).
--
-- What it guards is the same.  The runtime role keeps INSERT on gw.audit,
-- because that privilege is the switch gw.audit_append checks (revoke it
-- and the gateway answers 503); with row-level security on and no INSERT
-- policy, an INSERT of its own is refused ("new row violates row-level
-- security policy"), and so is a COPY ("COPY FROM not supported with
-- row-level security"): it still cannot put an unchained row into the
-- table.  Reading is unchanged: one policy lets every row be read by any
-- role that has SELECT.  UPDATE and DELETE stay ungranted.  A superuser or
-- a role with BYPASSRLS is not held by the policy, as a superuser was not
-- held by the trigger (it could drop it); the runtime role is created as
-- neither (deploy/pg.sh init).

alter table gw.audit enable row level security;
create policy audit_read on gw.audit for select using (true);

drop trigger audit_insert_guard on gw.audit;
drop function gw.audit_insert_guard();
