#!/usr/bin/env bash
# trace-rate.sh: the highest rate of traced frames that `bridgetrace trace` follows with
# zero lost events, with its default ring buffer, writing JSON lines.
#
# trafgen in the lab's vm1 namespace sends ICMP echo *replies* (a traced kind that vm2
# silently accepts, so nothing comes back) to vm2 at a set rate for DURATION seconds:
# every frame is two events (rx at vm1, tx at vm2). For each rate the trace runs with
# `--json > /dev/null`; the figures are what trace's own summary says (events, lost) and
# the frames vm2 really received.
#
# Needs root, trafgen (netsniff-ng), python3 and a bridgetrace binary (release is fairer):
#   swift build -c release && BRIDGETRACE_BIN=.build/release/bridgetrace Benchmarks/trace-rate.sh
# Environment: RATES (pps list, default "50000 100000 200000 300000 400000"), DURATION (s, 4),
# TRACE_ARGS (default "--json"; the issue's case is "--all --json"), TO_FILE=1 (write the
# output to a file, as `> file` does, and check that every event reached it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BRIDGETRACE_BIN:-$here/../.build/release/bridgetrace}
RATES=${RATES:-"50000 100000 200000 300000 400000"}
DURATION=${DURATION:-4}
NAME=btrate$$
die() { echo "trace-rate: $*" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "run as root"
[[ -x $BIN ]] || die "no bridgetrace binary at $BIN (set BRIDGETRACE_BIN)"
command -v trafgen >/dev/null || die "trafgen not found: apt-get install netsniff-ng"

tmp=$(mktemp -d)
trace_pid=""
cleanup() {
    [[ -n $trace_pid ]] && kill -INT "$trace_pid" 2>/dev/null && wait "$trace_pid" 2>/dev/null || true
    "$BIN" lab down --name "$NAME" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$BIN" lab up --name "$NAME" --vms 2 >/dev/null
ip netns exec "$NAME-vm1" ip neigh replace 198.18.0.12 lladdr 52:54:00:00:00:02 dev eth0 nud permanent
ip netns exec "$NAME-vm1" ping -c 1 -W 2 198.18.0.12 >/dev/null   # the bridge learns both MACs

cat >"$tmp/icmp.cfg" <<'CFG'
{
  0x52,0x54,0x00,0x00,0x00,0x02, 0x52,0x54,0x00,0x00,0x00,0x01, c16(0x0800),
  0x45, 0x00, c16(50), c16(1), c16(0x4000), 64, 1, csumip(14, 33),
  198,18,0,11, 198,18,0,12,
  0x00, 0x00, c16(0), c16(7), c16(1),
  fill(0xab, 22)
}
CFG

rx_vm2() { ip -n "$NAME-vm2" -s -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }

printf '%10s %12s %12s %10s %8s\n' "target" "achieved" "events" "lost" "lost%"
best=0
for rate in $RATES; do
    rm -f "$tmp/ready"
    out=/dev/null; [[ ${TO_FILE:-0} == 1 ]] && out=$tmp/trace.out
    # shellcheck disable=SC2086
    "$BIN" trace br0 --netns "$NAME-br" ${TRACE_ARGS:---json} --ready-file "$tmp/ready" >"$out" 2>"$tmp/trace.err" &
    trace_pid=$!
    for _ in $(seq 100); do [[ -f $tmp/ready ]] && break; sleep 0.05; done
    [[ -f $tmp/ready ]] || { cat "$tmp/trace.err" >&2; die "trace did not start"; }
    before=$(rx_vm2); t0=$(date +%s%N)
    ip netns exec "$NAME-vm1" trafgen --dev eth0 --conf "$tmp/icmp.cfg" --cpus 1 --rate "${rate}pps" \
        --num $((rate * DURATION)) --no-sock-mem --notouch-irq --no-cpu-stats -q >/dev/null 2>&1 || true
    t1=$(date +%s%N); after=$(rx_vm2)
    sleep 0.5
    kill -INT "$trace_pid"; wait "$trace_pid" || true; trace_pid=""
    summary=$(tail -n 1 "$tmp/trace.err")          # "bridgetrace: N events (...), L lost"
    events=$(sed -E 's/^bridgetrace: ([0-9]+) events?.*/\1/' <<<"$summary")
    lost=$(sed -E 's/.*, ([0-9]+) lost$/\1/' <<<"$summary")
    achieved=$(( (after - before) * 1000000000 / (t1 - t0) ))
    pct=$(python3 -c "print(f'{100*$lost/max(1,$lost+$events):.2f}')")
    written=""; [[ $out != /dev/null ]] && written=" written $(wc -l <"$out")" && rm -f "$out"
    printf '%10s %12s %12s %10s %8s%s\n' "$rate" "$achieved" "$events" "$lost" "$pct" "$written"
    [[ $lost -eq 0 ]] && (( achieved > best )) && best=$achieved
done
echo "highest traced frame rate with 0 lost events: $best frames/s ($((best * 2)) events/s), default ring buffer, --json"
