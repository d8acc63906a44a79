-- 300_se_registry.sql: the Swedish registry in its own shape and
-- vocabulary (schema se_register, NPÖ-like), read by the SE adapter
-- (adapters/se/adapter_se.c) and filled by its seeder
-- (adapters/se/seed_se.c).  Patients are keyed by patient.id (the adapter's
-- registry_key); every clinical table points at its patient.  fhir_id is
-- the opaque logical-id token (keyed hash of the 12-digit personid), so
-- Patient/se-<token> resolves with one index look-up and carries no
-- personal data.
-- Readable by the gateway's runtime role through the default privileges of
-- 005_app_role.sql; no grants of its own.
-- The gateway's migrate runs this file once, inside a transaction.

CREATE SCHEMA se_register;
COMMENT ON SCHEMA se_register IS
	'Synthetic Swedish registry (folkbokförings- och journaluppgifter, NPÖ-liknande) for the SE adapter';

-- Patient: one row per person.  personid is the personnummer or the
-- samordningsnummer (personid_typ says which), always with 12 digits.
CREATE TABLE se_register.patient (
	id		bigint PRIMARY KEY,
	personid	text NOT NULL CHECK (personid ~ '^(18|19|20)[0-9]{10}$'),
	personid_typ	text NOT NULL CHECK (personid_typ IN ('personnummer', 'samordningsnummer')),
	fhir_id		text NOT NULL CHECK (fhir_id ~ '^[a-z2-7]{1,60}$'),
	fornamn		text NOT NULL,		-- space-separated given names
	tilltalsnamn	text,			-- the given name in daily use
	efternamn	text NOT NULL,
	kon		text CHECK (kon IN ('M', 'K')),	-- man, kvinna
	fodelsedatum	date NOT NULL,
	kommunkod	text CHECK (kommunkod ~ '^[0-9]{4}$'),	-- '2510' Jokkmokk
	kommun		text,
	kommun_samiskt_namn text,		-- 'Jåhkåmåhkke', in the Sámi administrative area
	kommun_samiskt_sprak text CHECK (kommun_samiskt_sprak IN ('se', 'smj', 'sma', 'sje', 'sju')),
	gatuadress	text,
	postnummer	text CHECK (postnummer ~ '^[0-9]{5}$'),
	postort		text,
	telefon		text,
	sprak		text CHECK (sprak IN ('sv', 'se', 'smj', 'sma', 'sje', 'sju', 'fi', 'fit', 'en', 'ar')),
	avliden_datum	date CHECK (avliden_datum IS NULL OR avliden_datum >= fodelsedatum),
	andrad		timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT patient_personid_key UNIQUE (personid),
	CONSTRAINT patient_fhir_id_key UNIQUE (fhir_id),
	CONSTRAINT patient_samiskt_namn CHECK ((kommun_samiskt_namn IS NULL) = (kommun_samiskt_sprak IS NULL))
);

-- Diagnoser: ICD-10-SE (slutenvård, specialistvård) or KSH97-P
-- (primärvård); kodverk says which.
CREATE TABLE se_register.diagnos (
	id		bigserial PRIMARY KEY,
	patient_id	bigint NOT NULL,
	kodverk		text NOT NULL CHECK (kodverk IN ('ICD-10-SE', 'KSH97-P')),
	kod		text NOT NULL,
	benamning	text NOT NULL,
	status		text NOT NULL CHECK (status IN ('aktuell', 'avslutad')),
	diagnosdatum	date,
	registrerad	timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT diagnos_patient_fk FOREIGN KEY (patient_id)
		REFERENCES se_register.patient (id) ON DELETE CASCADE
);
CREATE INDEX diagnos_patient_idx ON se_register.diagnos (patient_id);

