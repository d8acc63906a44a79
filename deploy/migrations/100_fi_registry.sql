-- 100_fi_registry.sql: the Finnish national registry in its own shape and
-- vocabulary (schema fi_rekisteri), read by the FI adapter
-- (adapters/fi/adapter_fi.c) and filled by its seeder (adapters/fi/seed_fi.c).
-- Persons are keyed by henkilo.id (the adapter's registry_key); every
-- clinical table points at its person.  fhir_tunniste is the opaque
-- logical-id token (keyed hash of the HETU), so Patient/fi-<token> resolves
-- with one index look-up and carries no personal data.
-- The gateway's migrate runs this file once, inside a transaction.

CREATE SCHEMA fi_rekisteri;
COMMENT ON SCHEMA fi_rekisteri IS
	'Synthetic Finnish national registry (väestö- ja potilastiedot) for the FI adapter';

-- Väestötiedot: one row per person.
CREATE TABLE fi_rekisteri.henkilo (
	id		bigint PRIMARY KEY,
	hetu		text NOT NULL CHECK (length(hetu) = 11),
	fhir_tunniste	text NOT NULL CHECK (fhir_tunniste ~ '^[a-z2-7]{1,60}$'),
	sukunimi	text NOT NULL,
	etunimet	text NOT NULL,		-- space-separated given names
	kutsumanimi	text,			-- the given name in daily use
	sukupuoli	text CHECK (sukupuoli IN ('1', '2')),	-- 1 mies, 2 nainen
	syntymaaika	date NOT NULL,
	kotikunta	text CHECK (kotikunta ~ '^[0-9]{3}$'),	-- kuntakoodi, '091' Helsinki
	kotikunta_nimi	text,
	lahiosoite	text,
	postinumero	text CHECK (postinumero ~ '^[0-9]{5}$'),
	postitoimipaikka text,
	puhelin		text,
	aidinkieli	text CHECK (aidinkieli IN ('fi', 'sv', 'se')),	-- se: pohjoissaame
	kuolinpaiva	date CHECK (kuolinpaiva IS NULL OR kuolinpaiva >= syntymaaika),
	muutettu	timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT henkilo_hetu_key UNIQUE (hetu),
	CONSTRAINT henkilo_fhir_tunniste_key UNIQUE (fhir_tunniste)
);
-- The two UNIQUE constraints are the indexes on hetu and fhir_tunniste.

-- Diagnoosit (ICD-10, Finnish edition).
CREATE TABLE fi_rekisteri.diagnoosi (
	id		bigserial PRIMARY KEY,
	henkilo_id	bigint NOT NULL,
	icd10		text NOT NULL,
	nimi_fi		text NOT NULL,
	tila		text NOT NULL CHECK (tila IN ('aktiivinen', 'ratkaistu')),
	pysyvyys	text CHECK (pysyvyys IN ('pysyvä', 'tilapäinen')),
	todettu		date,
	kirjattu	timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT diagnoosi_henkilo_fk FOREIGN KEY (henkilo_id)
		REFERENCES fi_rekisteri.henkilo (id) ON DELETE CASCADE
);
CREATE INDEX diagnoosi_henkilo_idx ON fi_rekisteri.diagnoosi (henkilo_id);

-- Lääkitys: ATC and, where known, the Nordic article number (VNR).
CREATE TABLE fi_rekisteri.laakitys (
	id		bigserial PRIMARY KEY,
	henkilo_id	bigint NOT NULL,
	atc		text NOT NULL CHECK (atc ~ '^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$'),
	vnr		text CHECK (vnr ~ '^[0-9]{6}$'),
	valmiste	text NOT NULL,
	vahvuus		text,
	annostus	text,
	aloitettu	date NOT NULL,
	lopetettu	date CHECK (lopetettu IS NULL OR lopetettu >= aloitettu),
	tila		text NOT NULL CHECK (tila IN ('aktiivinen', 'lopetettu', 'keskeytetty')),
	CONSTRAINT laakitys_henkilo_fk FOREIGN KEY (henkilo_id)
		REFERENCES fi_rekisteri.henkilo (id) ON DELETE CASCADE
);
CREATE INDEX laakitys_henkilo_idx ON fi_rekisteri.laakitys (henkilo_id);

-- Allergiat ja intoleranssit: the agent is an ATC code (medicines) or a
-- SNOMED CT substance code (numeric).
CREATE TABLE fi_rekisteri.allergia (
	id		bigserial PRIMARY KEY,
	henkilo_id	bigint NOT NULL,
	aiheuttaja_koodi text NOT NULL,
	aiheuttaja_nimi	text NOT NULL,
	reaktio		text,
	vakavuus	text CHECK (vakavuus IN ('lievä', 'kohtalainen', 'vakava')),
	kriittisyys	text CHECK (kriittisyys IN ('matala', 'korkea', 'ei arvioitavissa')),
	todettu		date,
	CONSTRAINT allergia_henkilo_fk FOREIGN KEY (henkilo_id)
		REFERENCES fi_rekisteri.henkilo (id) ON DELETE CASCADE
);
CREATE INDEX allergia_henkilo_idx ON fi_rekisteri.allergia (henkilo_id);

-- Rokotukset (vaccine ATC, J07...).
CREATE TABLE fi_rekisteri.rokotus (
	id		bigserial PRIMARY KEY,
	henkilo_id	bigint NOT NULL,
	rokote_atc	text NOT NULL CHECK (rokote_atc ~ '^J07[A-Z]{2}[0-9]{2}$'),
	rokote_nimi	text NOT NULL,
	annettu		date NOT NULL,
	annos_nro	integer CHECK (annos_nro >= 1),
	"erä"		text,
	CONSTRAINT rokotus_henkilo_fk FOREIGN KEY (henkilo_id)
		REFERENCES fi_rekisteri.henkilo (id) ON DELETE CASCADE
);
CREATE INDEX rokotus_henkilo_idx ON fi_rekisteri.rokotus (henkilo_id);

-- Laboratoriotulokset: the Finnish laboratory nomenclature code and
-- abbreviation ('P-Krea'), LOINC where the registry carries the mapping,
-- the value in a UCUM unit.
CREATE TABLE fi_rekisteri.laboratoriotulos (
	id		bigserial PRIMARY KEY,
	henkilo_id	bigint NOT NULL,
	tutkimus_koodi	text NOT NULL,
	tutkimus_lyhenne text NOT NULL,
	tutkimus_nimi	text NOT NULL,
	loinc		text CHECK (loinc ~ '^[0-9]{1,7}-[0-9]$'),
	tulos		numeric NOT NULL,
	yksikko		text NOT NULL,
	viitevali_ala	numeric,
	viitevali_yla	numeric,
	otettu		timestamptz NOT NULL,
	CONSTRAINT laboratoriotulos_henkilo_fk FOREIGN KEY (henkilo_id)
		REFERENCES fi_rekisteri.henkilo (id) ON DELETE CASCADE
);
CREATE INDEX laboratoriotulos_henkilo_idx
	ON fi_rekisteri.laboratoriotulos (henkilo_id);
