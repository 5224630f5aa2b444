#!/usr/bin/env bash
# Directory-scan benchmark, side by side on the same generated tree, warm
# cache, alternating runs: `grep -rF gcntfy` (the floor), `notifyscan dir`,
# and `notifyscan dir --no-decode` (the cost of looking inside encodings and
# archives), the last two in turns first (a run's order does not favour
# either). Prints per-run, total and median ratios and notifyscan's peak
# memory.
# Usage: internal/bench/dir.sh [MiB] [runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
mb=${1:-300}
runs=${2:-5}
work=${BENCH_DIR:-/tmp/notifyscan-bench-dir}
tree=$work/tree-$mb
bin=$work/notifyscan
mkdir -p "$work"
go build -o "$bin" ./cmd/notifyscan
if [ ! -d "$tree" ]; then
  go run ./internal/bench/treegen -out "$tree" -mb "$mb" -keys 5
fi
[ -x /usr/bin/time ] || { echo "dir.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

# Warm the cache and check that the planted keys are found.
grep -rF gcntfy "$tree" >/dev/null || true
found=$("$bin" dir -q -f json "$tree" | grep -c '"rule": "notify-api-key"' || true)
echo "notifyscan found $found planted keys"

now() { date +%s.%N; }
scan() { "$bin" dir -q "$@" "$tree" >/dev/null || [ $? -eq 1 ]; }
floor() { grep -rF gcntfy "$tree" >/dev/null || true; }
timed() { local t0; t0=$(now); "$@"; echo "$(now) - $t0" | bc; }
g_total=0; n_total=0; p_total=0; ratios=()
for i in $(seq "$runs"); do
  g=$(timed floor)
  if [ $((i % 2)) -eq 1 ]; then
    n=$(timed scan); p=$(timed scan --no-decode)
  else
    p=$(timed scan --no-decode); n=$(timed scan)
  fi
  ratios+=("$(echo "$n / $p" | bc -l)")
  printf 'run %d: grep %.3fs  notifyscan %.3fs (x%.2f of grep)  --no-decode %.3fs (decoding costs x%.2f)\n' \
    "$i" "$g" "$n" "$(echo "$n / $g" | bc -l)" "$p" "$(echo "$n / $p" | bc -l)"
  g_total=$(echo "$g_total + $g" | bc); n_total=$(echo "$n_total + $n" | bc); p_total=$(echo "$p_total + $p" | bc)
done
printf 'total: grep %.3fs  notifyscan %.3fs  --no-decode %.3fs\n' "$g_total" "$n_total" "$p_total"
printf 'ratio notifyscan/grep: %.2f (target <= 2.00)\n' "$(echo "$n_total / $g_total" | bc -l)"
printf 'ratio decode on/off:   %.2f (target <= 1.10), median of runs %.2f\n' "$(echo "$n_total / $p_total" | bc -l)" \
  "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{r[NR] = $1} END {print (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2}')"
/usr/bin/time -v -o "$work/time.txt" "$bin" dir -q "$tree" >/dev/null 2>&1 || true
rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$work/time.txt")
echo "notifyscan peak RSS: $((rss / 1024)) MiB (target < 100 MiB)"