-- Läkemedel (läkemedelslista): ATC, läkemedelsnamn and dosering.
CREATE TABLE se_register.lakemedel (
	id		bigserial PRIMARY KEY,
	patient_id	bigint NOT NULL,
	atc		text NOT NULL CHECK (atc ~ '^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$'),
	lakemedelsnamn	text NOT NULL,
	styrka		text,
	dosering	text,
	startdatum	date NOT NULL,
	slutdatum	date CHECK (slutdatum IS NULL OR slutdatum >= startdatum),
	status		text NOT NULL CHECK (status IN ('aktuell', 'avslutad', 'utsatt')),
	CONSTRAINT lakemedel_patient_fk FOREIGN KEY (patient_id)
		REFERENCES se_register.patient (id) ON DELETE CASCADE
);
CREATE INDEX lakemedel_patient_idx ON se_register.lakemedel (patient_id);

-- Uppmärksamhetssignal: the warning signal of the Swedish record.  Only
-- 'överkänslighet' (hypersensitivity: the agent is an ATC code or a
-- SNOMED CT substance) is an allergy; the other kinds are warnings about
-- treatment, infection or limits of care, and the adapter leaves them out.
CREATE TABLE se_register.uppmarksamhetssignal (
	id		bigserial PRIMARY KEY,
	patient_id	bigint NOT NULL,
	signaltyp	text NOT NULL CHECK (signaltyp IN ('överkänslighet', 'behandling', 'smitta', 'vårdbegränsning')),
	agens_kod	text,
	agens_namn	text,
	reaktion	text,
	allvarlighetsgrad text CHECK (allvarlighetsgrad IN ('lindrig', 'måttlig', 'allvarlig')),
	kritikalitet	text CHECK (kritikalitet IN ('låg', 'hög', 'ej bedömbar')),
	visshetsgrad	text NOT NULL DEFAULT 'bekräftad' CHECK (visshetsgrad IN ('bekräftad', 'misstänkt')),
	beskrivning	text,
	registrerad	date,
	CONSTRAINT uppmarksamhetssignal_agens CHECK (signaltyp <> 'överkänslighet'
		OR (agens_kod IS NOT NULL AND agens_namn IS NOT NULL)),
	CONSTRAINT uppmarksamhetssignal_patient_fk FOREIGN KEY (patient_id)
		REFERENCES se_register.patient (id) ON DELETE CASCADE
);
CREATE INDEX uppmarksamhetssignal_patient_idx
	ON se_register.uppmarksamhetssignal (patient_id);

-- Vaccinationer (vaccine ATC, J07...).
CREATE TABLE se_register.vaccination (
	id		bigserial PRIMARY KEY,
	patient_id	bigint NOT NULL,
	atc		text NOT NULL CHECK (atc ~ '^J07[A-Z]{2}[0-9]{2}$'),
	vaccinnamn	text NOT NULL,
	vaccinationsdatum date NOT NULL,
	dosnummer	integer CHECK (dosnummer >= 1),
	batchnummer	text,
	CONSTRAINT vaccination_patient_fk FOREIGN KEY (patient_id)
		REFERENCES se_register.patient (id) ON DELETE CASCADE
);
CREATE INDEX vaccination_patient_idx ON se_register.vaccination (patient_id);

-- Labbsvar: the NPU analysis code and its Swedish name ('P-Kreatinin'),
-- LOINC where the registry carries the mapping, the value in a UCUM unit
-- (enzymes in µkat/L, as Swedish laboratories report them).
CREATE TABLE se_register.labbsvar (
	id		bigserial PRIMARY KEY,
	patient_id	bigint NOT NULL,
	analyskod	text NOT NULL CHECK (analyskod ~ '^NPU[0-9]{5}$'),
	analysnamn	text NOT NULL,
	loinc		text CHECK (loinc ~ '^[0-9]{1,7}-[0-9]$'),
	resultat	numeric NOT NULL,
	enhet		text NOT NULL,
	ref_lag		numeric,
	ref_hog		numeric,
	provtagning	timestamptz NOT NULL,
	CONSTRAINT labbsvar_patient_fk FOREIGN KEY (patient_id)
		REFERENCES se_register.patient (id) ON DELETE CASCADE
);
CREATE INDEX labbsvar_patient_idx ON se_register.labbsvar (patient_id);
