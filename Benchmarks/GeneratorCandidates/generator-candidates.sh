#!/usr/bin/env bash
# Which userspace path should the bench's generator take where the kernel refuses live
# XDP frames? Each candidate sends 64-byte frames (stamped like the bench's) on one veth
# into an XDP sink that counts and drops them, in rounds that rotate the order, from the
# same CPUs: trafgen (netsniff-ng, PACKET_TX_RING) against AF_XDP copy mode, TX_RING and
# sendmmsg (candidates.c). The figure is frames counted at the sink per second, over a
# window after a warm-up; ratios to trafgen of the same round.
#
#   Benchmarks/GeneratorCandidates/generator-candidates.sh            # 1 thread / --cpus 1
#   THREADS=2 Benchmarks/GeneratorCandidates/generator-candidates.sh  # 2 threads / --cpus 2
#
# Environment: ROUNDS (5), DURATION seconds measured (2), WARMUP seconds (0.5), THREADS (1),
# MODES ("trafgen af-xdp tx-ring sendmmsg"). Needs root, gcc, libxdp-dev, libbpf-dev,
# clang (the Swift toolchain's), bpftool, trafgen. Builds its own namespaces (btgc<pid>-*)
# and temporary directory; the EXIT trap removes both, however the script ends.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-2}
WARMUP=${WARMUP:-0.5}
THREADS=${THREADS:-1}
MODES=${MODES:-"trafgen af-xdp tx-ring sendmmsg"}
CLANG=${CLANG:-$(command -v /opt/swift/usr/bin/clang || command -v clang)}
gen=btgc$$-gen
sink=btgc$$-sink
work=$(mktemp -d /tmp/btgc.XXXXXX)
sender=

cleanup() {
  [ -n "$sender" ] && kill -INT -- "-$sender" 2>/dev/null || true
  ip netns del "$gen" 2>/dev/null || true
  ip netns del "$sink" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "generator-candidates.sh: run as root (namespaces, XDP)" >&2; exit 2; }
for tool in gcc bpftool trafgen python3 "$CLANG"; do
  command -v "$tool" >/dev/null || { echo "generator-candidates.sh: $tool is missing" >&2; exit 2; }
done
gcc -O2 -Wall -o "$work/candidates" "$here/candidates.c" -lxdp -lbpf -lpthread
"$CLANG" -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" -c "$here/count.bpf.c" -o "$work/count.bpf.o"

ip netns add "$gen"
ip netns add "$sink"
# As many queues as threads: each AF_XDP thread binds a queue of its own.
ip -n "$gen" link add gen0 numtxqueues "$THREADS" numrxqueues "$THREADS" address 52:54:00:be:00:00 type veth \
  peer name sink0 numtxqueues "$THREADS" numrxqueues "$THREADS" address 52:54:00:bf:00:01 netns "$sink"
ip -n "$gen" link set gen0 up
ip -n "$sink" link set sink0 up
ip -n "$sink" link set dev sink0 xdpdrv obj "$work/count.bpf.o" sec xdp
prog=$(ip -n "$sink" -d link show sink0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
map=$(bpftool prog show id "$prog" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["map_ids"][0])')
sink_count() {
  bpftool map dump id "$map" -j | python3 -c 'import json,sys; print(sum(v["value"] for v in json.load(sys.stdin)[0]["formatted"]["values"]))'
}
# trafgen's config: the same 60 bytes as candidates.c sends.
python3 -c 'import sys; f = bytes.fromhex("525400bf0001525400be00000800" "4500002e000040004011" "0000" "c6120100c6130100" "0400b7b7001a0000") + bytes(18); print("{ " + ", ".join("0x%02x" % b for b in f) + " }")' > "$work/frame.cfg"

# One mode, one window: prints frames per second at the sink.
measure() {
  local mode=$1 total
  total=$(python3 -c "print($WARMUP + $DURATION + 0.5)")
  if [ "$mode" = trafgen ]; then
    setsid ip netns exec "$gen" trafgen --dev gen0 --conf "$work/frame.cfg" --cpus "$THREADS" \
      --no-sock-mem --notouch-irq --no-cpu-stats >/dev/null 2>&1 &
  else
    setsid ip netns exec "$gen" "$work/candidates" gen0 "$mode" "$total" "$THREADS" >/dev/null &
  fi
  sender=$!
  sleep "$WARMUP"
  local before after start end
  before=$(sink_count); start=$(date +%s.%N)
  sleep "$DURATION"
  after=$(sink_count); end=$(date +%s.%N)
  kill -INT -- "-$sender" 2>/dev/null || true
  wait "$sender" 2>/dev/null || true
  sender=
  python3 -c "print('%.0f' % (($after - $before) / ($end - $start)))"
}

declare -A results
modes=($MODES)
echo "generator candidates: ${#modes[@]} modes, $ROUNDS rounds, ${DURATION}s each, $THREADS thread(s)/CPU(s) each; load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 0; round < ROUNDS; round++)); do
  # Rotate the order so that no mode always runs first or after the same one.
  order=("${modes[@]:round % ${#modes[@]}}" "${modes[@]:0:round % ${#modes[@]}}")
  line="round $((round + 1)):"
  for mode in "${order[@]}"; do
    pps=$(measure "$mode")
    results[$mode]+="$pps "
    line+=" $mode $pps"
  done
  echo "$line"
done
for mode in "${modes[@]}"; do echo "$mode ${results[$mode]}"; done | python3 -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    mode, *values = line.split()
    rows[mode] = [float(v) for v in values]
base = rows.get("trafgen")
for mode, values in rows.items():
    ratio = ""
    if base and mode != "trafgen":
        ratios = [v / b for v, b in zip(values, base) if b > 0]
        ratio = "  %.2fx trafgen (per round: median, range %.2f-%.2f)" % (statistics.median(ratios), min(ratios), max(ratios))
    print("%-9s median %7.0f pps  range %7.0f-%7.0f%s" % (mode, statistics.median(values), min(values), max(values), ratio))
'
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
