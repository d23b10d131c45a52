#!/bin/bash
# replay-corpus.sh: `make check` test -- run the fuzz target over the committed seed corpus
# (tests/fuzz/corpus) without libFuzzer. Any crash, sanitizer report or leak fails the test.
#
# The harness exports top_srcdir and top_builddir (Makefile.am, AM_TESTS_ENVIRONMENT); run by
# hand:  top_srcdir=. top_builddir=. tests/fuzz/replay-corpus.sh
set -eu

: "${top_srcdir:?top_srcdir is not set (run through make check)}"
: "${top_builddir:?top_builddir is not set (run through make check)}"

bin="$top_builddir/tests/fuzz/fuzz_load_replay"
corpus="$top_srcdir/tests/fuzz/corpus"

if [ ! -x "$bin" ]; then
        echo "replay-corpus: $bin is missing; build it with: make tests/fuzz/fuzz_load_replay" >&2
        exit 1
fi
if [ ! -d "$corpus" ]; then
        echo "replay-corpus: no corpus at $corpus" >&2
        exit 1
fi

# Every regular file, as replay.c reads them (names starting with '.' skipped), byte order.
mapfile -d '' files < <(find "$corpus" -name '.*' -prune -o -type f -print0 | LC_ALL=C sort -z)
total=${#files[@]}
if [ "$total" -eq 0 ]; then
        echo "replay-corpus: $corpus holds no inputs" >&2
        exit 1
fi

# Fast path: one process for the whole corpus.
if "$bin" "$corpus" >/dev/null; then
        echo "replay-corpus: $total passed, 0 failed"
        exit 0
fi

# Something failed: run each input on its own to name the culprits.
echo "replay-corpus: the corpus run failed; replaying the $total inputs one by one" >&2
err=$(mktemp)
trap 'rm -f "$err"' EXIT
passed=0
failed=0
for f in "${files[@]}"; do
        if "$bin" "$f" >/dev/null 2>"$err"; then
                passed=$((passed + 1))
        else
                rc=$?
                failed=$((failed + 1))
                echo "FAIL: ${f#"$top_srcdir"/} (exit $rc)" >&2
                # The first few failures in full; the rest by name (one bug often fails them all).
                if [ "$failed" -le 3 ]; then
                        sed 's/^/    /' "$err" | head -n 30 >&2
                fi
        fi
done
echo "replay-corpus: $passed passed, $failed failed"
if [ "$failed" -eq 0 ]; then
        # Every input passed alone, yet the whole run failed: state leaking between inputs.
        echo "replay-corpus: every input passes alone, but not in one process (state carried between inputs?)" >&2
fi
exit 1
