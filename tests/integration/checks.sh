# checks.sh: the TAP-style check helpers of the end-to-end scripts; source it after setting
# $work (a scratch directory). Each helper prints "ok - NAME" or "not ok - NAME" (with the
# command's output indented) and counts failures in $failures.
failures=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; failures=$((failures + 1)); }
# check NAME COMMAND...: COMMAND must succeed
check() {
	local name=$1
	shift
	if "$@" >"$work/out" 2>&1; then ok "$name"; else not_ok "$name"; sed 's/^/    /' "$work/out"; fi
}
# expect NAME CODE REGEX COMMAND...: exit code and a line of output
expect() {
	local name=$1 code=$2 re=$3 rc=0
	shift 3
	"$@" >"$work/out" 2>&1 || rc=$?
	if [ "$rc" = "$code" ] && grep -Eq -- "$re" "$work/out"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, wanted $code and /$re/)"
		sed 's/^/    /' "$work/out"
	fi
}
# lacks NAME REGEX: the last command's output (from check or expect) has no line matching REGEX
lacks() {
	if grep -Eq -- "$2" "$work/out"; then
		not_ok "$1 (a line matches /$2/)"
		sed 's/^/    /' "$work/out"
	else
		ok "$1"
	fi
}
# has NAME REGEX: the last command's output (from check or expect) has a line matching REGEX too
has() {
	if grep -Eq -- "$2" "$work/out"; then
		ok "$1"
	else
		not_ok "$1 (no line matches /$2/)"
		sed 's/^/    /' "$work/out"
	fi
}
