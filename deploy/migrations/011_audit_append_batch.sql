-- 011_audit_append_batch.sql: gw.audit_append inserts a whole batch with one
-- INSERT statement.
--
-- Why: 010 inserted record by record, and the statement-level guard trigger
-- (a catalogue lookup) plus the per-statement executor start-up ran once per
-- record.  Measured on the development machine with batches of 8 $summary
-- records: 83 us per record before, 60-70 us after (tests/bench/audit_cost.py
-- and docs/benchmarks.md have the end-to-end effect).  The chain is unchanged:
-- hashes are still computed here, in array order, under the locked head row,
-- so gateways written against 010 and audit-verify see the same records.

create or replace function gw.audit_append(records jsonb) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
	head_seq bigint;
	head_hash bytea;
	texts text[];
	-- hashes[1] is the head before the batch; record i is chained from
	-- hashes[i] to hashes[i + 1].
	hashes bytea[];
	n integer;
begin
	if not has_table_privilege(session_user, 'gw.audit', 'INSERT') then
		raise exception 'role % may not append audit records', session_user
			using errcode = 'insufficient_privilege';
	end if;
	if jsonb_typeof(records) is distinct from 'array' then
		raise exception 'gw.audit_append takes a JSON array of records';
	end if;
	select a.seq, a.hash into head_seq, head_hash from gw.audit_head a for update;
	texts := array(select e.value from jsonb_array_elements_text(records)
		with ordinality as e (value, n) order by e.n);
	n := cardinality(texts);
	hashes := array[head_hash];
	for i in 1 .. n loop
		head_hash := sha256(head_hash || convert_to(texts[i], 'UTF8'));
		hashes := hashes || head_hash;
	end loop;
	insert into gw.audit (seq, recorded_at, node_key, node_name, node_country,
		practitioner, organization, purpose, patient_system, patient_national_id,
		patient_logical_id, request, operation, returned_types, returned_ids,
		returned_count, decision, rule, break_glass, emergency_reason, request_id,
		traceparent, status, canonical, prev_hash, hash)
	select head_seq + s.i, (r ->> 'time')::timestamptz, r #>> '{node,key}',
		r #>> '{node,name}', r #>> '{node,country}', r ->> 'practitioner',
		r ->> 'organization', r ->> 'purpose', r #>> '{patient,system}',
		r #>> '{patient,id}', r #>> '{patient,logical}', r ->> 'request',
		r ->> 'operation',
		array(select jsonb_array_elements_text(r #> '{returned,types}')),
		array(select jsonb_array_elements_text(r #> '{returned,ids}')),
		(r #>> '{returned,count}')::integer, r ->> 'decision', r ->> 'rule',
		(r ->> 'break_glass')::boolean, r ->> 'emergency_reason',
		r ->> 'request_id', r ->> 'traceparent', (r ->> 'status')::integer,
		texts[s.i], hashes[s.i], hashes[s.i + 1]
	-- OFFSET 0 keeps the cast to jsonb to one parse per record.
	from (select g.i, texts[g.i]::jsonb as r
		from generate_series(1, n) as g (i) offset 0) s;
	head_seq := head_seq + n;
	update gw.audit_head set seq = head_seq, hash = head_hash;
	return head_seq;
end $$;

revoke all on function gw.audit_append(jsonb) from public;
grant execute on function gw.audit_append(jsonb) to fhirgw_app;
