#!/bin/bash
# The install lists in Makefile.am name every file of schemas/ and examples/, and nothing
# else: a new example or schema cannot be left out of `make install` and the Debian package.
# Makefile.am hands the lists over as PF_INSTALL_SCHEMAS and PF_INSTALL_EXAMPLES.
set -uo pipefail
cd "${top_srcdir:?}" || exit 99
failed=0 passed=0
compare() { # WHAT LISTED-FILES... : the files under WHAT/ against the list
	local what=$1 on_disk listed
	shift
	on_disk=$(find "$what" -type f | LC_ALL=C sort)
	listed=$(printf '%s\n' "$@" | LC_ALL=C sort)
	if [ "$on_disk" = "$listed" ]; then
		echo "ok: Makefile.am installs every file of $what/"
		passed=$((passed + 1))
	else
		echo "FAIL: Makefile.am's install list for $what/ differs from the tree (< tree, > list):"
		diff <(echo "$on_disk") <(echo "$listed") | grep '^[<>]'
		failed=$((failed + 1))
	fi
}
# shellcheck disable=SC2086 # the lists are words
compare schemas ${PF_INSTALL_SCHEMAS:?}
# shellcheck disable=SC2086
compare examples ${PF_INSTALL_EXAMPLES:?}
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
