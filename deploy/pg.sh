#!/usr/bin/env bash
# deploy/pg.sh — a private PostgreSQL cluster for development and tests.
#
#   deploy/pg.sh init   DATADIR PORT   initdb (trust auth, UTF8), roles `fhirgw` (owner) and
#                                      `fhirgw_app` (the gateway's runtime role), database `fhirgw`
#   deploy/pg.sh roles  DATADIR PORT   create those roles in a running cluster made before they
#                                      existed (idempotent)
#   deploy/pg.sh createdb DATADIR PORT NAME
#                                      another database owned by `fhirgw` in the running cluster
#                                      (idempotent; the federated quickstart has one per country)
#   deploy/pg.sh start  DATADIR PORT   start it (pg_ctl -w), server log in DATADIR/log
#   deploy/pg.sh stop   DATADIR        fast shutdown of that cluster only (its postmaster.pid)
#   deploy/pg.sh status DATADIR        pg_ctl status: exit 0 running, 3 stopped, 4 no cluster
#
# Or source it and call pg_init / pg_start / pg_stop / pg_status / pg_roles with the same arguments
# (each runs in a subshell, so sourcing changes no shell option of the caller).
#
# DATADIR is the cluster's data directory itself; DATADIR/run holds its unix socket and
# DATADIR/log its server log.  It listens on 127.0.0.1:PORT only.  Connect with
#     host=127.0.0.1 port=PORT dbname=fhirgw user=fhirgw        (owner: migrate, seed, node-add)
#     host=127.0.0.1 port=PORT dbname=fhirgw user=fhirgw_app    (runtime: fhirgw serve)
# The owner owns the database and everything in it; the runtime role owns nothing and gets
# only what the migrations grant it (docs/audit.md, "Roles").
# Authentication is `trust` for local and loopback connections: development only.
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user (every
# command runs through `runuser -u postgres --`), otherwise to the current user.  That user must
# be able to reach DATADIR, so every directory above it must be searchable (o+x) by it.
# PG_BINDIR overrides where initdb/pg_ctl/psql are found (default: the newest
# /usr/lib/postgresql/*/bin, preferring 15).

pg_bindir() {
	if [[ -n ${PG_BINDIR:-} ]]; then
		echo "$PG_BINDIR"
		return
	fi
	local d
	local cands
	mapfile -t cands < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
	for d in /usr/lib/postgresql/15/bin "${cands[@]}"; do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			echo "$d"
			return
		fi
	done
	if command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v pg_ctl)"
		return
	fi
	echo "pg.sh: PostgreSQL server binaries not found (install postgresql-15, or set PG_BINDIR)" >&2
	return 1
}

# The user that owns and runs the cluster.
pg_owner() {
	if [[ $(id -u) == 0 ]]; then echo postgres; else id -un; fi
}

