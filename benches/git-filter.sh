#!/usr/bin/env bash
# `git add` and `git status` on 200 and 2,000 real notebooks (copies of ../shared/corpus/
# real-notebooks), with mlguard installed (long-running filter process), nbstripout-fast 1.1.2
# and nbstripout 0.9.1 as per-file clean filters, and no filter, all in one run.
#   add:    the index is deleted before each run (objects already stored), then `git add -A`
#   status: every notebook is touched before each run, then `git status --porcelain`
# nbstripout (0.3 s per notebook) runs once, on 200 notebooks only.
# Then ordinary notebooks: `git add --renormalize .` on 1,500 generated small notebooks (25 MB,
# 17 kB on average, a third of the cells with outputs: benches/make-notebook.py many), committed
# with their outputs, with mlguard's filter, with a filter process that changes nothing
# (benches/echo-filter.c: the protocol's floor) and with no filter (git re-reads and re-hashes
# every tracked file either way). Prints Markdown tables of medians (target/bench/git-filter.md).
source "$(dirname "$0")/common.sh"

real=$corpus/real-notebooks
mapfile -t notebooks < <(ls "$real"/*.ipynb)

make_repo() { # make_repo DIR COUNT KIND
  local dir=$1 count=$2 kind=$3
  rm -rf "$dir"
  git init -q -b main "$dir"
  git -C "$dir" config user.name bench
  git -C "$dir" config user.email bench@example.com
  for ((i = 0; i < count; i++)); do
    mkdir -p "$dir/nb/$((i / 100))"
    cp "${notebooks[i % ${#notebooks[@]}]}" "$dir/nb/$((i / 100))/n$i.ipynb"
  done
  case $kind in
    mlguard) (cd "$dir" && "$mlguard" install >/dev/null) ;;
    nbstripout-fast|nbstripout)
      git -C "$dir" config filter.strip.clean "$venv/bin/$kind"
      git -C "$dir" config filter.strip.smudge cat
      echo '*.ipynb filter=strip' > "$dir/.git/info/attributes" ;;
  esac
  git -C "$dir" add -A  # stores the objects once, so each timed run measures the filtering
}

results=()
for count in 200 2000; do
  kinds=(mlguard nbstripout-fast none)
  [ "$count" = 200 ] && kinds+=(nbstripout)
  for kind in "${kinds[@]}"; do
    dir=$out/git-$count-$kind
    make_repo "$dir" "$count" "$kind"
    runs=5; [ "$kind" = nbstripout ] && runs=1; [ "$count" = 2000 ] && [ "$runs" = 5 ] && runs=3
    hyperfine --runs "$runs" --export-json "$out/git-add-$count-$kind.json" \
      -n "$kind" --prepare "rm -f $dir/.git/index" "cd $dir && git add -A" >/dev/null
    hyperfine --runs "$runs" --export-json "$out/git-status-$count-$kind.json" \
      -n "$kind" --prepare "find $dir/nb -name '*.ipynb' -exec touch {} +" "cd $dir && git status --porcelain > /dev/null" >/dev/null
    results+=("$out/git-add-$count-$kind.json" "$out/git-status-$count-$kind.json")
  done
done

many=$out/many-notebooks
# The protocol's floor: a C filter process that hands every file back unchanged (skipped when
# there is no C compiler).
kinds=(mlguard none)
if command -v cc >/dev/null; then
  cc -O2 -o "$out/echo-filter" "$root/benches/echo-filter.c" && kinds+=(echo)
fi
for kind in "${kinds[@]}"; do
  dir=$many-$kind
  if [ ! -d "$dir/.git" ]; then
    rm -rf "$dir" && python3 "$root/benches/make-notebook.py" many 1500 "$dir" 1
    git -C "$dir" init -q -b main && git -C "$dir" add -A
    git -C "$dir" -c user.name=bench -c user.email=bench@example.com commit -qm notebooks
  fi
  [ "$kind" = mlguard ] && (cd "$dir" && "$mlguard" install >/dev/null)
  if [ "$kind" = echo ]; then
    git -C "$dir" config filter.echo.process "$out/echo-filter"
    echo '*.ipynb filter=echo' > "$dir/.git/info/attributes"
  fi
  git -C "$dir" add --renormalize .  # stores the stripped blobs once
done
echo_args=()
[ -d "$many-echo/.git" ] && echo_args=(-n "echo filter (protocol floor)" "cd $many-echo && git add --renormalize .")
hyperfine --warmup 3 --runs 30 --export-json "$out/git-renormalize-1500.json" \
  -n "mlguard filter" "cd $many-mlguard && git add --renormalize ." \
  "${echo_args[@]}" \
  -n "no filter" "cd $many-none && git add --renormalize ." >/dev/null
results+=("$out/git-renormalize-1500.json")
table "${results[@]}" | tee "$out/git-filter.md"
