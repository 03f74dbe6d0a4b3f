# Shared set-up for the benchmark scripts: a release build, the pinned reference tools in
# target/bench-venv, hyperfine, and a helper that turns hyperfine's JSON into a Markdown table.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
corpus=${MLGUARD_CORPUS:-$root/../shared/corpus}
venv=$root/target/bench-venv
out=$root/target/bench
mkdir -p "$out"

command -v hyperfine >/dev/null || { echo "bench: hyperfine is required (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release --quiet
mlguard=$root/target/release/mlguard
if [ ! -x "$venv/bin/nbstripout-fast" ] || [ "$("$venv/bin/nbstripout" --version 2>/dev/null)" != "0.9.1" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check nbstripout==0.9.1 nbformat==5.11.1 nbstripout-fast==1.1.2
fi

# table JSON...: one Markdown row per command of each hyperfine export (median, mean ± σ, min).
table() {
  python3 - "$@" <<'PY'
import json, sys
print("| benchmark | command | median | mean ± σ | min | runs |")
print("|---|---|---|---|---|---|")
for path in sys.argv[1:]:
    name = path.rsplit("/", 1)[-1].removesuffix(".json")
    for r in json.load(open(path))["results"]:
        ms = lambda s: f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"
        print(f"| {name} | {r['command'].split(' <')[0]} | **{ms(r['median'])}** | {ms(r['mean'])} ± {ms(r['stddev'] or 0)} | {ms(r['min'])} | {len(r['times'])} |")
PY
}
