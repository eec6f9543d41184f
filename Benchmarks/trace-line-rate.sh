#!/usr/bin/env bash
# trace-line-rate.sh: `bridgetrace trace br0 --all --json > file` on a lab bridge fed
# steadily with 64-byte frames at RATE frames/s (default 200000, i.e. 400000 events/s: each
# frame is an rx event at vm1 and a tx event at vm2) for DURATION seconds (default 12).
# Reports frames sent, frames the bridge ports saw, events trace reported and lost, lines
# in the file, the ring-buffer settings, and the machine's load.
#
# The generator is trafgen at full speed through the qdisc (--qdisc-path) of vm1's eth0,
# shaped by a tbf qdisc there to RATE * 64 bytes/s: trafgen's own --rate sleeps per frame
# and tops out near 50 k frames/s here, while a token bucket paces in the kernel, so the
# bridge sees a steady RATE (the per-second figures show it). Excess frames die in the
# tbf, before the bridge, and are not counted anywhere below.
#
# What must hold for "0 lost, every event written": lost == 0, lines == events, and
# events == the rx+tx packet deltas of all bridge ports over the trace (`ip -s link`, a
# counter trace does not own; trace starts before and stops after the traffic).
#
#   swift build -c release --product bridgetrace
#   BRIDGETRACE_BIN=.build/release/bridgetrace Benchmarks/trace-line-rate.sh
#
# Environment: RATE, DURATION, BUFFER_KB (trace -B; default trace's own), TRACE_CPU (1),
# GEN_CPU (0; a taskset list), GEN_THREADS (trafgen --cpus, 1), OUT (the JSON file; default a temp file, removed), TRACE_ARGS (extra args).
# Needs root, trafgen (netsniff-ng), tc, python3. Touches only namespaces it creates
# (bridgetrace lab up --name btlr<pid>), removed on every exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BRIDGETRACE_BIN:-$here/../.build/release/bridgetrace}
RATE=${RATE:-200000}
DURATION=${DURATION:-12}
TRACE_CPU=${TRACE_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
GEN_THREADS=${GEN_THREADS:-1}
NAME=btlr$(printf %x $((RANDOM << 8 | $$ & 255)))
die() { echo "trace-line-rate: $*" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "run as root"
[[ -x $BIN ]] || die "no bridgetrace binary at $BIN (set BRIDGETRACE_BIN)"
command -v trafgen >/dev/null || die "trafgen not found: apt-get install netsniff-ng"

tmp=$(mktemp -d)
out=${OUT:-$tmp/trace.json}
trace_pid="" gen_pid=""
cleanup() {
    [[ -n $gen_pid ]] && kill "$gen_pid" 2>/dev/null && wait "$gen_pid" 2>/dev/null || true
    [[ -n $trace_pid ]] && kill -INT "$trace_pid" 2>/dev/null && wait "$trace_pid" 2>/dev/null || true
    "$BIN" lab down --name "$NAME" >/dev/null 2>&1 || true
    for ns in $(ip netns list | awk '{print $1}' | grep "^$NAME-" || true); do ip netns del "$ns" || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$BIN" lab up --name "$NAME" --vms 2 >/dev/null
ip netns exec "$NAME-vm1" ip neigh replace 198.18.0.12 lladdr 52:54:00:00:00:02 dev eth0 nud permanent
ip netns exec "$NAME-vm1" ping -c 1 -W 2 198.18.0.12 >/dev/null   # the bridge learns both MACs
# The token bucket: RATE frames of 64 bytes per second, a bucket of ~2 ms of frames.
ip netns exec "$NAME-vm1" tc qdisc replace dev eth0 root tbf rate "$((RATE * 64 * 8 / 1000))kbit" \
    burst "$((RATE * 64 / 500 > 3000 ? RATE * 64 / 500 : 3000))" latency 20ms mpu 64

# 64-byte UDP vm1 -> vm2 (not a DHCP port): an "other" frame, traced only with --all.
cat >"$tmp/udp.cfg" <<'CFG'
{
  0x52,0x54,0x00,0x00,0x00,0x02, 0x52,0x54,0x00,0x00,0x00,0x01, c16(0x0800),
  0x45, 0x00, c16(50), c16(1), c16(0x4000), 64, 17, csumip(14, 33),
  198,18,0,11, 198,18,0,12,
  c16(1024), c16(9), c16(30), c16(0),
  fill(0xab, 22)
}
CFG

# Packet counters of every bridge port (rx+tx), of vm1's eth0 tx and vm2's eth0 rx.
ports_rxtx() {
    ip -n "$NAME-br" -s -j link show master br0 | python3 -c '
import json, sys
print(sum(l["stats64"]["rx"]["packets"] + l["stats64"]["tx"]["packets"] for l in json.load(sys.stdin)))'
}
link_packets() {  # namespace interface rx|tx
    ip -n "$1" -s -j link show "$2" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['stats64']['$3']['packets'])"
}

buffer_args=()
[[ -n ${BUFFER_KB:-} ]] && buffer_args=(-B "$BUFFER_KB")
# shellcheck disable=SC2086
taskset -c "$TRACE_CPU" "$BIN" trace br0 --netns "$NAME-br" --all --json "${buffer_args[@]}" ${TRACE_ARGS:-} \
    --ready-file "$tmp/ready" >"$out" 2>"$tmp/trace.err" &
trace_pid=$!
for _ in $(seq 200); do [[ -f $tmp/ready ]] && break; sleep 0.05; done
[[ -f $tmp/ready ]] || { cat "$tmp/trace.err" >&2; die "trace did not start"; }

ports0=$(ports_rxtx); sent0=$(link_packets "$NAME-vm1" eth0 tx); recv0=$(link_packets "$NAME-vm2" eth0 rx)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s%N)
taskset -c "$GEN_CPU" ip netns exec "$NAME-vm1" trafgen --dev eth0 --conf "$tmp/udp.cfg" --qdisc-path \
    --cpus "$GEN_THREADS" --no-sock-mem --notouch-irq --no-cpu-stats -q >/dev/null 2>&1 &
gen_pid=$!
per_second=()
last=$recv0
for _ in $(seq "$DURATION"); do
    sleep 1
    now=$(link_packets "$NAME-vm2" eth0 rx)
    per_second+=($((now - last)))
    last=$now
done
{ kill "$gen_pid"; wait "$gen_pid"; } 2>/dev/null || true; gen_pid=""
t1=$(date +%s%N)
sleep 0.5   # the tbf's queue (20 ms at most) drains
sent1=$(link_packets "$NAME-vm1" eth0 tx); recv1=$(link_packets "$NAME-vm2" eth0 rx)
{ kill -INT "$trace_pid"; wait "$trace_pid"; } || true; trace_pid=""
ports1=$(ports_rxtx)
load1=$(cut -d' ' -f1-3 /proc/loadavg)

summary=$(grep -E '^bridgetrace: [0-9]+ events?' "$tmp/trace.err" | tail -n 1)
events=$(sed -E 's/^bridgetrace: ([0-9]+) events?.*/\1/' <<<"$summary")
lost=$(sed -nE 's/.*, ([0-9]+) lost$/\1/p' <<<"$summary"); lost=${lost:-0}
lines=$(wc -l <"$out")
frames=$((recv1 - recv0))
seen=$((ports1 - ports0))
elapsed_ms=$(( (t1 - t0) / 1000000 ))
echo "offered: $RATE frames/s of 64 B for ${DURATION} s (trafgen --qdisc-path, tbf), bridge ns $NAME-br"
echo "frames sent by vm1 (eth0 tx): $((sent1 - sent0)); received by vm2 (eth0 rx): $frames in $elapsed_ms ms = $((frames * 1000 / elapsed_ms)) frames/s"
echo "vm2 rx per second: ${per_second[*]}"
echo "bridge port packets rx+tx (events expected): $seen"
echo "trace: $summary"
echo "events $events, lost $lost, lines in the file $lines"
echo "ring buffer: ${BUFFER_KB:-default} KiB (-B), wakeup watermark 1/8 of the ring, poll timer 10 ms; trace on CPU $TRACE_CPU, trafgen on CPU $GEN_CPU"
echo "load average: before $load0, after $load1"
grep -v '^bridgetrace: [0-9]* events' "$tmp/trace.err" | grep -i "warn\|lost\|error" || true
if [[ $lost -eq 0 && $lines -eq $events && $events -eq $seen ]]; then
    echo "RESULT: 0 lost, every event written ($events events at $((events * 1000 / elapsed_ms)) events/s)"
else
    echo "RESULT: NOT clean (lost $lost, lines $lines, events $events, expected $seen)"
    exit 1
fi
