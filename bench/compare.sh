#!/usr/bin/env bash
# compare.sh puts flowrun beside the tools a user would reach for instead,
# on this machine and in one invocation, and prints the ratios. Each
# timing is the best of $RUNS runs (default 3): the machine may be shared.
#
#   bash bench/compare.sh            # everything, a few minutes
#   RUNS=1 bash bench/compare.sh     # quicker, noisier
#
# It installs GNU parallel, GNU time, hey and wrk with apt when they are
# missing and it runs as root; a comparison whose tool is unavailable is
# skipped.
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
have hey || apt_install hey
have wrk || apt_install wrk

work=$(mktemp -d)
server=""
trap '[ -z "$server" ] || kill $server 2>/dev/null; rm -rf "$work"' EXIT
flowrun=$work/flowrun
go build -o "$flowrun" ./cmd/flowrun
# Runs are recorded (journaled), as by default, in a state directory of
# the scratch area rather than in the checkout.
export FLOWRUN_STATE_DIR=$work/state

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

echo "(a) 2,000 items of exec: [true] at 2 workers, the run journaled"
fr=$(best "$flowrun" apply bench/exec-true.yaml)
ns=$(best "$flowrun" apply bench/exec-true.yaml --no-state)
xa=$(best sh -c 'seq 2000 | xargs -P2 -n1 true')
echo "    flowrun        ${fr} s"
echo "    xargs -P2      ${xa} s    flowrun/xargs    $(ratio "$fr" "$xa")  (target <= 1.10)"
echo "    --no-state     ${ns} s    journaled/not    $(ratio "$fr" "$ns")"
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
go test -run '^$' -bench '^(BenchmarkBlock|BenchmarkBlockFailures|BenchmarkHandWritten|BenchmarkBlockJournal)$' -benchtime 20x -count "$RUNS" ./pkg/exec >"$work/bench.txt"
# The best ns/item of each benchmark.
nsper() { awk -v n="$1" '$1 ~ "^"n"-" { for (i = 1; i < NF; i++) if ($(i+1) == "ns/item") v = $i; if (b == "" || v < b) b = v } END { print b }' "$work/bench.txt"; }
hw=$(nsper BenchmarkHandWritten)
for b in BenchmarkBlock BenchmarkBlockFailures; do
	v=$(nsper $b)
	echo "    $(printf '%-22s' $b) $(printf '%7.0f' "$v") ns/item, $(awk -v a="$v" -v h="$hw" 'BEGIN { printf "%.2f", (a - h) / 1000 }') µs/item over the pool (target <= 2)"
done
echo "    $(printf '%-22s' BenchmarkHandWritten) $(printf '%7.0f' "$hw") ns/item"
bl=$(nsper BenchmarkBlock)
bj=$(nsper BenchmarkBlockJournal)
echo "    $(printf '%-22s' BenchmarkBlockJournal) $(printf '%7.0f' "$bj") ns/item, $(awk -v a="$bj" -v b="$bl" 'BEGIN { printf "%.2f", (a - b) / 1000 }') µs/item over BenchmarkBlock: the journal and report.json (target <= 1)"
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
echo

