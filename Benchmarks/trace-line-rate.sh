#!/usr/bin/env bash
# trace-line-rate.sh: `bridgetrace trace br0 --all --json > file` on a Linux bridge fed
# steadily with 64-byte frames at RATE frames/s (default 200000, i.e. 400000 events/s: each
# frame is an rx event at p-gen and a tx event at p-sink) for DURATION seconds (default 12).
#
# The feed is the bench's own: `bridgetrace bench --dut linux-bridge --netfilter off
# --rate RATE --pacing sleep`, a burst of BATCH (128: 0.64 ms of frames at 200 k/s) live XDP frames every BATCH/RATE
# seconds with the generator asleep in between, so it does not spin a CPU the tracer
# needs. `--hold-file` makes the bench wait, with its DUT built and checked, until trace
# is attached and the ports' counters are read, and again after the trial until they are
# read and trace has stopped: trace's window holds exactly the trial's frames.
#
# PASS needs all of: lost == 0; lines in the file == events trace reported; events ==
# the rx+tx packet deltas of br0's ports over the trace (`ip -s link`, counters trace does
# not own); and the bridge forwarded at least 95% of RATE (a tracer that slows the bridge
# down has not kept up either).
#
#   swift build -c release --product bridgetrace
#   BRIDGETRACE_BIN=.build/release/bridgetrace Benchmarks/trace-line-rate.sh
#
# Environment: RATE, DURATION, BATCH (frames per burst, 128; the generator costs ~23% of a CPU at 64, ~14% at 128, ~11% at 256, at 200 k/s), DUT_CPU (own: generator on
# CPU 0, the bridge's NAPI thread on CPU 1 at SCHED_FIFO 50; shared: the bridge runs in
# the generator's softirq), BUFFER_KB (trace -B; default trace's own), TRACE_CPU (a taskset
# list for trace; default unpinned), TRACE_NICE (run trace under `nice -n`; default 0), OUT (the JSON file; default a temp file in OUT_DIR or
# /tmp, removed), TRACE_ARGS (extra args), PACING (sleep; spin for the old spinning feed).
# Needs root and python3. Touches only the bench's own namespaces (btb<pid>-*), which the
# bench removes however it ends.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BRIDGETRACE_BIN:-$here/../.build/release/bridgetrace}
RATE=${RATE:-200000}
DURATION=${DURATION:-12}
BATCH=${BATCH:-128}
DUT_CPU=${DUT_CPU:-own}
PACING=${PACING:-sleep}
die() { echo "trace-line-rate: $*" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "run as root"
[[ -x $BIN ]] || die "no bridgetrace binary at $BIN (set BRIDGETRACE_BIN)"

tmp=$(mktemp -d "${OUT_DIR:-/tmp}/btlr.XXXXXX")
out=${OUT:-$tmp/trace.json}
hold=$tmp/hold
trace_pid="" bench_pid=""
cleanup() {
    [[ -n $trace_pid ]] && kill -INT "$trace_pid" 2>/dev/null && wait "$trace_pid" 2>/dev/null || true
    rm -f "$hold"   # a bench waiting on it goes on, and ends
    [[ -n $bench_pid ]] && kill -INT "$bench_pid" 2>/dev/null && wait "$bench_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Waits until the bench writes the hold file with this state; prints its content.
await_hold() {
    for _ in $(seq 1200); do
        if [[ -f $hold ]] && grep -q "\"state\":\"$1\"" "$hold"; then cat "$hold"; return; fi
        kill -0 "$bench_pid" 2>/dev/null || { cat "$tmp/bench.err" >&2; die "the bench ended before '$1'"; }
        sleep 0.05
    done
    die "the bench did not reach '$1' in 60 s"
}
json_field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
# rx+tx packets of every port of br0.
ports_rxtx() {
    ip -n "$ns" -s -j link show master br0 | python3 -c '
import json, sys
print(sum(l["stats64"]["rx"]["packets"] + l["stats64"]["tx"]["packets"] for l in json.load(sys.stdin)))'
}
link_packets() {  # interface rx|tx
    ip -n "$ns" -s -j link show "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['stats64']['$2']['packets'])"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

"$BIN" bench --dut linux-bridge --netfilter off --frame-size 64 --rate "$RATE" --duration "$DURATION" --trials 1 \
    --pacing "$PACING" --batch "$BATCH" --dut-cpu "$DUT_CPU" --hold-file "$hold" --json --no-progress \
    >"$tmp/bench.json" 2>"$tmp/bench.err" &
bench_pid=$!
ready=$(await_hold ready)
ns=$(json_field "$ready" netns)

buffer_args=()
[[ -n ${BUFFER_KB:-} ]] && buffer_args=(-B "$BUFFER_KB")
pin=()
[[ -n ${TRACE_CPU:-} ]] && pin=(taskset -c "$TRACE_CPU")
[[ -n ${TRACE_NICE:-} ]] && pin=(nice -n "$TRACE_NICE" "${pin[@]}")
# shellcheck disable=SC2086
"${pin[@]}" "$BIN" trace br0 --netns "$ns" --all --json "${buffer_args[@]}" ${TRACE_ARGS:-} \
    --ready-file "$tmp/ready" >"$out" 2>"$tmp/trace.err" &
trace_pid=$!
for _ in $(seq 200); do [[ -f $tmp/ready ]] && break; sleep 0.05; done
[[ -f $tmp/ready ]] || { cat "$tmp/trace.err" >&2; die "trace did not start"; }

ports0=$(ports_rxtx); fwd0=$(link_packets p-sink tx)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_cpu0=$(cpu_ticks "$bench_pid"); trace_cpu0=$(cpu_ticks "$trace_pid")
t0=$(date +%s%N)
rm -f "$hold"   # the trial starts
per_second=()
last=$fwd0 next=$((t0 + 1000000000))
while ! { [[ -f $hold ]] && grep -q '"state":"done"' "$hold"; }; do
    kill -0 "$bench_pid" 2>/dev/null || { cat "$tmp/bench.err" >&2; die "the bench ended during the trial"; }
    sleep 0.05
    if [[ $(date +%s%N) -ge $next ]]; then
        now=$(link_packets p-sink tx)
        per_second+=($((now - last)))
        last=$now next=$((next + 1000000000))
    fi
done
t1=$(date +%s%N)
bench_cpu1=$(cpu_ticks "$bench_pid"); trace_cpu1=$(cpu_ticks "$trace_pid")
sleep 0.2   # the last frames leave the bridge's queues
ports1=$(ports_rxtx); fwd1=$(link_packets p-sink tx)
{ kill -INT "$trace_pid"; wait "$trace_pid"; } || true; trace_pid=""
ports2=$(ports_rxtx)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$hold"
wait "$bench_pid" || true; bench_pid=""

summary=$(grep -E '^bridgetrace: [0-9]+ events?' "$tmp/trace.err" | tail -n 1)
events=$(sed -E 's/^bridgetrace: ([0-9]+) events?.*/\1/' <<<"$summary")
lost=$(sed -nE 's/.*, ([0-9]+) lost$/\1/p' <<<"$summary"); lost=${lost:-0}
lines=$(wc -l <"$out")
forwarded=$((fwd1 - fwd0))
seen=$((ports1 - ports0))
elapsed_ms=$(( (t1 - t0) / 1000000 ))
tick=$(getconf CLK_TCK)
cpu_pct() { echo $(( ($2 - $1) * 100000 / tick / elapsed_ms )); }
read -r sent received trial_ms < <(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["duts"][0]["measurements"][0]["trials"][0]
print(t["sent"], t["received"], int(t["wall_s"] * 1000))' "$tmp/bench.json")
rate=$((forwarded * 1000 / trial_ms))
fs=$(stat -f -c %T "$(dirname "$out")")
echo "offered: $RATE frames/s of 64 B for $DURATION s (bench --pacing $PACING --batch $BATCH --dut-cpu $DUT_CPU), bridge ns $ns"
echo "bench: sent $sent, received by the sink $received; bridge forwarded (p-sink tx) $forwarded in the bench's $trial_ms ms = $rate frames/s"
echo "p-sink tx per second: ${per_second[*]}"
echo "bridge port packets rx+tx (events expected): $seen (after trace stopped: $((ports2 - ports0)))"
echo "trace: $summary"
echo "events $events, lost $lost, lines in the file $lines ($(du -h "$out" | cut -f1), on $fs)"
echo "CPU over the trial (% of one CPU): bench (generator, and in shared mode the bridge) $(cpu_pct "$bench_cpu0" "$bench_cpu1")%, trace $(cpu_pct "$trace_cpu0" "$trace_cpu1")%"
echo "ring buffer: ${BUFFER_KB:-default} KiB (-B); trace on CPU ${TRACE_CPU:-any}, nice ${TRACE_NICE:-0}"
echo "load average: before $load0, after $load1"
grep -v '^bridgetrace: [0-9]* events' "$tmp/trace.err" | grep -i "warn\|lost\|error" || true
failures=()
[[ $lost -eq 0 ]] || failures+=("lost $lost")
[[ $lines -eq $events ]] || failures+=("lines $lines != events $events")
[[ $events -eq $seen ]] || failures+=("events $events != port packets $seen")
[[ $rate -ge $((RATE * 95 / 100)) ]] || failures+=("the bridge forwarded $rate frames/s, under 95% of $RATE")
if [[ ${#failures[@]} -eq 0 ]]; then
    echo "PASS: 0 lost, every event written ($events events at $((events * 1000 / trial_ms)) events/s)"
else
    echo "FAIL: $(IFS=';'; echo "${failures[*]}")"
    exit 1
fi
