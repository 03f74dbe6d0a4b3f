#!/usr/bin/env bash
# Scan time against the number of findings (issue: quadratic dedup and line/column placement).
# Files of 10,000 to 80,000 fake GitHub tokens, all on one line and one per line; time must grow
# linearly with the count. Prints a Markdown table of medians (also target/bench/many-tokens.md).
source "$(dirname "$0")/common.sh"

work=$out/many-tokens
mkdir -p "$work"
python3 - "$work" <<'PY'
import random, sys
rng = random.Random(7)
alphabet = "BFHIJKQVWZbfhijkqvwz0123456789"   # no letter of a placeholder word
for count in (10_000, 20_000, 40_000, 80_000):
    tokens = ["ghp_" + "".join(rng.choice(alphabet) for _ in range(36)) for _ in range(count)]
    open(f"{sys.argv[1]}/line-{count}.txt", "w").write(" ".join(tokens) + "\n")
    open(f"{sys.argv[1]}/lines-{count}.txt", "w").write("".join(f'deploy_token_{i:06} = "{t}"\n' for i, t in enumerate(tokens)))
PY
cmds=()
for count in 10000 20000 40000 80000; do
  for shape in line lines; do
    cmds+=(-n "$shape-$count" "$mlguard scan --no-config --format json $work/$shape-$count.txt > /dev/null")
  done
done
hyperfine -i --warmup 1 --runs 5 --export-json "$out/many-tokens.json" "${cmds[@]}" >/dev/null
ls -l "$work" | awk 'NR > 1 {print "  " $9 ": " $5 " bytes"}' >&2
table "$out/many-tokens.json" | tee "$out/many-tokens.md"