echo "(e) 40,000 GETs at 50 workers, end to end, against a loopback server started here (examples/demoserver)"
go build -o "$work/demoserver" ./examples/demoserver
go build -o "$work/httpclient" ./bench/httpclient
"$work/demoserver" -addr 127.0.0.1:0 2>"$work/server.log" &
server=$!
for _ in $(seq 50); do grep -q 'serving on' "$work/server.log" && break; sleep 0.1; done
url="$(sed -n 's/.*serving on \(http:[^ ]*\).*/\1/p' "$work/server.log")/backends/users/work"
requests=40000
# measure CMD...: sets wall and cpu, the shortest wall time and the least
# CPU time (user + system) of $RUNS runs, in seconds.
measure() {
	wall="" cpu=""
	local t w c
	for _ in $(seq "$RUNS"); do
		t=$( { TIMEFORMAT='%R %U %S'; time "$@" >"$work/out.txt" 2>&1; } 2>&1 | tail -1)
		w=$(echo "$t" | awk '{ print $1 }')
		c=$(echo "$t" | awk '{ printf "%.3f", $2 + $3 }')
		if [ -z "$wall" ] || awk -v a="$w" -v b="$wall" 'BEGIN { exit !(a < b) }'; then wall=$w; fi
		if [ -z "$cpu" ] || awk -v a="$c" -v b="$cpu" 'BEGIN { exit !(a < b) }'; then cpu=$c; fi
	done
}
# line NAME REQUESTS: one tool's rate and CPU per request.
line() {
	printf '    %-14s %8.0f req/s  %5.1f µs CPU/req\n' "$1" "$(awk -v n="$2" -v w="$wall" 'BEGIN { print n / w }')" "$(awk -v n="$2" -v c="$cpu" 'BEGIN { print c / n * 1e6 }')"
}
# The two that the target compares take turns, so that a busy spell on a
# shared machine does not fall on one of them only.
# flowrun runs it twice: bench/http-get.yaml keeps every response (the
# default, results: all: the report and the journal hold each one);
# bench/http-load.yaml keeps what the hand-written client keeps, the
# latencies and the failures (results: failures, as a load test is
# written).
# Besides the best of each, the ratios of each round (the three runs of a
# round being seconds apart) and their median: the machine's busy spells
# move all three of a round, and the median of the rounds is what the
# noise moves least.
hw_wall="" hw_cpu="" fr_wall="" fr_cpu="" fl_wall="" fl_cpu=""
: >"$work/rounds.txt"
for _ in $(seq "$RUNS"); do
	RUNS=1 measure "$work/httpclient" -url "$url" -n "$requests" -workers 50
	hw_wall=$(awk -v a="$wall" -v b="$hw_wall" 'BEGIN { print (b == "" || a < b) ? a : b }')
	hw_cpu=$(awk -v a="$cpu" -v b="$hw_cpu" 'BEGIN { print (b == "" || a < b) ? a : b }')
	round="$wall $cpu"
	RUNS=1 measure "$flowrun" apply bench/http-get.yaml --set url="$url" --set n="$requests" --set workers=50
	fr_wall=$(awk -v a="$wall" -v b="$fr_wall" 'BEGIN { print (b == "" || a < b) ? a : b }')
	fr_cpu=$(awk -v a="$cpu" -v b="$fr_cpu" 'BEGIN { print (b == "" || a < b) ? a : b }')
	round="$round $wall $cpu"
	RUNS=1 measure "$flowrun" apply bench/http-load.yaml --set url="$url" --set n="$requests" --set workers=50
	fl_wall=$(awk -v a="$wall" -v b="$fl_wall" 'BEGIN { print (b == "" || a < b) ? a : b }')
	fl_cpu=$(awk -v a="$cpu" -v b="$fl_cpu" 'BEGIN { print (b == "" || a < b) ? a : b }')
	echo "$round $wall $cpu" >>"$work/rounds.txt"
