-- 302_se_section_order.sql: each clinical table of the Swedish registry
-- (se_register) is indexed in the order the gateway reads a patient's rows:
-- the owner, then newest first by the date the section sorts on (DESC
-- NULLS LAST), then id DESC: the ORDER BY of every $summary section and
-- search (GW_SQL_SECTION, GW_SQL_SEARCH in adapters/common/sql_common.h).
--
-- Why: with an index on the owner alone PostgreSQL sorts every section
-- of every $summary, five sorts a statement.  Ordered, each section is a
-- LIMIT over an index scan.  Measured on the benchmark's cluster (1,000
-- patients, the Finnish summary statement under pgbench -M prepared,
-- backend CPU per execution, 3 alternating runs on copies of the
-- tables): 69.5 us with the owner index, 61.0 us with these
-- (docs/benchmarks.md).
--
-- The new index replaces the owner's: its first column serves every
-- look-up by owner alone (reads, exports) as well.  On a registry in
-- use, build it with CREATE INDEX CONCURRENTLY first (docs/adapters.md).

CREATE INDEX uppmarksamhetssignal_patient_order_idx
	ON se_register.uppmarksamhetssignal (patient_id, registrerad DESC NULLS LAST, id DESC);
DROP INDEX se_register.uppmarksamhetssignal_patient_idx;
CREATE INDEX diagnos_patient_order_idx
	ON se_register.diagnos (patient_id, diagnosdatum DESC NULLS LAST, id DESC);
DROP INDEX se_register.diagnos_patient_idx;
CREATE INDEX lakemedel_patient_order_idx
	ON se_register.lakemedel (patient_id, startdatum DESC NULLS LAST, id DESC);
DROP INDEX se_register.lakemedel_patient_idx;
CREATE INDEX vaccination_patient_order_idx
	ON se_register.vaccination (patient_id, vaccinationsdatum DESC NULLS LAST, id DESC);
DROP INDEX se_register.vaccination_patient_idx;
CREATE INDEX labbsvar_patient_order_idx
	ON se_register.labbsvar (patient_id, provtagning DESC NULLS LAST, id DESC);
DROP INDEX se_register.labbsvar_patient_idx;
