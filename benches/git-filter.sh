#!/usr/bin/env bash
# `git add` and `git status` on 200 and 2,000 real notebooks (copies of ../shared/corpus/
# real-notebooks), with mlguard installed (long-running filter process), nbstripout-fast 1.1.2
# and nbstripout 0.9.1 as per-file clean filters, and no filter, all in one run.
#   add:    the index is deleted before each run (objects already stored), then `git add -A`
#   status: every notebook is touched before each run, then `git status --porcelain`
# nbstripout (0.3 s per notebook) runs once, on 200 notebooks only. Prints a Markdown table of
# medians (also saved in target/bench/git-filter.md).
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
table "${results[@]}" | tee "$out/git-filter.md"
