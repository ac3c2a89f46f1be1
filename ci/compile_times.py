#!/usr/bin/env python3
"""Compile time of every translation unit of a configured build, one at a time.

Usage: ci/compile_times.py [build/dev] [substring ...]

Runs each compile command of <build>/compile_commands.json (without ccache, into a scratch
object file), one after another, under /usr/bin/time, and prints the CPU seconds (user + system),
the peak memory and the source file, slowest first. With substrings, only the files whose path
contains one of them. docs/build.md lists the results.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build/dev"
    only = sys.argv[2:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commands = json.load(open(os.path.join(build, "compile_commands.json")))
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for entry in commands:
            source = os.path.relpath(entry["file"], root)
            if only and not any(s in source for s in only):
                continue
            args = shlex.split(entry["command"])
            if "ccache" in os.path.basename(args[0]):
                args = args[1:]
            args[args.index("-o") + 1] = os.path.join(scratch, "unit.o")
            run = subprocess.run(["/usr/bin/time", "-f", "TIME %U %S %M"] + args, cwd=entry["directory"],
                                 capture_output=True, text=True)
            times = [line for line in run.stderr.splitlines() if line.startswith("TIME ")]
            if run.returncode != 0 or not times:
                print(f"compile failed: {source}", file=sys.stderr)
                continue
            _, user, system, peak_kib = times[-1].split()
            rows.append((float(user) + float(system), int(peak_kib) // 1024, source))
            print(f"{rows[-1][0]:6.1f} s {rows[-1][1]:5d} MiB  {source}", file=sys.stderr, flush=True)
    for cpu, mib, source in sorted(rows, reverse=True):
        print(f"{cpu:6.1f} s {mib:5d} MiB  {source}")


if __name__ == "__main__":
    main()
