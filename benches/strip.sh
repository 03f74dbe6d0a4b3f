#!/usr/bin/env bash
# Whole-process timings of `mlguard strip` beside nbstripout 0.9.1 and nbstripout-fast 1.1.2,
# in one run: a small notebook, the 5 MB image notebook, and every real notebook one process
# each. Stdin comes from the file and stdout goes to a regular file (nbstripout cannot write to
# /dev/null). Then peak memory on generated 100 MB and 500 MB notebooks (see below). Prints
# Markdown tables of medians (also saved in target/bench/strip.md).
source "$(dirname "$0")/common.sh"

small=$corpus/edge-cases/keep-output-markers.ipynb
large=$corpus/edge-cases/large-5mb-images.ipynb
real=$corpus/real-notebooks
sink=$out/sink.ipynb

for input in small large; do
  file=${!input}
  hyperfine --warmup 3 --min-runs 30 --export-json "$out/strip-$input.json" \
    -n mlguard "$mlguard strip --no-config < $file > $sink" \
    -n nbstripout-fast "$venv/bin/nbstripout-fast < $file > $sink" \
    -n nbstripout "$venv/bin/nbstripout < $file > $sink" \
    -n cat "cat < $file > $sink" >/dev/null
done

each() { echo "for f in $real/*.ipynb; do $1 < \"\$f\" > $sink; done"; }
hyperfine --warmup 1 --runs 3 --export-json "$out/strip-60-real-notebooks.json" \
  -n mlguard "$(each "$mlguard strip --no-config")" \
  -n nbstripout-fast "$(each "$venv/bin/nbstripout-fast")" \
  -n nbstripout "$(each "$venv/bin/nbstripout")" >/dev/null

table "$out"/strip-small.json "$out"/strip-large.json "$out"/strip-60-real-notebooks.json | tee "$out/strip.md"

# Peak memory (and time) on large generated notebooks (benches/make-notebook.py): text-heavy
# (many short lines, the costliest to parse) and image-heavy, 100 MB and 500 MB, stripped from
# stdin by mlguard and nbstripout-fast (GNU time's maximum RSS; neither starts a child), and by
# mlguard's filter-process under `git add` (benches/peak-rss.py, mlguard's own peak).
memory=$out/strip-memory.md
echo "| notebook | size (MiB) | mlguard \`strip\` peak (MiB) | mlguard \`filter-process\` (git add) | nbstripout-fast | mlguard time | nbstripout-fast time |" > "$memory"
echo "|---|---|---|---|---|---|---|" >> "$memory"
# Sizes and peaks in MiB (GNU time reports KiB).
peak() { /usr/bin/time -f '%M' -o "$out/peak.txt" "$@" > "$sink" 2>/dev/null || true; echo $(( $(tail -1 "$out/peak.txt") >> 10 )); }
for kind in text image; do
  for mb in 100 500; do
    file=$out/nb-$kind-$mb.ipynb
    [ -f "$file" ] || python3 "$root/benches/make-notebook.py" "$kind" "$mb" "$file"
    size=$(( $(stat -c %s "$file") >> 20 ))
    mine=$(peak sh -c "exec $mlguard strip --no-config < $file")
    fast=$(peak sh -c "exec $venv/bin/nbstripout-fast < $file")
    repo=$out/strip-filter-repo
    rm -rf "$repo" && git init -q "$repo" && (cd "$repo" && "$mlguard" install >/dev/null) && cp "$file" "$repo/big.ipynb"
    filter=$(cd "$repo" && python3 "$root/benches/peak-rss.py" --json git add big.ipynb | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["mlguard"]))')
    hyperfine --runs 3 --export-json "$out/strip-$kind-$mb.json" \
      -n mlguard "$mlguard strip --no-config < $file > $sink" \
      -n nbstripout-fast "$venv/bin/nbstripout-fast < $file > $sink" >/dev/null
    times=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" | ".join("%.2f s" % x["median"] for x in r))' "$out/strip-$kind-$mb.json")
    ratio() { python3 -c "print(f'{$1 / $2:.2f}×')"; }
    echo "| $kind-heavy | $size | **$mine** ($(ratio "$mine" "$size")) | $filter ($(ratio "$filter" "$size")) | $fast ($(ratio "$fast" "$size")) | $times |" >> "$memory"
  done
done
cat "$memory" | tee -a "$out/strip.md"
