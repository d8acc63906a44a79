-- 102_fi_section_order.sql: each clinical table of the Finnish registry
-- (fi_rekisteri) is indexed in the order the gateway reads a patient's rows:
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

CREATE INDEX allergia_henkilo_order_idx
	ON fi_rekisteri.allergia (henkilo_id, todettu DESC NULLS LAST, id DESC);
DROP INDEX fi_rekisteri.allergia_henkilo_idx;
CREATE INDEX diagnoosi_henkilo_order_idx
	ON fi_rekisteri.diagnoosi (henkilo_id, todettu DESC NULLS LAST, id DESC);
DROP INDEX fi_rekisteri.diagnoosi_henkilo_idx;
CREATE INDEX laakitys_henkilo_order_idx
	ON fi_rekisteri.laakitys (henkilo_id, aloitettu DESC NULLS LAST, id DESC);
DROP INDEX fi_rekisteri.laakitys_henkilo_idx;
CREATE INDEX rokotus_henkilo_order_idx
	ON fi_rekisteri.rokotus (henkilo_id, annettu DESC NULLS LAST, id DESC);
DROP INDEX fi_rekisteri.rokotus_henkilo_idx;
CREATE INDEX laboratoriotulos_henkilo_order_idx
	ON fi_rekisteri.laboratoriotulos (henkilo_id, otettu DESC NULLS LAST, id DESC);
DROP INDEX fi_rekisteri.laboratoriotulos_henkilo_idx;
