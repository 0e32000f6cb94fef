#!/usr/bin/env bash
# compare.sh puts flowrun beside the tools a user would reach for instead,
# on this machine and in one invocation, and prints the ratios. Each
# timing is the best of $RUNS runs (default 3): the machine may be shared.
#
#   bash bench/compare.sh            # everything, a few minutes
#   RUNS=1 bash bench/compare.sh     # quicker, noisier
#
# It installs GNU parallel and GNU time with apt when they are missing and
# it runs as root; a comparison whose tool is unavailable is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}

have() { command -v "$1" >/dev/null 2>&1; }
updated=""
apt_install() {
	if have apt-get && [ "$(id -u)" = 0 ]; then
		if [ -z "$updated" ]; then
			apt-get update -qq >/dev/null 2>&1 || true
			updated=1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || true
	fi
}
have parallel || apt_install parallel
[ -x /usr/bin/time ] || apt_install time

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flowrun=$work/flowrun
go build -o "$flowrun" ./cmd/flowrun

# best CMD...: the shortest wall time of $RUNS runs, in seconds.
best() {
	local b="" s e t
	for _ in $(seq "$RUNS"); do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		t=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')
		if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
	done
	echo "$b"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# peak_rss CMD...: the peak resident set size in MB.
peak_rss() {
	/usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident set size/ { printf "%.1f", $NF / 1024 }'
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
echo

echo "(a) 2,000 items of exec: [true] at 2 workers"
fr=$(best "$flowrun" apply bench/exec-true.yaml)
xa=$(best sh -c 'seq 2000 | xargs -P2 -n1 true')
echo "    flowrun        ${fr} s"
echo "    xargs -P2      ${xa} s    flowrun/xargs    $(ratio "$fr" "$xa")  (target <= 1.10)"
if have parallel; then
	gp=$(best sh -c 'seq 2000 | parallel --will-cite -j2 true')
	echo "    GNU parallel   ${gp} s    flowrun/parallel $(ratio "$fr" "$gp")"
else
	echo "    GNU parallel   not installed: skipped"
fi
echo

echo "(b) 200 items of sleep: 50ms at 50 workers; the ideal is 4 rounds, 0.200 s"
sl=$(best "$flowrun" apply bench/sleep.yaml)
echo "    flowrun        ${sl} s    flowrun/ideal    $(ratio "$sl" 0.2)  (target <= 1.25; includes process start and load)"
echo

echo "(c) 100,000 no-op items, engine vs a hand-written errgroup pool (go test -bench)"
go test -run '^$' -bench '^(BenchmarkBlock|BenchmarkBlockFailures|BenchmarkHandWritten)$' -benchtime 20x -count "$RUNS" ./pkg/exec >"$work/bench.txt"
# The best ns/item of each benchmark.
nsper() { awk -v n="$1" '$1 ~ "^"n"-" { for (i = 1; i < NF; i++) if ($(i+1) == "ns/item") v = $i; if (b == "" || v < b) b = v } END { print b }' "$work/bench.txt"; }
hw=$(nsper BenchmarkHandWritten)
for b in BenchmarkBlock BenchmarkBlockFailures; do
	v=$(nsper $b)
	echo "    $(printf '%-22s' $b) $(printf '%7.0f' "$v") ns/item, $(awk -v a="$v" -v h="$hw" 'BEGIN { printf "%.2f", (a - h) / 1000 }') µs/item over the pool (target <= 2)"
done
echo "    $(printf '%-22s' BenchmarkHandWritten) $(printf '%7.0f' "$hw") ns/item"
echo

echo "(d) peak RSS of no-op items"
if [ -x /usr/bin/time ]; then
	for n in 100000 1000000; do
		echo "    results: failures, $(printf '%9d' $n) items   $(peak_rss "$flowrun" apply bench/noop-failures.yaml --set n=$n) MB  (target < 150 MB, flat in n)"
	done
	for n in 10000 100000; do
		echo "    results: all,      $(printf '%9d' $n) items   $(peak_rss "$flowrun" apply bench/noop-all.yaml --set n=$n) MB"
	done
else
	echo "    /usr/bin/time not installed: skipped"
fi
