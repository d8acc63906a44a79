-- 030_export.sql: secondary use (DESIGN.md §7, docs/export.md).
--
-- A data permit is what a Health Data Access Body issued: which nodes may
-- export, which resource types, which cohort (explicit members and/or
-- criteria), for how long, and how coarse dates are.  Its secret keys the
-- pseudonyms (HMAC-SHA256): it is made by `fhirgw permit-add` with
-- RAND_bytes, is never exported, printed or served, and differs per
-- permit, so pseudonyms are stable inside one permit and unlinkable across
-- permits.  Jobs and files are the state of `$export`; a job is taken with
-- FOR UPDATE SKIP LOCKED and its position (last registry key and file
-- number) is committed with each finished file, so a killed runner resumes
-- where it stopped.
create table gw.data_permit (
	id		text primary key check (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
	project		text not null default '',
	-- Nodes allowed to export, by gw.node.name or gw.node.key_sha256.
	nodes		text[] not null check (cardinality(nodes) > 0),
	resource_types	text[] not null check (cardinality(resource_types) > 0),
	-- Cohort: explicit members ("system|national id") and/or criteria.
	-- With neither, the permit selects nobody (fail closed).
	members		text[] not null default '{}',
	country		text check (country ~ '^[A-Z]{2}$'),
	icd10_prefixes	text[] not null default '{}',
	birth_year_from	integer,
	birth_year_to	integer,
	valid_from	timestamptz not null default now(),
	valid_to	timestamptz not null,
	secret		bytea not null check (length(secret) >= 32),
	date_precision	text not null default 'year'
			check (date_precision in ('year', 'month')),
	created_at	timestamptz not null default now(),
	check (valid_to > valid_from),
	check (cardinality(members) > 0 or country is not null
	    or cardinality(icd10_prefixes) > 0
	    or birth_year_from is not null or birth_year_to is not null)
);

create table gw.export_job (
	id		uuid primary key default gen_random_uuid(),
	permit		text not null references gw.data_permit (id),
	node		text not null,	-- gw.node.key_sha256 of the requester
	types		text[] not null,
	since		timestamptz,
	request		text not null,	-- the request URL, for the manifest
	state		text not null default 'queued'
			check (state in ('queued', 'running', 'done', 'failed',
			    'cancelled', 'expired')),
	owner		text,		-- runner holding the job
	heartbeat	timestamptz,
	-- Position: "CC:key", the registry and the last registry key whose
	-- rows are in committed files ('' = not started), and the next file
	-- number.
	after_key	text not null default '',
	next_file	integer not null default 1,
	progress	text not null default '',
	transaction_time timestamptz not null default now(),
	error		text,
	created_at	timestamptz not null default now()
);
create index export_job_state on gw.export_job (state, created_at);

create table gw.export_file (
	job		uuid not null references gw.export_job (id) on delete cascade,
	name		text not null,	-- "Condition.1.ndjson"
	type		text not null,
	lines		bigint not null check (lines >= 0),
	complete	boolean not null default false,
	created_at	timestamptz not null default now(),
	primary key (job, name)
);

-- The runtime role reads permits (the runner needs the secret) and runs
-- jobs; it never creates or changes a permit (permit-add runs as owner).
grant select on gw.data_permit to fhirgw_app;
grant select, insert, update on gw.export_job to fhirgw_app;
grant select, insert, update, delete on gw.export_file to fhirgw_app;
