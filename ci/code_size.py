#!/usr/bin/env python3
"""The library's longest files and functions: what to split next.

Usage: ci/code_size.py [--files N] [--functions N] [path ...]
  (default paths: harness/src primitives/src harness/include primitives/include)

Lists the source files over 600 lines and the functions over 60 lines (with their length, place
and qualified name), longest first; with --files/--functions N, the N longest of each instead.
Function extents come from Universal Ctags (Debian package universal-ctags), which parses C++
well enough to find where each definition ends; a function defined by a macro is not seen.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

DEFAULT_PATHS = ["harness/src", "primitives/src", "harness/include", "primitives/include"]
FILE_LIMIT = 600
FUNCTION_LIMIT = 60


def sources(paths):
    for path in paths:
        if os.path.isfile(path):
            yield path
            continue
        for folder, _, files in os.walk(path):
            for name in sorted(files):
                if name.endswith((".cpp", ".h")):
                    yield os.path.join(folder, name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, help="list the N longest files (default: those over 600 lines)")
    parser.add_argument("--functions", type=int, help="list the N longest functions (default: those over 60)")
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    for path in args.paths:
        if not os.path.exists(path):
            sys.exit(f"ci/code_size.py: no such file or folder: {path} (paths are relative to {root})")
    ctags = shutil.which("ctags")
    if ctags is None or b"Universal Ctags" not in subprocess.run([ctags, "--version"], capture_output=True).stdout:
        sys.exit("ci/code_size.py: needs Universal Ctags: apt-get install universal-ctags")

    files = sorted(((sum(1 for _ in open(f, encoding="utf-8")), f) for f in sources(args.paths)), reverse=True)
    shown = files[: args.files] if args.files else [row for row in files if row[0] > FILE_LIMIT]
    print(f"Files{' over %d lines' % FILE_LIMIT if not args.files else ''}: {len(shown)}")
    for lines, name in shown:
        print(f"  {lines:5d}  {name}")

    out = subprocess.run(
        [ctags, "--languages=C++", "--kinds-C++=f", "--fields=+ne", "--output-format=json", "-f", "-", "-R"]
        + args.paths,
        capture_output=True, text=True, check=True).stdout
    functions = []
    for line in out.splitlines():
        tag = json.loads(line)
        if tag.get("_type") != "tag" or "end" not in tag:
            continue
        scope = tag.get("scope", "")
        # Anonymous namespaces show as "__anon<hash>": shown as "(anonymous)".
        scope = "::".join("(anonymous)" if part.startswith("__anon") else part for part in scope.split("::"))
        name = f"{scope}::{tag['name']}" if scope else tag["name"]
        functions.append((tag["end"] - tag["line"] + 1, f"{tag['path']}:{tag['line']}", name))
    functions.sort(reverse=True)
    shown = functions[: args.functions] if args.functions else [f for f in functions if f[0] > FUNCTION_LIMIT]
    print(f"Functions{' over %d lines' % FUNCTION_LIMIT if not args.functions else ''}: {len(shown)}")
    for lines, place, name in shown:
        print(f"  {lines:5d}  {place}  {name}")


if __name__ == "__main__":
    main()
