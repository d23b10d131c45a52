#!/bin/bash
# The bash completion offers, for every command, exactly the options `podform COMMAND --help`
# prints (read from the built binary, so neither can change alone), the commands of
# `podform --help`, the enum values, and YAML files and directories for -f.
set -uo pipefail
bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || { echo "bash-completion.sh: SKIP: no $bc (apt-get install bash-completion)" >&2; exit 77; }
podform=${top_builddir:?}/podform
# shellcheck source=/dev/null
. "$bc"
# shellcheck source=contrib/completion/podform
. "${top_srcdir:?}/contrib/completion/podform"
passed=0 failed=0

complete_line() { # LINE: the sorted completions of LINE (the cursor at its end)
	COMP_LINE=$1 COMP_POINT=${#1}
	read -r -a COMP_WORDS <<<"$1"
	[[ $1 == *' ' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_podform podform "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//'
}
expect() { # WHAT LINE EXPECTED
	local got
	got=$(complete_line "$2")
	if [ "$got" = "$3" ]; then
		echo "ok: $1"
		passed=$((passed + 1))
	else
		echo "FAIL: $1: '$2' completes to '$got', expected '$3'"
		failed=$((failed + 1))
	fi
}
options_of() { # HELP-TEXT: the options a --help prints, sorted
	grep -oE '^  (-[A-Za-z], )?--[a-z-]+' | tr -d ',' | tr ' ' '\n' | grep . | LC_ALL=C sort -u | tr '\n' ' ' | sed 's/ $//'
}

commands=$("$podform" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF && $1 != "Commands:" {print $1}' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
[ -n "$commands" ] || { echo "FAIL: podform --help lists no commands"; exit 1; }
expect "the commands of podform --help" "podform " "$commands"
expect "the options of podform --help" "podform -" "--help --version -V -h"
for cmd in $commands; do
	expect "the options of podform $cmd --help" "podform $cmd -" "$("$podform" "$cmd" --help | options_of)"
done
expect "plan --output" "podform plan --output " "json text"
expect "show --output" "podform show --output " "json yaml"
expect "graph --output" "podform graph --output " "dot svg"
expect "--output=j (one word)" "podform plan --output=j" "json"
expect "--color" "podform apply --color " "always auto never"
expect "--connect" "podform plan --connect " "qemu:///session qemu:///system test:///default"
expect "a number takes no completion" "podform apply --shutdown-timeout " ""
expect "the command after an option's value" "podform --color never apply --dry" "--dry-run"
dir=$(mktemp -d) && trap 'rm -rf "$dir"' EXIT
touch "$dir/a.yaml" "$dir/b.txt" "$dir/c.yml" && mkdir "$dir/sub"
cd "$dir" || exit 99
expect "-f: YAML files and directories" "podform validate -f " "a.yaml c.yml sub"
expect "--file: likewise" "podform plan --file a" "a.yaml"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
