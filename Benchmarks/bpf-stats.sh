#!/usr/bin/env bash
# bpf-stats.sh: what each bridgetrace program costs per invocation under real traffic,
# from the kernel's own accounting (kernel.bpf_stats_enabled: run_time_ns / run_cnt per
# program, read from the tracer's program fds in /proc/PID/fdinfo), next to what
# BPF_PROG_TEST_RUN says (bt-progbench).
#
# trafgen in the lab's vm1 namespace sends 64 B UDP frames to vm2 at RATE for DURATION s
# through the lab bridge while `bridgetrace MODE` runs; MODE is `counters` (default) or
# `trace` (trace --all --json > /dev/null), or `floor`: bpf/build/baseline.bpf.o's empty
# tc program (attached with tc, clsact, on ingress and egress of every port), whose
# run_time_ns is what bpf_stats itself and a program's entry cost. Prints ns per
# invocation for each program.
# Everything lives in namespaces this script creates and deletes; bpf_stats_enabled is put
# back to what it was.
#   BRIDGETRACE_BIN=.build/release/bridgetrace Benchmarks/bpf-stats.sh [counters|trace]
# Environment: RATE (pps, default 200000), DURATION (s, 4), RX_HOOK (auto|xdp|tc, auto),
# TRACE_ARGS (more trace options, e.g. "-B 1024").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BRIDGETRACE_BIN:-$here/../.build/release/bridgetrace}
MODE=${1:-counters}
RATE=${RATE:-200000}
DURATION=${DURATION:-4}
RX_HOOK=${RX_HOOK:-auto}
NAME=btstat$$
die() { echo "bpf-stats: $*" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "run as root"
[[ -x $BIN ]] || die "no bridgetrace binary at $BIN (set BRIDGETRACE_BIN)"
command -v trafgen >/dev/null || die "trafgen not found: apt-get install netsniff-ng"

tmp=$(mktemp -d)
tracer=""
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
    [[ -n $tracer ]] && kill -INT "$tracer" 2>/dev/null && wait "$tracer" 2>/dev/null || true
    sysctl -qw kernel.bpf_stats_enabled="$stats_before"
    "$BIN" lab down --name "$NAME" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$BIN" lab up --name "$NAME" --vms 2 >/dev/null
ip netns exec "$NAME-vm1" ip neigh replace 198.18.0.12 lladdr 52:54:00:00:00:02 dev eth0 nud permanent
ip netns exec "$NAME-vm1" ping -c 1 -W 2 198.18.0.12 >/dev/null

cat >"$tmp/udp.cfg" <<'CFG'
{
  0x52,0x54,0x00,0x00,0x00,0x02, 0x52,0x54,0x00,0x00,0x00,0x01, c16(0x0800),
  0x45, 0x00, c16(46), c16(1), c16(0x4000), 64, 17, csumip(14, 33),
  198,18,0,11, 198,18,0,12,
  c16(1024), c16(9), c16(26), c16(0),
  fill(0xab, 18)
}
CFG

# name prog_id run_time_ns run_cnt of the empty programs (floor mode), via bpftool.
read_floor_stats() {
    for id in $(ip netns exec "$NAME-br" bpftool -j net show | python3 -c '
import json, sys
for section in json.load(sys.stdin):
    for entry in section.get("tc", []):
        if entry.get("name", "").startswith("baseline.bpf.o"): print(entry["id"])' | sort -u); do
        bpftool -j prog show id "$id" | python3 -c '
import json, sys
p = json.load(sys.stdin); print(p["name"], p["id"], p.get("run_time_ns", 0), p.get("run_cnt", 0))'
    done
}

case $MODE in
    floor)
        obj=$here/../bpf/build/baseline.bpf.o
        [[ -r $obj ]] || die "no $obj: make -C bpf"
        for port in vm1 vm2 uplink; do
            ip netns exec "$NAME-br" tc qdisc add dev "$port" clsact
            ip netns exec "$NAME-br" tc filter add dev "$port" ingress bpf direct-action obj "$obj" sec tc
            ip netns exec "$NAME-br" tc filter add dev "$port" egress bpf direct-action obj "$obj" sec tc
        done ;;
    counters) args=(counters br0 --netns "$NAME-br" --json --interval 60 --rx-hook "$RX_HOOK") ;;
    trace) args=(trace br0 --netns "$NAME-br" --all --json --rx-hook "$RX_HOOK" ${TRACE_ARGS:-}) ;;
    *) die "MODE is counters or trace" ;;
esac
if [[ $MODE != floor ]]; then
    "$BIN" "${args[@]}" --ready-file "$tmp/ready" >/dev/null 2>"$tmp/err" &
    tracer=$!
    for _ in $(seq 200); do [[ -f $tmp/ready ]] && break; sleep 0.05; done
    [[ -f $tmp/ready ]] || { cat "$tmp/err" >&2; die "bridgetrace did not start"; }
fi

# name prog_id run_time_ns run_cnt, for every program fd the tracer holds.
read_stats() {
    if [[ $MODE == floor ]]; then read_floor_stats; return; fi
    for f in /proc/"$tracer"/fdinfo/*; do
        grep -q '^prog_type' "$f" 2>/dev/null || continue
        id=$(awk '/^prog_id/ {print $2}' "$f")
        name=$(bpftool -j prog show id "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')
        echo "$name $id $(awk '/^run_time_ns/ {t=$2} /^run_cnt/ {c=$2} END {print t, c}' "$f")"
    done | sort -u
}

sysctl -qw kernel.bpf_stats_enabled=1
read_stats >"$tmp/before"
ip netns exec "$NAME-vm1" trafgen --dev eth0 --conf "$tmp/udp.cfg" --cpus 1 --rate "${RATE}pps" \
    --num $((RATE * DURATION)) --no-sock-mem --notouch-irq --no-cpu-stats -q >/dev/null 2>&1 || true
read_stats >"$tmp/after"
sysctl -qw kernel.bpf_stats_enabled="$stats_before"

printf '%-14s %10s %14s %12s\n' program runs run_time_ns ns/run
join -j 2 <(sort -k2 "$tmp/before") <(sort -k2 "$tmp/after") | while read -r id n0 t0 c0 n1 t1 c1; do
    runs=$((c1 - c0)); [[ $runs -gt 0 ]] || continue
    printf '%-14s %10d %14d %12.1f\n' "$n0" "$runs" $((t1 - t0)) "$(python3 -c "print(($t1 - $t0) / $runs)")"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) on $(nproc) CPUs; mode $MODE, rx hook $RX_HOOK, $RATE pps x ${DURATION}s"
