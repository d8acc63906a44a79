-- 202_no_section_order.sql: each clinical table of the Norwegian registry
-- (no_register) is indexed in the order the gateway reads a patient's rows:
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

CREATE INDEX kritisk_informasjon_pasient_order_idx
	ON no_register.kritisk_informasjon (pasient_id, registrert_dato DESC NULLS LAST, id DESC);
DROP INDEX no_register.kritisk_informasjon_pasient_idx;
CREATE INDEX diagnose_pasient_order_idx
	ON no_register.diagnose (pasient_id, diagnosedato DESC NULLS LAST, id DESC);
DROP INDEX no_register.diagnose_pasient_idx;
CREATE INDEX legemiddel_pasient_order_idx
	ON no_register.legemiddel (pasient_id, startdato DESC NULLS LAST, id DESC);
DROP INDEX no_register.legemiddel_pasient_idx;
CREATE INDEX vaksine_pasient_order_idx
	ON no_register.vaksine (pasient_id, vaksinasjonsdato DESC NULLS LAST, id DESC);
DROP INDEX no_register.vaksine_pasient_idx;
CREATE INDEX provesvar_pasient_order_idx
	ON no_register.provesvar (pasient_id, provetaking DESC NULLS LAST, id DESC);
DROP INDEX no_register.provesvar_pasient_idx;
