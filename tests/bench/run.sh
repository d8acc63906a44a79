#!/usr/bin/env bash
# tests/bench/run.sh [--quick] [--all] [--patients N] [--rounds R] [--json FILE] [...]
#
# The one-command benchmark of DESIGN.md section 9: fhirgw against nginx serving the same
# response bytes over the same mutual TLS, in interleaved rounds; idle keep-alive
# connections (RSS of both servers); the pseudonymised bulk export (resources per
# CPU-second, peak RSS at two sizes); with --scale or --all, $summary at 1,000 and at
# 1,000,000 patients per country.  Prints the detail tables, then one row per target
# with a met column.  See docs/benchmarks.md.  Default run: about 5-10 minutes; --all:
# 10-25 minutes (it seeds three registries of 1,000,000); --quick: about 1 minute.
#
#   1. builds build/ (RelWithDebInfo) if anything changed (--no-build: use it as it is;
#      --rev REV: export commit REV with `git archive` into a temporary directory, build
#      it there and benchmark that, whatever the work tree holds; FHIRGW_BIN and
#      FHIRGW_SOURCE_DIR, as for the integration harness, pick another binary and tree);
#   2. checks for nginx, ab, taskset, a C compiler and libssl-dev, PostgreSQL, and says
#      what to apt-get install when one is missing (installs nothing itself);
#   3. runs tests/bench/bench.py with the remaining arguments (bench.py --help lists them).
#
# Everything started (PostgreSQL, fhirgw, nginx, the load generators, the export worker)
# listens on or talks to loopback only and is stopped by pid when the run ends, however
# it ends.  The idle test raises RLIMIT_NOFILE (inherited by the gateway and nginx) as
# far as it may; as root it raises the hard limit too.
# Exit status: 0 when the benchmark ran (whether or not the targets are met), 1 when it
# could not produce a valid result (non-2xx responses, failed requests, a crash), 2 when
# something is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"

BUILD=1
REV=
ARGS=()
while (($#)); do
	a=$1
	shift
	case $a in
	--no-build) BUILD=0 ;;
	--rev)
		REV=${1:?--rev needs a commit}
		shift
		;;
	--rev=*) REV=${a#--rev=} ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		echo
		exec python3 "$ROOT/tests/bench/bench.py" --help
		;;
	*) ARGS+=("$a") ;;
	esac
done

missing=()
need() { # PACKAGE TEST...
	local pkg=$1
	shift
	"$@" >/dev/null 2>&1 || missing+=("$pkg")
}
have() { command -v "$1" || [[ -x /usr/sbin/$1 ]]; }
need nginx-light have nginx
need apache2-utils have ab
need util-linux have taskset
need python3 have python3
need cmake have cmake
need gcc have cc
need libssl-dev test -f /usr/include/openssl/ssl.h
need openssl have openssl
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && ! have initdb >/dev/null &&
	[[ -z ${FHIRGW_PG_BINDIR:-} ]]; then
	missing+=(postgresql)
fi
if ((${#missing[@]})); then
	echo "tests/bench/run.sh: missing: ${missing[*]}" >&2
	echo "install them with:  apt-get install -y ${missing[*]}" >&2
	exit 2
fi
if [[ -z ${FHIRGW_BENCH_NGINX:-} ]] && ! command -v nginx >/dev/null; then
	export FHIRGW_BENCH_NGINX=/usr/sbin/nginx
fi
if (($(nproc) < 2)); then
	echo "tests/bench/run.sh: only $(nproc) CPU: nothing is pinned, the load generator" \
		"competes with the servers (the ratios are still comparable, the absolute numbers less so)" >&2
fi

# bench ARGS...: run bench.py; INT, TERM and HUP are passed on to it as TERM, so that it
# stops what it started before this script ends.
bench() {
	local pid rc
	python3 "$ROOT/tests/bench/bench.py" "$@" &
	pid=$!
	trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM HUP
	while :; do
		wait "$pid" && rc=0 || rc=$?
		kill -0 "$pid" 2>/dev/null || break # wait ended by a signal: wait again
	done
	trap - INT TERM HUP
	return "$rc"
}

# build DIR: configure (RelWithDebInfo) and compile the tree at DIR into DIR/build.
build() {
	local src=$1 log
	log=$(mktemp)
	if ! { cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
		cmake --build "$src/build" -j "${FHIRGW_JOBS:-2}"; } >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		rm -f "$log"
		echo "tests/bench/run.sh: the build of $src failed (see above); --no-build uses" \
			"build/ as it is, --rev HEAD benchmarks the last commit" >&2
		exit 2
	fi
	rm -f "$log"
}

if [[ -n $REV ]]; then
	SRC=$(mktemp -d /tmp/fhirgw-bench-src.XXXXXX)
	trap 'rm -rf "$SRC"' EXIT
	commit=$(git -C "$ROOT" rev-parse --verify "$REV^{commit}")
	echo "# building commit $commit (--rev $REV) in $SRC"
	git -C "$ROOT" archive "$commit" | tar -x -C "$SRC"
	build "$SRC"
	export FHIRGW_BIN=$SRC/build/fhirgw FHIRGW_SOURCE_DIR=$SRC FHIRGW_BENCH_REV=$commit
	rc=0
	bench "${ARGS[@]}" || rc=$?
	exit "$rc"
fi
if [[ -n ${FHIRGW_BIN:-} ]]; then
	echo "# FHIRGW_BIN=$FHIRGW_BIN: not building"
elif ((BUILD)); then
	echo "# building build/ (RelWithDebInfo)"
	build "$ROOT"
fi
type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$ROOT/build/CMakeCache.txt" 2>/dev/null || true)
if [[ -z ${FHIRGW_BIN:-} && $type != RelWithDebInfo ]]; then
	echo "tests/bench/run.sh: build/ is configured as '${type:-?}', not RelWithDebInfo" >&2
	exit 2
fi

rc=0
bench "${ARGS[@]}" || rc=$?
exit "$rc"
