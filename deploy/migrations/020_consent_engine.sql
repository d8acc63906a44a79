-- Consent engine: every rule is also a FHIR Consent (source_consent_id is
-- its logical id; a PUT revokes the old row and inserts a new one with the
-- same id, so history is kept), and every change is announced on the
-- gw_consent channel so that each worker's decision cache drops it at once.
update gw.consent_rule set source_consent_id = gen_random_uuid()::text
	where source_consent_id is null;
alter table gw.consent_rule
	alter column source_consent_id set default gen_random_uuid()::text,
	alter column source_consent_id set not null;
create index consent_rule_source on gw.consent_rule (source_consent_id, id);

create function gw.consent_rule_notify() returns trigger
language plpgsql as $$
begin
	if tg_op in ('UPDATE', 'DELETE') then
		perform pg_notify('gw_consent',
		    old.patient_system || '|' || old.patient_id);
	end if;
	if tg_op in ('INSERT', 'UPDATE') then
		perform pg_notify('gw_consent',
		    new.patient_system || '|' || new.patient_id);
	end if;
	return null;
end $$;

create trigger consent_rule_notify
	after insert or update or delete on gw.consent_rule
	for each row execute function gw.consent_rule_notify();

create function gw.consent_default_notify() returns trigger
language plpgsql as $$
begin
	perform pg_notify('gw_consent', '*');
	return null;
end $$;

create trigger consent_default_notify
	after insert or update or delete or truncate on gw.consent_default
	for each statement execute function gw.consent_default_notify();

-- History is kept: a rule is revoked, never deleted.
create function gw.consent_rule_no_delete() returns trigger
language plpgsql as $$
begin
	raise exception 'consent rules are revoked, never deleted';
end $$;

create trigger consent_rule_no_delete
	before delete on gw.consent_rule
	for each row execute function gw.consent_rule_no_delete();
