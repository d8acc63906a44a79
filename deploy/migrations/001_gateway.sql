-- The gateway's own state: registered nodes and consent.  Country
-- registries live in their own schemas (100_fi_registry.sql, ...).
create schema if not exists gw;

-- National nodes, keyed by the SHA-256 (hex) of the DER SubjectPublicKeyInfo
-- of their client certificate: a re-issued certificate with the same key
-- keeps its registration, a new key needs a new row.
create table gw.node (
	key_sha256	text primary key check (key_sha256 ~ '^[0-9a-f]{64}$'),
	name		text not null,
	country		text not null check (country ~ '^[A-Z]{2}$'),
	roles		text[] not null default '{}',
	active		boolean not null default true,
	created_at	timestamptz not null default now()
);

-- What applies to a patient with no rule of their own, per data holder
-- country and purpose of use.  No row means deny (fail closed).
create table gw.consent_default (
	country		text not null check (country ~ '^[A-Z]{2}$'),
	purpose		text not null,
	decision	text not null check (decision in ('permit', 'deny')),
	emergency_override boolean not null default false,
	primary key (country, purpose)
);

-- A patient's own rules.  Revoking sets revoked_at; rows are never deleted.
create table gw.consent_rule (
	id		bigserial primary key,
	patient_system	text not null,
	patient_id	text not null,
	scope		text not null default 'treatment'
			check (scope in ('treatment', 'research')),
	decision	text not null check (decision in ('permit', 'deny')),
	purposes	text[] not null default '{}',	-- empty: every purpose
	recipient_countries text[] not null default '{}', -- empty: all
	excluded_categories text[] not null default '{}',
	valid_from	timestamptz,
	valid_to	timestamptz,
	emergency_override boolean not null default false,
	source_consent_id text,
	created_at	timestamptz not null default now(),
	revoked_at	timestamptz
);
create index consent_rule_patient on gw.consent_rule (patient_system, patient_id);

-- Treatment is opt-out in the Aurora region's default: permitted unless the
-- patient said no; research and public health need an explicit permit.
insert into gw.consent_default (country, purpose, decision, emergency_override) values
	('FI', 'TREAT', 'permit', true), ('FI', 'ETREAT', 'permit', true),
	('FI', 'HRESCH', 'deny', false), ('FI', 'PUBHLTH', 'deny', false),
	('NO', 'TREAT', 'permit', true), ('NO', 'ETREAT', 'permit', true),
	('NO', 'HRESCH', 'deny', false), ('NO', 'PUBHLTH', 'deny', false),
	('SE', 'TREAT', 'deny', true), ('SE', 'ETREAT', 'permit', true),
	('SE', 'HRESCH', 'deny', false), ('SE', 'PUBHLTH', 'deny', false);
