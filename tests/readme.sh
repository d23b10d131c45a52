#!/bin/bash
# readme.sh: the plans README.md shows are what this podform prints (tests/readme.py); after a
# change to the plan's text, `python3 tests/readme.py . ./podform --update` rewrites them.
src=${top_srcdir:-.}
exec "${PYTHON:-python3}" "$src/tests/readme.py" "$src" "${top_builddir:-.}/podform"
