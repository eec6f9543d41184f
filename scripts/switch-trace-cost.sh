#!/bin/bash
# What switch tracing costs bt_sw_xdp while nobody traces: MAIN_BIN (a build without it)
# against BRANCH_BIN (default ./.build/debug/bridgetrace), alternating rounds, then the
# branch with a tracer running. Root; makes namespaces btsw* of its own and deletes them.
#   switch-trace-cost.sh testrun ROUNDS   BPF_PROG_TEST_RUN (bpftool prog run, repeat 2e6) on
#       one known-unicast frame (fast-path redirect decision): no NIC, no softirq noise; the
#       traced run uses a filter that matches nothing (the pre-filter's cost only)
#   switch-trace-cost.sh bpfstats ROUNDS  bpf_stats run_time_ns / run_cnt under ping -f -c 20000
#       across the fast path (restores kernel.bpf_stats_enabled); traced: every frame an event
mode=$1 rounds=$2
main=${MAIN_BIN:-/work/main/.build/debug/bridgetrace} branch=${BRANCH_BIN:-$PWD/.build/debug/bridgetrace}
id=btswc$$
set -e
prev=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() { for i in 1 2; do ip netns del ${id}h$i 2>/dev/null; done; ip netns del ${id}s 2>/dev/null; rm -f /tmp/$id.*
            sysctl -qw kernel.bpf_stats_enabled=$prev; }
trap cleanup EXIT
ip netns add ${id}s
for i in 1 2; do ns=${id}h$i; ip netns add $ns
 ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
 ip -n $ns link add eth0 address 02:00:00:00:00:0$i type veth peer name p$i netns ${id}s
 ip -n $ns addr add 198.18.0.$i/24 dev eth0; ip -n $ns link set eth0 up; ip -n ${id}s link set p$i up
 ip netns exec $ns ethtool -K eth0 gro on >/dev/null; done
p1=$(ip -n ${id}s -j link show p1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])')
python3 - /tmp/$id.frame /tmp/$id.ctx $p1 <<'PY'
import struct, sys
frame = bytes.fromhex("020000000002" "020000000001" "0800" "45000054000040004001" "0000" "c6120001c6120002"
                      "0800f7ff00010001") + bytes(56)
open(sys.argv[1], "wb").write(frame)
# struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex
open(sys.argv[2], "wb").write(struct.pack("<6I", 0, len(frame), 0, int(sys.argv[3]), 0, 0))
PY
[ "$mode" = bpfstats ] && sysctl -qw kernel.bpf_stats_enabled=1
stats() { bpftool prog show pinned /sys/fs/bpf/bridgetrace/switch/$id/prog -j |
          python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("run_time_ns",0), d.get("run_cnt",0))'; }
measure() { # binary label [trace FILTER...]
  local binary=$1 label=$2; shift 2
  $binary switch --name $id --netns ${id}s --port p1 --port p2 --redirect p1 --redirect p2 --ready-file /tmp/$id.ready >/dev/null 2>&1 & local sw=$!
  while [ ! -f /tmp/$id.ready ]; do sleep 0.1; done; rm -f /tmp/$id.ready
  ip netns exec ${id}h1 ping -c 2 -i 0.2 -W 1 198.18.0.2 >/dev/null
  local tr=
  if [ "$1" = trace ]; then shift; $binary trace $id "$@" -w /dev/null --ready-file /tmp/$id.tready >/dev/null 2>&1 & tr=$!
    while [ ! -f /tmp/$id.tready ]; do sleep 0.1; done; rm -f /tmp/$id.tready; fi
  if [ "$mode" = testrun ]; then
    local out=$(nsenter --net=/run/netns/${id}s bpftool prog run pinned /sys/fs/bpf/bridgetrace/switch/$id/prog \
                data_in /tmp/$id.frame ctx_in /tmp/$id.ctx repeat 2000000 2>&1)
    echo "$label $(echo "$out" | grep -o 'Return value: [0-9]*\|duration (average): [0-9]*ns' | tr '\n' ' ')"
  else
    read t0 c0 < <(stats); ip netns exec ${id}h1 ping -f -c 20000 -q 198.18.0.2 >/dev/null; read t1 c1 < <(stats)
    echo "$label runs=$((c1 - c0)) ns/run=$(( (t1 - t0) / (c1 - c0) ))"
  fi
  [ -n "$tr" ] && { kill -INT $tr; wait $tr || true; }
  kill -INT $sw; wait $sw || true
}
for r in $(seq $rounds); do measure $main main; measure $branch branch-off; done
if [ "$mode" = testrun ]; then measure $branch branch-traced trace host 192.0.2.1; else measure $branch branch-traced trace icmp; fi
