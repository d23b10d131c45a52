#!/bin/bash
# no-skip-in-ci.sh TEST [ARGS...]: the LOG_COMPILER of every test in `make check`.
#
# Runs TEST with its output as it is. On a developer's machine a skip stays a skip. In CI
# (CI=true) as root, where every suite can run, a skip is a failure: a suite that exits 77, a
# cmocka test that skips, or a TAP-style "# SKIP" check. A skip there would otherwise stand in
# for a pass, and hide a missing package or a broken harness.
set -uo pipefail
me=no-skip-in-ci

if [ "${CI:-}" != true ] || [ "$(id -u)" -ne 0 ]; then
	exec "$@"
fi

out=$(mktemp "${TMPDIR:-/tmp}/$me.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT
"$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}

# The test's own words for why it skipped; cmocka lists skipped tests after its summary.
reasons=$(grep -E 'SKIP' "$out" | grep -v -E '^\[  (PASSED|FAILED)' | head -n 5)
if [ "$rc" -eq 77 ]; then
	echo "$me: FAIL: $1 skipped (exit 77), and CI=true as root must run every suite:" >&2
elif [ "$rc" -eq 0 ] && grep -q -E '^\[  SKIPPED \]|# SKIP' "$out"; then
	echo "$me: FAIL: $1 passed with skipped checks, and CI=true as root must run them all:" >&2
else
	exit "$rc"
fi
printf '%s\n' "${reasons:-(it gave no reason)}" | sed "s/^/$me:   /" >&2
echo "$me: install what it lacks (add it to .ci/deps) or fix the harness; a skip is for a developer's machine" >&2
exit 1