done
# median EXPR: the median over the rounds of an awk expression of the
# fields hw_wall hw_cpu fr_wall fr_cpu fl_wall fl_cpu ($1..$6).
median() {
	awk "{ print $1 }" "$work/rounds.txt" | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
wall=$hw_wall cpu=$hw_cpu line "hand-written" "$requests"
wall=$fr_wall cpu=$fr_cpu line "flowrun" "$requests"
echo "    flowrun/hand-written: rate $(ratio "$hw_wall" "$fr_wall") (target >= 0.95), CPU per request $(ratio "$fr_cpu" "$hw_cpu") (target <= 1.2); every response kept"
echo "        median of $RUNS rounds: rate $(median '$1 / $3'), CPU per request $(median '$4 / $2')"
wall=$fl_wall cpu=$fl_cpu line "flowrun (load)" "$requests"
echo "    flowrun/hand-written: rate $(ratio "$hw_wall" "$fl_wall") (target >= 0.95), CPU per request $(ratio "$fl_cpu" "$hw_cpu") (target <= 1.2); results: failures"
echo "        median of $RUNS rounds: rate $(median '$1 / $5'), CPU per request $(median '$6 / $2')"
if have hey; then
	measure hey -n "$requests" -c 50 "$url"
	line "hey" "$requests"
	echo "    flowrun/hey: rate $(ratio "$wall" "$fr_wall"), CPU per request $(ratio "$fr_cpu" "$cpu")"
else
	echo "    hey            not installed: skipped"
fi
if have wrk; then
	# wrk runs for a time, not a count: as long as the hand-written
	# client took, at least 2 s; its count of requests is read back.
	secs=$(awk -v w="$hw_wall" 'BEGIN { s = int(w + 0.999); print (s < 2 ? 2 : s) }')
	measure wrk -t2 -c50 -d"${secs}s" "$url"
	n=$(awk '/requests in/ { print $1 }' "$work/out.txt")
	wall=$secs
	line "wrk (${secs}s)" "$n"
	echo "    flowrun/wrk: rate $(awk -v n="$n" -v s="$secs" -v r="$requests" -v f="$fr_wall" 'BEGIN { printf "%.2f", (r / f) / (n / s) }'), CPU per request $(awk -v fc="$fr_cpu" -v r="$requests" -v c="$cpu" -v n="$n" 'BEGIN { printf "%.2f", (fc / r) / (c / n) }')  (C, with no result kept per request)"
else
	echo "    wrk            not installed: skipped"
fi
# The same against a server that takes 5 ms to answer, as real ones do:
# 50 workers then keep 10,000 requests a second in flight and neither
# client is short of CPU, so the rate is the server's and the CPU per
# request what a load test costs its machine.
"$work/demoserver" -addr 127.0.0.1:0 -latency 5ms 2>"$work/server5.log" &
server="$server $!"
for _ in $(seq 50); do grep -q 'serving on' "$work/server5.log" && break; sleep 0.1; done
url5="$(sed -n 's/.*serving on \(http:[^ ]*\).*/\1/p' "$work/server5.log")/backends/users/work"
hw_wall="" hw_cpu="" fr_wall="" fr_cpu=""
for _ in $(seq "$RUNS"); do
	RUNS=1 measure "$work/httpclient" -url "$url5" -n "$requests" -workers 50
	hw_wall=$(awk -v a="$wall" -v b="$hw_wall" 'BEGIN { print (b == "" || a < b) ? a : b }')
	hw_cpu=$(awk -v a="$cpu" -v b="$hw_cpu" 'BEGIN { print (b == "" || a < b) ? a : b }')
	RUNS=1 measure "$flowrun" apply bench/http-get.yaml --set url="$url5" --set n="$requests" --set workers=50
	fr_wall=$(awk -v a="$wall" -v b="$fr_wall" 'BEGIN { print (b == "" || a < b) ? a : b }')
	fr_cpu=$(awk -v a="$cpu" -v b="$fr_cpu" 'BEGIN { print (b == "" || a < b) ? a : b }')
done
echo "    against a server answering in 5 ms:"
wall=$hw_wall cpu=$hw_cpu line "hand-written" "$requests"
wall=$fr_wall cpu=$fr_cpu line "flowrun" "$requests"
echo "    flowrun/hand-written: rate $(ratio "$hw_wall" "$fr_wall"), CPU per request $(ratio "$fr_cpu" "$hw_cpu")"

echo
echo "(f) 1,000,000 no-op items journaled: peak RSS of the run, and of its resume after a kill at 50%"
if [ -x /usr/bin/time ]; then
	export FLOWRUN_STATE_DIR=$work/state-e1
	first=$(peak_rss "$flowrun" apply bench/noop-failures.yaml --set n=1000000)
	full=$(stat -c %s "$FLOWRUN_STATE_DIR"/runs/*/journal)
	echo "    first run              ${first} MB  (target < 150 MB; journal $((full / 1048576)) MB)"
	export FLOWRUN_STATE_DIR=$work/state-e2
	"$flowrun" apply bench/noop-failures.yaml --set n=1000000 >/dev/null 2>&1 &
	pid=$!
	until size=$(stat -c %s "$FLOWRUN_STATE_DIR"/runs/*/journal 2>/dev/null) && [ "$size" -ge $((full / 2)) ]; do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.005
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	at=$(stat -c %s "$FLOWRUN_STATE_DIR"/runs/*/journal)
	resumed=$(peak_rss "$flowrun" apply bench/noop-failures.yaml --set n=1000000 --resume)
	echo "    resume after kill -9   ${resumed} MB  (target < 150 MB; killed with $((at * 100 / full))% of the journal written)"
else
	echo "    /usr/bin/time not installed: skipped"
fi
