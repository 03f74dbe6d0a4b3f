#!/usr/bin/env python3
"""Peak memory of a command and of each process it starts, sampled from /proc.

    peak-rss.py [--json] COMMAND [ARGS...]

Runs COMMAND (stdout to /dev/null), samples every 5 ms the high-water mark (VmHWM) of it and of
every descendant, and prints one line per program name: the largest peak of a process of that
name, in MiB (the command itself is reported under its own name, e.g. `mlguard`; `git` is the
largest git child). GNU time's %M reports only the largest process of the whole tree, which hides
mlguard's own memory behind git's mapping of the pack; this separates them. Linux only.
"""

import json
import os
import subprocess
import sys
import time

as_json = sys.argv[1] == "--json"
command = sys.argv[2:] if as_json else sys.argv[1:]


def children(pid):
    """Children started by any thread of `pid` (mlguard and gitleaks start git from threads)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return found


def hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
        return fields["Name"].strip(), int(fields["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError):
        return None


peaks = {}
process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while process.poll() is None:
    pending = [process.pid]
    while pending:
        pid = pending.pop()
        sample = hwm(pid)
        if sample:
            name, kb = sample
            key = (name, pid)
            peaks[key] = max(peaks.get(key, 0), kb)
        pending.extend(children(pid))
    time.sleep(0.005)

by_name = {}
for (name, _), kb in peaks.items():
    by_name[name] = max(by_name.get(name, 0), kb)
if as_json:
    print(json.dumps({name: round(kb / 1024, 1) for name, kb in by_name.items()}))
else:
    for name, kb in sorted(by_name.items(), key=lambda item: -item[1]):
        print(f"{name}: {kb / 1024:.1f} MiB")
# Exit 1 is a scanner reporting findings, not a failure of the measurement.
sys.exit(0 if process.returncode in (0, 1) else process.returncode)
