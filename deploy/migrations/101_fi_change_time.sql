-- 101_fi_change_time.sql: every table of the Finnish registry (fi_rekisteri)
-- keeps the time each row was last written, in muutettu, so that a bulk
-- export with _since returns only what changed after it (docs/export.md).
-- The patient table has had the column since 100_fi_registry.sql; the
-- clinical tables get it here, and the rows they hold now take the
-- migration's time (what changed before it is not known).
--
-- An UPDATE stamps the row with its transaction's start, unless it sets
-- muutettu itself (a reload that carries the registry's own history).

ALTER TABLE fi_rekisteri.diagnoosi ADD COLUMN muutettu timestamptz NOT NULL DEFAULT now();
ALTER TABLE fi_rekisteri.laakitys ADD COLUMN muutettu timestamptz NOT NULL DEFAULT now();
ALTER TABLE fi_rekisteri.allergia ADD COLUMN muutettu timestamptz NOT NULL DEFAULT now();
ALTER TABLE fi_rekisteri.rokotus ADD COLUMN muutettu timestamptz NOT NULL DEFAULT now();
ALTER TABLE fi_rekisteri.laboratoriotulos ADD COLUMN muutettu timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION fi_rekisteri.merkitse_muutettu() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.muutettu IS NOT DISTINCT FROM OLD.muutettu THEN
		NEW.muutettu := now();
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER henkilo_muutettu BEFORE UPDATE ON fi_rekisteri.henkilo
	FOR EACH ROW EXECUTE FUNCTION fi_rekisteri.merkitse_muutettu();
CREATE TRIGGER diagnoosi_muutettu BEFORE UPDATE ON fi_rekisteri.diagnoosi
	FOR EACH ROW EXECUTE FUNCTION fi_rekisteri.merkitse_muutettu();
CREATE TRIGGER laakitys_muutettu BEFORE UPDATE ON fi_rekisteri.laakitys
	FOR EACH ROW EXECUTE FUNCTION fi_rekisteri.merkitse_muutettu();
CREATE TRIGGER allergia_muutettu BEFORE UPDATE ON fi_rekisteri.allergia
	FOR EACH ROW EXECUTE FUNCTION fi_rekisteri.merkitse_muutettu();
CREATE TRIGGER rokotus_muutettu BEFORE UPDATE ON fi_rekisteri.rokotus
	FOR EACH ROW EXECUTE FUNCTION fi_rekisteri.merkitse_muutettu();
CREATE TRIGGER laboratoriotulos_muutettu BEFORE UPDATE ON fi_rekisteri.laboratoriotulos
	FOR EACH ROW EXECUTE FUNCTION fi_rekisteri.merkitse_muutettu();
