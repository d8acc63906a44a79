-- 201_no_change_time.sql: every table of the Norwegian registry (no_register)
-- keeps the time each row was last written, in endret, so that a bulk export
-- with _since returns only what changed after it (docs/export.md).  The
-- patient table has had the column since 200_no_registry.sql; the clinical
-- tables get it here, and the rows they hold now take the migration's time
-- (what changed before it is not known).
--
-- An UPDATE stamps the row with its transaction's start, unless it sets
-- endret itself (a reload that carries the registry's own history).

ALTER TABLE no_register.diagnose ADD COLUMN endret timestamptz NOT NULL DEFAULT now();
ALTER TABLE no_register.legemiddel ADD COLUMN endret timestamptz NOT NULL DEFAULT now();
ALTER TABLE no_register.kritisk_informasjon ADD COLUMN endret timestamptz NOT NULL DEFAULT now();
ALTER TABLE no_register.vaksine ADD COLUMN endret timestamptz NOT NULL DEFAULT now();
ALTER TABLE no_register.provesvar ADD COLUMN endret timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION no_register.merk_endret() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.endret IS NOT DISTINCT FROM OLD.endret THEN
		NEW.endret := now();
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER pasient_endret BEFORE UPDATE ON no_register.pasient
	FOR EACH ROW EXECUTE FUNCTION no_register.merk_endret();
CREATE TRIGGER diagnose_endret BEFORE UPDATE ON no_register.diagnose
	FOR EACH ROW EXECUTE FUNCTION no_register.merk_endret();
CREATE TRIGGER legemiddel_endret BEFORE UPDATE ON no_register.legemiddel
	FOR EACH ROW EXECUTE FUNCTION no_register.merk_endret();
CREATE TRIGGER kritisk_informasjon_endret BEFORE UPDATE ON no_register.kritisk_informasjon
	FOR EACH ROW EXECUTE FUNCTION no_register.merk_endret();
CREATE TRIGGER vaksine_endret BEFORE UPDATE ON no_register.vaksine
	FOR EACH ROW EXECUTE FUNCTION no_register.merk_endret();
CREATE TRIGGER provesvar_endret BEFORE UPDATE ON no_register.provesvar
	FOR EACH ROW EXECUTE FUNCTION no_register.merk_endret();
