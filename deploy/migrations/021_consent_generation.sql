-- A counter that every consent change advances, read in the same statement
-- that loads the patient.  A cached decision is used only while the counter
-- is what it was when the decision was made, so a committed change is in
-- force for the very next request on every worker of every instance, even
-- before its NOTIFY has arrived.
create table gw.consent_generation (
	one	boolean primary key default true check (one),
	value	bigint not null
);
insert into gw.consent_generation (value) values (0);
grant select on gw.consent_generation to fhirgw_app;

-- Runs with the owner's rights: the runtime role writes rules (Consent API)
-- but must not be able to move the counter by itself.
create function gw.consent_generation_bump() returns trigger
language plpgsql security definer set search_path = pg_catalog, gw as $$
begin
	update gw.consent_generation set value = value + 1;
	return null;
end $$;
revoke all on function gw.consent_generation_bump() from public;

create trigger consent_rule_generation
	after insert or update or delete on gw.consent_rule
	for each statement execute function gw.consent_generation_bump();
create trigger consent_default_generation
	after insert or update or delete or truncate on gw.consent_default
	for each statement execute function gw.consent_generation_bump();
