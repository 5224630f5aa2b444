#!/usr/bin/env bash
# Benchmark of `notifyscan git` against the floor of reading every object
# once with git itself, on a large synthetic history.
#
#   internal/bench/git.sh                 # 30,000 commits, about 1.7 GB of blobs
#   COMMITS=5000 RUNS=5 internal/bench/git.sh
#
# It builds the history once (internal/bench/gitgen | git fast-import, then
# a full repack, about 5 minutes for 30,000 commits) under $BENCH_DIR
# (default /tmp/notifyscan-bench), warms the page cache, then times, in
# alternating runs:
#   floor:      git cat-file --batch-all-objects --batch --unordered >/dev/null
#   notifyscan: notifyscan git (and with --no-decode), report to /dev/null
# and prints the median times, their ratio, the findings against the keys
# planted, and peak memory: notifyscan's own maximum RSS (GNU time) and the
# peak of notifyscan plus its git children, sampled every 20 ms. With
# gitleaks on PATH (go install github.com/zricethezav/gitleaks/v8@latest)
# it also times gitleaks with one Notify rule, for scale.
set -euo pipefail

COMMITS=${COMMITS:-30000}
RUNS=${RUNS:-3}
WORK=${BENCH_DIR:-/tmp/notifyscan-bench}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPO=$WORK/history-$COMMITS.git

if [ ! -x /usr/bin/time ]; then
	echo "installing GNU time (Debian package 'time')" >&2
	apt-get install -y -q time >/dev/null
fi
mkdir -p "$WORK"
(cd "$ROOT" && go build -o "$WORK/notifyscan" ./cmd/notifyscan && go build -o "$WORK/gitgen" ./internal/bench/gitgen)

if [ ! -f "$REPO/bench-complete" ]; then
	rm -rf "$REPO"
	git init -q --bare "$REPO"
	echo "building $COMMITS commits in $REPO ..." >&2
	start=$(date +%s)
	"$WORK/gitgen" -commits "$COMMITS" 2>"$REPO/planted.txt" | git -C "$REPO" fast-import --quiet
	git -C "$REPO" repack -a -d -f --window=10 --depth=50 -q
	git -C "$REPO" gc -q --prune=now
	touch "$REPO/bench-complete"
	echo "built in $(($(date +%s) - start)) s" >&2
fi
planted=$(awk '/^planted/ {print $2}' "$REPO/planted.txt")
read -r blobs blobbytes < <(git -C "$REPO" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' --unordered |
	awk '$1 == "blob" {n++; s += $2} END {print n, s}')
commits=$(git -C "$REPO" rev-list --all --count)
echo "repository: $commits commits, $blobs blobs, $((blobbytes / 1048576)) MiB of blob content, $(du -sm "$REPO" | cut -f1) MiB on disk; $planted keys planted"

floor() { git -C "$REPO" cat-file --batch-all-objects --batch --unordered >/dev/null; }
scan() { "$WORK/notifyscan" git -q -f json -o /dev/null "$@" "$REPO" || [ $? -eq 1 ]; }

# seconds runs a command and prints its wall time.
seconds() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}' 
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# Warm the page cache and check the findings.
floor
found=$("$WORK/notifyscan" git -f json "$REPO" 2>/dev/null | grep -c '"fingerprint"' || true)

: >"$WORK/floor.times"
: >"$WORK/scan.times"
: >"$WORK/nodecode.times"
for i in $(seq "$RUNS"); do
	seconds floor >>"$WORK/floor.times"
	seconds scan >>"$WORK/scan.times"
	seconds scan --no-decode >>"$WORK/nodecode.times"
done
f=$(median <"$WORK/floor.times")
s=$(median <"$WORK/scan.times")
n=$(median <"$WORK/nodecode.times")

# Peak memory: GNU time's maximum RSS is notifyscan's own; the sampler
# adds up notifyscan and its git children.
/usr/bin/time -f '%M' -o "$WORK/rss.txt" "$WORK/notifyscan" git -q -f json -o /dev/null "$REPO" || true
own=$(($(tail -1 "$WORK/rss.txt") / 1024))
"$WORK/notifyscan" git -q -f json -o /dev/null "$REPO" &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
	total=0
	for p in $pid $(pgrep -P "$pid" || true); do
		kb=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		total=$((total + ${kb:-0}))
	done
	[ "$total" -gt "$peak" ] && peak=$total
	sleep 0.02
done
wait "$pid" || true

echo "floor (git cat-file --batch-all-objects --batch --unordered): $f s  (runs: $(tr '\n' ' ' <"$WORK/floor.times"))"
echo "notifyscan git:              $s s  ratio $(awk -v a="$s" -v b="$f" 'BEGIN {printf "%.2f", a / b}') (target <= 1.00)  (runs: $(tr '\n' ' ' <"$WORK/scan.times"))"
echo "notifyscan git --no-decode:  $n s  ratio $(awk -v a="$n" -v b="$f" 'BEGIN {printf "%.2f", a / b}')  (runs: $(tr '\n' ' ' <"$WORK/nodecode.times"))"
echo "findings: $found (keys planted: $planted)"
# Without a git binary (go-git for refs, trees and loose objects), one run.
mkdir -p "$WORK/nogit"
scan_nogit() { PATH="$WORK/nogit" "$WORK/notifyscan" git -q -f json -o /dev/null "$REPO" || [ $? -eq 1 ]; }
nogit=$(seconds scan_nogit)
echo "notifyscan git without git on PATH: $nogit s (one run)"
echo "peak RSS: notifyscan $own MiB; notifyscan with its git processes $((peak / 1024)) MiB"
if command -v gitleaks >/dev/null; then
	# gitleaks with one rule for current-format keys, one run, for scale.
	cat >"$WORK/gitleaks.toml" <<'TOML'
title = "one Notify rule"
[[rules]]
id = "notify-api-key"
regex = '''gcntfy-[a-z0-9_-]+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'''
keywords = ["gcntfy"]
TOML
	gl() { gitleaks git --no-banner -l error -c "$WORK/gitleaks.toml" --log-opts=--all --report-path "$WORK/gitleaks.json" "$REPO" || [ $? -eq 1 ]; }
	g=$(seconds gl)
	echo "gitleaks (one rule): $g s  ratio $(awk -v a="$g" -v b="$f" 'BEGIN {printf "%.2f", a / b}'), $(grep -c '"RuleID"' "$WORK/gitleaks.json" || true) findings (one run)"
fi
[ "$found" -eq "$planted" ] || { echo "FAIL: findings differ from the keys planted" >&2; exit 1; }
