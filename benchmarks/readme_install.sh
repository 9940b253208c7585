#!/usr/bin/env bash
# The README's first command in a fresh clone and a new venv (python3 and pip only) against
# the same report in a fully equipped environment (the test extra's venv), on an idle machine
# and with one core kept busy by another process.  Prints four wall times and the report's
# network line from each run, so "same numbers" can be read off.
#
#   bash benchmarks/readme_install.sh [EQUIPPED_PYTHON]   (default: python3 on PATH)
#
# The fresh venv lives in a temporary folder, removed at the end.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
equipped="${1:-python3}"
work="$(mktemp -d)"
trap 'kill "${busy:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
git clone -q "$repo" "$work/htsr"
python3 -m venv "$work/venv"
line="$(python3 - "$repo/README.md" <<'PY'
import sys
block = open(sys.argv[1]).read().split("```bash\n", 1)[1].split("```", 1)[0]
print(block.strip().splitlines()[0].split("#")[0].strip())
PY
)"
install="${line%% && python3 -m htsr report*}"
echo "install line: $install"
(cd "$work/htsr" && source "$work/venv/bin/activate" && eval "$install" >/dev/null 2>&1)
fresh="$work/venv/bin/python3"
"$fresh" -c "import threadpoolctl; print('fresh venv has threadpoolctl', threadpoolctl.__version__)"
run() {  # label python
  local t0 t1
  rm -rf "$work/out"
  t0=$(date +%s.%N)
  (cd "$work/htsr" && "$2" -m htsr report --example minilm --out "$work/out" 2>/dev/null | grep -E "mean alpha|alpha_weighted" | head -2)
  t1=$(date +%s.%N)
  printf '%s: %.1f s\n' "$1" "$(echo "$t1 - $t0" | bc)"
}
# one untimed run first, so every timed run finds the same warm compilation cache
run "warm-up (not compared)" "$fresh" >/dev/null
run "idle, fresh venv (README install)" "$fresh"
run "idle, fully equipped" "$equipped"
python3 -c "while True: pass" & busy=$!
run "one core busy, fresh venv (README install)" "$fresh"
run "one core busy, fully equipped" "$equipped"
