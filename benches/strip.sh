#!/usr/bin/env bash
# Whole-process timings of `mlguard strip` beside nbstripout 0.9.1 and nbstripout-fast 1.1.2,
# in one run: a small notebook, the 5 MB image notebook, and every real notebook one process
# each. Stdin comes from the file and stdout goes to a regular file (nbstripout cannot write to
# /dev/null). Prints a Markdown table of medians (also saved in target/bench/strip.md).
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
