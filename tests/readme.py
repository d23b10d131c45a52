#!/usr/bin/env python3
"""readme.py: the plans README.md shows are what podform prints for the examples.

Usage: readme.py SRCDIR PODFORM [--update]

Every ```console block of README.md whose first line is `$ ./podform plan ...` (on libvirt's test
driver, whose host lives in the process) is run from SRCDIR with ./podform standing for PODFORM
and $PWD for SRCDIR; its output must be the block's other lines, up to the directory the README
shows for $PWD. With --update the blocks are rewritten from the output instead. One line per block,
`ok: ...` or `FAIL: ...` with a diff, then `N passed, M failed`. Exit status 0 when all passed.
"""
import difflib
import os
import re
import subprocess
import sys
import tempfile


def blocks(lines):
    """(index of the command line, index of the closing fence) of every block to check."""
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```console" and i + 1 < len(lines) and lines[i + 1].startswith("$ ./podform plan "):
            end = i + 2
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            yield i + 1, end
            i = end
        i += 1


def run(cmd, srcdir, podform, state):
    env = dict(os.environ, PWD=srcdir, PODFORM_STATE_DIR=state, NO_COLOR="1")
    shell = cmd[2:].replace("./podform", podform, 1)
    r = subprocess.run(["bash", "-c", shell], cwd=srcdir, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return r.stdout.splitlines()


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "--update"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    srcdir, podform = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    update = len(sys.argv) == 4
    path = os.path.join(srcdir, "README.md")
    lines = open(path, encoding="utf-8").read().split("\n")
    passed = failed = 0
    with tempfile.TemporaryDirectory() as state:
        for start, end in reversed(list(blocks(lines))):
            shown = lines[start + 1:end]
            # the README names the directory of the checkout it was made in
            m = re.search(r"test://(/\S*?)/tests/data/", "\n".join(shown))
            shown_dir = m.group(1) if m else srcdir
            out = [line.replace(srcdir, shown_dir) for line in run(lines[start], srcdir, podform, state)]
            name = lines[start][2:80]
            if update:
                lines[start + 1:end] = out
            elif out == shown:
                print(f"ok: {name}")
                passed += 1
            else:
                print(f"FAIL: {name}: README.md shows another output (tests/readme.py SRCDIR PODFORM --update rewrites it)")
                sys.stdout.writelines(d + "\n" for d in difflib.unified_diff(shown, out, "README.md", "podform", lineterm=""))
                failed += 1
    if update:
        open(path, "w", encoding="utf-8").write("\n".join(lines))
        return 0
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
