-- 301_se_change_time.sql: every table of the Swedish registry (se_register)
-- keeps the time each row was last written, in andrad, so that a bulk export
-- with _since returns only what changed after it (docs/export.md).  The
-- patient table has had the column since 300_se_registry.sql; the clinical
-- tables get it here, and the rows they hold now take the migration's time
-- (what changed before it is not known).
--
-- An UPDATE stamps the row with its transaction's start, unless it sets
-- andrad itself (a reload that carries the registry's own history).

ALTER TABLE se_register.diagnos ADD COLUMN andrad timestamptz NOT NULL DEFAULT now();
ALTER TABLE se_register.lakemedel ADD COLUMN andrad timestamptz NOT NULL DEFAULT now();
ALTER TABLE se_register.uppmarksamhetssignal ADD COLUMN andrad timestamptz NOT NULL DEFAULT now();
ALTER TABLE se_register.vaccination ADD COLUMN andrad timestamptz NOT NULL DEFAULT now();
ALTER TABLE se_register.labbsvar ADD COLUMN andrad timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION se_register.markera_andrad() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.andrad IS NOT DISTINCT FROM OLD.andrad THEN
		NEW.andrad := now();
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER patient_andrad BEFORE UPDATE ON se_register.patient
	FOR EACH ROW EXECUTE FUNCTION se_register.markera_andrad();
CREATE TRIGGER diagnos_andrad BEFORE UPDATE ON se_register.diagnos
	FOR EACH ROW EXECUTE FUNCTION se_register.markera_andrad();
CREATE TRIGGER lakemedel_andrad BEFORE UPDATE ON se_register.lakemedel
	FOR EACH ROW EXECUTE FUNCTION se_register.markera_andrad();
CREATE TRIGGER uppmarksamhetssignal_andrad BEFORE UPDATE ON se_register.uppmarksamhetssignal
	FOR EACH ROW EXECUTE FUNCTION se_register.markera_andrad();
CREATE TRIGGER vaccination_andrad BEFORE UPDATE ON se_register.vaccination
	FOR EACH ROW EXECUTE FUNCTION se_register.markera_andrad();
CREATE TRIGGER labbsvar_andrad BEFORE UPDATE ON se_register.labbsvar
	FOR EACH ROW EXECUTE FUNCTION se_register.markera_andrad();
