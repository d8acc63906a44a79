-- 012_audit_slim.sql: gw.audit keeps what the chain and its queries need --
-- seq, recorded_at, patient_logical_id, the canonical text and the two
-- hashes -- and every other field of a record is read from its canonical
-- text, through the view gw.audit_record.
--
-- Why: 010 stored each field twice, once inside the canonical text and
-- once in its own column.  That doubled the row to about 2.5 kB for a
-- $summary record, past PostgreSQL's TOAST threshold, so every insert also
-- compressed it; and the append function spent most of its time taking
-- the record apart.  Every request pays for the append; the columns were
-- only ever read by an operator's ad-hoc SQL, which the view still serves.
-- Measured on the development machine as the backend's CPU time per call,
-- 2,000 calls of $summary records (1.2 kB each), each call its own
-- transaction (docs/benchmarks.md, "The audit append"): 1 record 395 ->
-- 205 us, 4 records 560 -> 340 us, 8 records 750 -> 485 us.
--
-- What stays the same: the canonical texts, seqs and hashes of records
-- written before this migration (dropping a column rewrites nothing), so
-- the chain and `fhirgw audit-verify` see the same records; the head row;
-- the privilege switch (INSERT on gw.audit) and the guard trigger.
--
-- recorded_at's index becomes a BRIN index: records are appended in time
-- order, so a block range summary finds a time window at almost no cost
-- per insert.  GET AuditEvent selects by patient_logical_id, whose B-tree
-- stays.

alter table gw.audit
	drop column node_key,
	drop column node_name,
	drop column node_country,
	drop column practitioner,
	drop column organization,
	drop column purpose,
	drop column patient_system,
	drop column patient_national_id,
	drop column request,
	drop column operation,
	drop column returned_types,
	drop column returned_ids,
	drop column returned_count,
	drop column decision,
	drop column rule,
	drop column break_glass,
	drop column emergency_reason,
	drop column request_id,
	drop column traceparent,
	drop column status;

drop index gw.audit_recorded;
create index audit_recorded on gw.audit using brin (recorded_at);

-- Append a batch: records are canonical texts, chained in array order.
-- The gateway passes a text[] (cheaper to read than 011's JSON array of
-- JSON strings, which PostgreSQL parsed twice).  The two columns are
-- derived here from the canonical text, never taken from the caller, so a
-- row cannot disagree with its own record.  Returns the seq of the last
-- record.
create function gw.audit_append(records text[]) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
	head_seq bigint;
	head_hash bytea;
	-- hashes[1] is the head before the batch; record i is chained from
	-- hashes[i] to hashes[i + 1].
	hashes bytea[];
	n integer;
begin
	if not has_table_privilege(session_user, 'gw.audit', 'INSERT') then
		raise exception 'role % may not append audit records', session_user
			using errcode = 'insufficient_privilege';
	end if;
	if records is null or array_ndims(records) is distinct from 1 then
		raise exception 'gw.audit_append takes a one-dimensional array of records';
	end if;
	select a.seq, a.hash into head_seq, head_hash from gw.audit_head a for update;
	n := cardinality(records);
	hashes := array[head_hash];
	for i in 1 .. n loop
		head_hash := sha256(head_hash || convert_to(records[i], 'UTF8'));
		hashes := hashes || head_hash;
	end loop;
	insert into gw.audit (seq, recorded_at, patient_logical_id, canonical,
		prev_hash, hash)
	select head_seq + u.i, (u.r ->> 'time')::timestamptz,
		u.r #>> '{patient,logical}', u.c, hashes[u.i], hashes[u.i + 1]
	-- OFFSET 0 keeps the cast to jsonb to one parse per record.
	from (select x.i, x.c, x.c::jsonb as r
		from unnest(records) with ordinality as x (c, i) offset 0) u;
	head_seq := head_seq + n;
	update gw.audit_head set seq = head_seq, hash = head_hash;
	return head_seq;
end $$;

revoke all on function gw.audit_append(text[]) from public;
grant execute on function gw.audit_append(text[]) to fhirgw_app;

-- 011's signature stays and forwards, so a gateway of the previous release
-- keeps recording while a rolling upgrade replaces it.
create or replace function gw.audit_append(records jsonb) returns bigint
language sql security definer set search_path = pg_catalog, pg_temp as $$
	select gw.audit_append(array(select e.value
		from jsonb_array_elements_text(records) with ordinality as e (value, n)
		order by e.n))
$$;

-- Every field of every record, as the columns of 010 had them: for an
-- operator's SQL (who accessed what, by node, purpose or decision).  Read
-- from the canonical text, so it can never disagree with the chain.  Owner
-- only, like the table's other readers; grant it where an operator needs it.
create view gw.audit_record as
select a.seq, a.recorded_at,
	r #>> '{node,key}' as node_key,
	r #>> '{node,name}' as node_name,
	r #>> '{node,country}' as node_country,
	r ->> 'practitioner' as practitioner,
	r ->> 'organization' as organization,
	r ->> 'purpose' as purpose,
	r #>> '{patient,system}' as patient_system,
	r #>> '{patient,id}' as patient_national_id,
	a.patient_logical_id,
	r ->> 'request' as request,
	r ->> 'operation' as operation,
	array(select jsonb_array_elements_text(r #> '{returned,types}')) as returned_types,
	array(select jsonb_array_elements_text(r #> '{returned,ids}')) as returned_ids,
	(r #>> '{returned,count}')::integer as returned_count,
	r ->> 'decision' as decision,
	r ->> 'rule' as rule,
	(r ->> 'break_glass')::boolean as break_glass,
	r ->> 'emergency_reason' as emergency_reason,
	r ->> 'request_id' as request_id,
	r ->> 'traceparent' as traceparent,
	(r ->> 'status')::integer as status,
	a.canonical, a.prev_hash, a.hash
from gw.audit a, lateral (select a.canonical::jsonb as r) j;
