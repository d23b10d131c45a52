#!/bin/bash
# The JSON Schema and podform agree: every example passes both the schema and
# `podform validate`, the valid cases pass, and every case of the invalid corpus is rejected.
set -u
shopt -s nullglob
podform=${top_builddir:-.}/podform
src=${top_srcdir:-.}
python=${PYTHON:-python3}
[ "$python" = ":" ] && python=python3
pass=0 fail=0

ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

if "$python" -c 'import jsonschema, yaml' 2>/dev/null; then
        if "$python" "$src/tests/check-schema.py" "$src/schemas/podform-v1.schema.json" "$src/examples"; then
                ok "examples pass the JSON Schema"
        else
                bad "examples do not pass the JSON Schema"
        fi
else
        bad "python3-jsonschema and python3-yaml are needed (apt-get install python3-jsonschema python3-yaml)"
fi

# Each example (a file or a directory of files that reference each other) stands alone.
for example in "$src"/examples/*; do
        if "$podform" validate -q --color never -f "$example"; then
                ok "podform validate ${example#"$src"/}"
        else
                bad "podform validate rejects ${example#"$src"/}"
        fi
done

for case in "$src"/tests/data/valid/*.yaml; do
        if "$podform" validate -q --color never -f "$case"; then
                ok "valid case ${case#"$src"/}"
        else
                bad "valid case ${case#"$src"/} is rejected"
        fi
done

n=0
for case in "$src"/tests/data/invalid/*; do
        case $case in *.err) continue ;; esac
        n=$((n + 1))
        "$podform" validate -q --color never -f "$case" >/dev/null 2>&1
        rc=$?
        [ "$rc" -eq 1 ] || bad "invalid case ${case#"$src"/} exits $rc, not 1"
done
[ "$n" -gt 0 ] && ok "$n invalid cases rejected with exit 1" || bad "no invalid cases found"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
