-- 200_no_registry.sql: the Norwegian registry in its own shape and
-- vocabulary (schema no_register, kjernejournal-like), read by the NO
-- adapter (adapters/no/adapter_no.c) and filled by its seeder
-- (adapters/no/seed_no.c).  Patients are keyed by pasient.id (the adapter's
-- registry_key); every clinical table points at its patient.  fhir_id is
-- the opaque logical-id token (keyed hash of the folkeregisteridentifikator),
-- so Patient/no-<token> resolves with one index look-up and carries no
-- personal data.
-- Readable by the gateway's runtime role through the default privileges of
-- 005_app_role.sql; no grants of its own.
-- The gateway's migrate runs this file once, inside a transaction.

CREATE SCHEMA no_register;
COMMENT ON SCHEMA no_register IS
	'Synthetic Norwegian registry (folkeregister- og kjernejournalopplysninger) for the NO adapter';

-- Pasient: one row per person.  folkeregisterident is the fødselsnummer or
-- D-nummer (identtype says which); in this synthetic registry every number
-- is from the Tenor-style test series (month + 80).
CREATE TABLE no_register.pasient (
	id		bigint PRIMARY KEY,
	folkeregisterident text NOT NULL CHECK (folkeregisterident ~ '^[0-9]{11}$'),
	identtype	text NOT NULL CHECK (identtype IN ('fnr', 'dnr')),
	fhir_id		text NOT NULL CHECK (fhir_id ~ '^[a-z2-7]{1,60}$'),
	fornavn		text NOT NULL,		-- space-separated given names
	mellomnavn	text,
	etternavn	text NOT NULL,
	kjonn		text CHECK (kjonn IN ('mann', 'kvinne', 'ukjent')),
	fodselsdato	date NOT NULL,
	kommunenummer	text CHECK (kommunenummer ~ '^[0-9]{4}$'),	-- '5430' Guovdageaidnu - Kautokeino
	kommunenavn	text,			-- the official name, Sámi forms included
	adresse		text,
	postnummer	text CHECK (postnummer ~ '^[0-9]{4}$'),
	poststed	text,
	telefon		text,
	sprak		text CHECK (sprak IN ('nb', 'nn', 'se', 'smj', 'sma', 'en', 'pl', 'lt')),	-- kommunikasjonsspråk
	dodsdato	date CHECK (dodsdato IS NULL OR dodsdato >= fodselsdato),
	endret		timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT pasient_folkeregisterident_key UNIQUE (folkeregisterident),
	CONSTRAINT pasient_fhir_id_key UNIQUE (fhir_id)
);

-- Diagnoser: ICD-10 (spesialisthelsetjenesten) or ICPC-2 (fastlegen), the
-- kodeverk column says which.
CREATE TABLE no_register.diagnose (
	id		bigserial PRIMARY KEY,
	pasient_id	bigint NOT NULL,
	kodeverk	text NOT NULL CHECK (kodeverk IN ('ICD-10', 'ICPC-2')),
	kode		text NOT NULL,
	tekst		text NOT NULL,
	status		text NOT NULL CHECK (status IN ('aktiv', 'avsluttet')),
	diagnosedato	date,
	registrert	timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT diagnose_pasient_fk FOREIGN KEY (pasient_id)
		REFERENCES no_register.pasient (id) ON DELETE CASCADE
);
CREATE INDEX diagnose_pasient_idx ON no_register.diagnose (pasient_id);

-- Legemidler (legemiddelliste): ATC, preparat and dosering.
CREATE TABLE no_register.legemiddel (
	id		bigserial PRIMARY KEY,
	pasient_id	bigint NOT NULL,
	atc		text NOT NULL CHECK (atc ~ '^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$'),
	preparat	text NOT NULL,
	styrke		text,
	dosering	text,
	startdato	date NOT NULL,
	sluttdato	date CHECK (sluttdato IS NULL OR sluttdato >= startdato),
	status		text NOT NULL CHECK (status IN ('aktiv', 'avsluttet', 'seponert')),
	CONSTRAINT legemiddel_pasient_fk FOREIGN KEY (pasient_id)
		REFERENCES no_register.pasient (id) ON DELETE CASCADE
);
CREATE INDEX legemiddel_pasient_idx ON no_register.legemiddel (pasient_id);

-- Kritisk informasjon: allergier og intoleranser.  The agent is an ATC
-- code (legemidler) or a SNOMED CT substance code (numeric).
CREATE TABLE no_register.kritisk_informasjon (
	id		bigserial PRIMARY KEY,
	pasient_id	bigint NOT NULL,
	type		text NOT NULL CHECK (type IN ('allergi', 'intoleranse')),
	agens_kode	text NOT NULL,
	agens_tekst	text NOT NULL,
	reaksjon	text,
	alvorlighet	text CHECK (alvorlighet IN ('lett', 'moderat', 'alvorlig')),
	kritikalitet	text CHECK (kritikalitet IN ('lav', 'høy', 'kan ikke vurderes')),
	sikkerhet	text NOT NULL DEFAULT 'bekreftet'
			CHECK (sikkerhet IN ('bekreftet', 'mistenkt')),
	registrert_dato	date,
	CONSTRAINT kritisk_informasjon_pasient_fk FOREIGN KEY (pasient_id)
		REFERENCES no_register.pasient (id) ON DELETE CASCADE
);
CREATE INDEX kritisk_informasjon_pasient_idx
	ON no_register.kritisk_informasjon (pasient_id);

-- Vaksiner (SYSVAK-like): vaccine ATC (J07...).
CREATE TABLE no_register.vaksine (
	id		bigserial PRIMARY KEY,
	pasient_id	bigint NOT NULL,
	atc		text NOT NULL CHECK (atc ~ '^J07[A-Z]{2}[0-9]{2}$'),
	vaksinenavn	text NOT NULL,
	vaksinasjonsdato date NOT NULL,
	dosenummer	integer CHECK (dosenummer >= 1),
	batchnummer	text,
	CONSTRAINT vaksine_pasient_fk FOREIGN KEY (pasient_id)
		REFERENCES no_register.pasient (id) ON DELETE CASCADE
);
CREATE INDEX vaksine_pasient_idx ON no_register.vaksine (pasient_id);

-- Prøvesvar: the analysis code of Norsk laboratoriekodeverk (NPU or NOR
-- codes) and its name ('P-Kreatinin'), LOINC where the registry carries
-- the mapping, the value in a UCUM unit.
CREATE TABLE no_register.provesvar (
	id		bigserial PRIMARY KEY,
	pasient_id	bigint NOT NULL,
	analysekode	text NOT NULL CHECK (analysekode ~ '^(NPU|NOR)[0-9]{5}$'),
	analysenavn	text NOT NULL,
	loinc		text CHECK (loinc ~ '^[0-9]{1,7}-[0-9]$'),
	resultat	numeric NOT NULL,
	enhet		text NOT NULL,
	referanse_nedre	numeric,
	referanse_ovre	numeric,
	provetaking	timestamptz NOT NULL,
	CONSTRAINT provesvar_pasient_fk FOREIGN KEY (pasient_id)
		REFERENCES no_register.pasient (id) ON DELETE CASCADE
);
CREATE INDEX provesvar_pasient_idx ON no_register.provesvar (pasient_id);