# _pg_as CMD...: run CMD as the cluster owner, from /, so that a cwd it cannot enter is no issue.
_pg_as() {
	if [[ $(id -u) == 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

_pg_die() {
	echo "pg.sh: $*" >&2
	exit 1
}

_pg_abs() { realpath -m -- "$1"; }

_pg_port_ok() {
	if ! [[ $1 =~ ^[0-9]+$ ]] || ((10#$1 < 1 || 10#$1 > 65535)); then
		_pg_die "bad port '$1'"
	fi
}

# Every directory from / down to DIR must be searchable by the cluster owner.
_pg_check_reach() {
	local dir=$1 owner d path=""
	owner=$(pg_owner)
	IFS=/ read -ra parts <<<"${dir#/}"
	for d in "" "${parts[@]}"; do
		[[ -n $d ]] && path="$path/$d"
		[[ -e ${path:-/} ]] || break
		if ! _pg_as test -x "${path:-/}"; then
			_pg_die "user '$owner' cannot enter ${path:-/} (on the way to $dir)." \
				"Fix: chmod o+x ${path:-/}, or put the repository (or DATADIR) under a directory" \
				"that '$owner' can traverse, e.g. /srv or /tmp."
		fi
	done
}

_pg_conf_port() { # DATADIR -> port the running postmaster uses (line 4 of postmaster.pid)
	sed -n 4p "$1/postmaster.pid" 2>/dev/null
}

pg_init() (
	set -euo pipefail
	local datadir port bindir owner log
	[[ $# == 2 ]] || _pg_die "usage: pg.sh init DATADIR PORT"
	datadir=$(_pg_abs "$1")
	port=$2
	_pg_port_ok "$port"
	bindir=$(pg_bindir)
	owner=$(pg_owner)
	if [[ -f $datadir/PG_VERSION ]]; then
		_pg_die "$datadir already holds a cluster (remove it to start over)"
	fi
	# The unix socket path must fit in sun_path (107 bytes).
	((${#datadir} + 20 < 107)) || _pg_die "DATADIR path too long for a unix socket: $datadir"

	_pg_check_reach "$(dirname "$datadir")"
	mkdir -p "$datadir"
	if [[ -n $(ls -A "$datadir") ]]; then
		_pg_die "$datadir exists and is not empty, but holds no cluster"
	fi
	if [[ $(id -u) == 0 ]]; then
		id postgres >/dev/null 2>&1 || _pg_die "no 'postgres' user (install postgresql-15)"
		chown postgres: "$datadir"
	fi
	chmod 700 "$datadir"
	_pg_check_reach "$datadir"

	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	local locale=C
	if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then locale=C.UTF-8; fi
	if ! _pg_as "$bindir/initdb" -D "$datadir" -U postgres -A trust -E UTF8 \
		--locale="$locale" >"$log" 2>&1; then
		cat "$log" >&2
		_pg_die "initdb failed in $datadir"
	fi
	_pg_as mkdir -p "$datadir/run"
	_pg_as chmod 700 "$datadir/run"
	# shellcheck disable=SC2016 # $1 is expanded by sh -c
	_pg_as sh -c 'cat >>"$1"' sh "$datadir/postgresql.conf" <<-EOF

		# --- deploy/pg.sh ---
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$datadir/run'
		log_line_prefix = '%m [%p] %q%u@%d '
	EOF

	# Create the role and database over the unix socket only (no TCP), so that init works
	# even while something else holds PORT.
	if ! _pg_as "$bindir/pg_ctl" start -w -s -D "$datadir" -l "$datadir/log" \
		-o "-c listen_addresses=" >"$log" 2>&1; then
		cat "$log" "$datadir/log" >&2 2>/dev/null || true
		_pg_die "could not start the new cluster in $datadir"
	fi
	local rc=0
	_pg_as "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$datadir/run" -p "$port" -U postgres \
		-d postgres >"$log" 2>&1 <<-'EOF' || rc=$?
		create role fhirgw login createrole;
		create role fhirgw_app login;
		create database fhirgw owner fhirgw encoding 'UTF8' template template0;
	EOF
	_pg_as "$bindir/pg_ctl" stop -w -s -m fast -D "$datadir" >/dev/null 2>&1 || true
	if ((rc != 0)); then
		cat "$log" >&2
		_pg_die "could not create role/database fhirgw"
	fi
)

# The two roles, in a cluster running on PORT (over its unix socket).
pg_roles() (
	set -euo pipefail
	local datadir port bindir log rc=0
	[[ $# == 2 ]] || _pg_die "usage: pg.sh roles DATADIR PORT"
	datadir=$(_pg_abs "$1")
	port=$2
	_pg_port_ok "$port"
	bindir=$(pg_bindir)
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	_pg_as "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$datadir/run" -p "$port" -U postgres \
		-d postgres >"$log" 2>&1 <<-'EOF' || rc=$?
		do $$
		begin
			if not exists (select 1 from pg_roles where rolname = 'fhirgw') then
				create role fhirgw login createrole;
			else
				alter role fhirgw createrole;
			end if;
			if not exists (select 1 from pg_roles where rolname = 'fhirgw_app') then
				create role fhirgw_app login;
			end if;
		end $$;
	EOF
	if ((rc != 0)); then
		cat "$log" >&2
		_pg_die "could not create the roles fhirgw and fhirgw_app"
	fi
)

# Database NAME owned by fhirgw, in a cluster running on PORT (over its unix socket).
pg_createdb() (
	set -euo pipefail
	local datadir port name bindir log rc=0
	[[ $# == 3 ]] || _pg_die "usage: pg.sh createdb DATADIR PORT NAME"
	datadir=$(_pg_abs "$1")
	port=$2
	name=$3
	_pg_port_ok "$port"
	[[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || _pg_die "bad database name '$name'"
	bindir=$(pg_bindir)
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	if [[ -n $(_pg_as "$bindir/psql" -X -q -A -t -h "$datadir/run" -p "$port" -U postgres \
		-d postgres -c "select 1 from pg_database where datname = '$name'" 2>"$log") ]]; then
		return 0
	fi
	_pg_as "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$datadir/run" -p "$port" -U postgres \
		-d postgres -c "create database $name owner fhirgw encoding 'UTF8' template template0" \
		>>"$log" 2>&1 || rc=$?
	if ((rc != 0)); then
		cat "$log" >&2
		_pg_die "could not create database $name"
	fi
)

pg_start() (
	set -euo pipefail
	local datadir port bindir running
	[[ $# == 2 ]] || _pg_die "usage: pg.sh start DATADIR PORT"
	datadir=$(_pg_abs "$1")
	port=$2
	_pg_port_ok "$port"
	bindir=$(pg_bindir)
	[[ -f $datadir/PG_VERSION ]] || _pg_die "no cluster in $datadir (run: deploy/pg.sh init $datadir $port)"
	_pg_check_reach "$datadir"
	if _pg_as "$bindir/pg_ctl" status -D "$datadir" >/dev/null 2>&1; then
		running=$(_pg_conf_port "$datadir")
		if [[ $running == "$port" ]]; then
			return 0
		fi
		_pg_die "the cluster in $datadir is already running on port $running, not $port"
	fi
	if ! _pg_as "$bindir/pg_ctl" start -w -s -D "$datadir" -l "$datadir/log" -o "-p $port" \
		>/dev/null 2>&1; then
		echo "--- last lines of $datadir/log:" >&2
		tail -n 20 "$datadir/log" >&2 2>/dev/null || true
		_pg_die "could not start PostgreSQL in $datadir on port $port"
	fi
)

pg_stop() (
	set -euo pipefail
	local datadir bindir
	[[ $# == 1 ]] || _pg_die "usage: pg.sh stop DATADIR"
	datadir=$(_pg_abs "$1")
	bindir=$(pg_bindir)
	[[ -f $datadir/postmaster.pid ]] || return 0 # not running
	if ! _pg_as "$bindir/pg_ctl" stop -w -s -m fast -D "$datadir" >/dev/null 2>&1; then
		# pg_ctl says no server is running when the pid file is stale: that's fine.
		if _pg_as "$bindir/pg_ctl" status -D "$datadir" >/dev/null 2>&1; then
			_pg_die "could not stop PostgreSQL in $datadir"
		fi
	fi
)

pg_status() (
	set -uo pipefail
	local datadir bindir
	[[ $# == 1 ]] || _pg_die "usage: pg.sh status DATADIR"
	datadir=$(_pg_abs "$1")
	bindir=$(pg_bindir) || exit 4
	_pg_as "$bindir/pg_ctl" status -D "$datadir"
)

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	cmd=${1:-}
	shift || true
	case $cmd in
	init) pg_init "$@" ;;
	start) pg_start "$@" ;;
	stop) pg_stop "$@" ;;
	status) pg_status "$@" ;;
	roles) pg_roles "$@" ;;
	createdb) pg_createdb "$@" ;;
	*)
		echo "usage: deploy/pg.sh init DATADIR PORT | start DATADIR PORT | stop DATADIR | status DATADIR | roles DATADIR PORT | createdb DATADIR PORT NAME" >&2
		exit 2
		;;
	esac
fi
