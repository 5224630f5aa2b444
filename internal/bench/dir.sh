#!/usr/bin/env bash
# Directory-scan benchmark: notifyscan dir against grep -rF gcntfy over the same
# generated tree, warm cache, alternating runs; prints the time ratio and
# notifyscan's peak memory. Usage: internal/bench/dir.sh [MiB] [runs]
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

# Warm the cache and check both tools see the planted keys.
grep -rF gcntfy "$tree" >/dev/null || true
found=$("$bin" dir -q -f json "$tree" | grep -c '"rule": "notify-api-key"' || true)
echo "notifyscan found $found planted keys"

now() { date +%s.%N; }
ns_total=0; grep_total=0
for i in $(seq "$runs"); do
  t0=$(now); grep -rF gcntfy "$tree" >/dev/null || true; t1=$(now)
  "$bin" dir -q "$tree" >/dev/null || [ $? -eq 1 ]; t2=$(now)
  g=$(echo "$t1 - $t0" | bc); n=$(echo "$t2 - $t1" | bc)
  printf 'run %d: grep %.3fs notifyscan %.3fs ratio %.2f\n' "$i" "$g" "$n" "$(echo "$n / $g" | bc -l)"
  grep_total=$(echo "$grep_total + $g" | bc); ns_total=$(echo "$ns_total + $n" | bc)
done
printf 'total: grep %.3fs notifyscan %.3fs ratio %.2f (target <= 2.00)\n' "$grep_total" "$ns_total" "$(echo "$ns_total / $grep_total" | bc -l)"
/usr/bin/time -v -o "$work/time.txt" "$bin" dir -q "$tree" >/dev/null 2>&1 || true
rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$work/time.txt")
echo "notifyscan peak RSS: $((rss / 1024)) MiB (target < 100 MiB)"
