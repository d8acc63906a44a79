#!/usr/bin/env bash
# run_one.sh FILE: run one integration test module (tests/integration/test_*.py)
# with unittest, verbosely; exits with unittest's status.
#   FHIRGW_BIN, FHIRGW_SOURCE_DIR, FHIRGW_R4_SCHEMA: see harness.py
set -u
file=${1:?usage: run_one.sh tests/integration/test_NAME.py}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ -f $file ]] || { echo "run_one.sh: no such file: $file" >&2; exit 2; }
dir=$(cd "$(dirname "$file")" && pwd)
module=$(basename "$file" .py)
export PYTHONPATH="$dir:$here${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1
: "${FHIRGW_SOURCE_DIR:=$(cd "$here/../.." && pwd)}"
export FHIRGW_SOURCE_DIR
cd "$dir" || exit 2
/usr/bin/python3 -m unittest -v "$module"
exit $?
