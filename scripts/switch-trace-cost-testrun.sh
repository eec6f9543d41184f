#!/bin/bash
# Measures what switch tracing costs bt_sw_xdp while nobody traces: MAIN_BIN (a build
# without it) against BRANCH_BIN (default ./.build/debug/bridgetrace), alternating rounds.
# Root; makes namespaces btsw* of its own and deletes them.
# Per-run cost of bt_sw_xdp on one known-unicast frame (fast path, redirect decision), by
# BPF_PROG_TEST_RUN repeat 2000000 (bpftool prog run: no NIC, no softirq noise), main's
# switch vs this branch's, events off; then this branch's with a tracer running (filter
# that matches nothing: the cost of the pre-filter only). usage: cost2.sh ROUNDS
id=btswd$$
set -e
ip netns add ${id}s
for i in 1 2; do ns=${id}h$i; ip netns add $ns
 ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
 ip -n $ns link add eth0 address 02:00:00:00:00:0$i type veth peer name p$i netns ${id}s
 ip -n $ns addr add 198.18.0.$i/24 dev eth0; ip -n $ns link set eth0 up; ip -n ${id}s link set p$i up
 ip netns exec $ns ethtool -K eth0 gro on >/dev/null; done
cleanup() { for i in 1 2; do ip netns del ${id}h$i 2>/dev/null; done; ip netns del ${id}s 2>/dev/null; rm -f /tmp/$id.*; }
trap cleanup EXIT
python3 - /tmp/$id.frame /tmp/$id.ctx $(ip -n ${id}s -j link show p1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ifindex"])') <<'PY'
import struct, sys
eth = bytes.fromhex("020000000002" "020000000001" "0800")
ip = bytes.fromhex("45000054000040004001" "0000" "c6120001c6120002")
icmp = bytes.fromhex("0800f7ff00010001") + bytes(56)
frame = eth + ip + icmp
open(sys.argv[1], "wb").write(frame)
# struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex
open(sys.argv[2], "wb").write(struct.pack("<6I", 0, len(frame), 0, int(sys.argv[3]), 0, 0))
PY
measure() { # binary label [trace]
  $1 switch --name $id --netns ${id}s --port p1 --port p2 --redirect p1 --redirect p2 --ready-file /tmp/$id.ready >/dev/null 2>&1 & local sw=$!
  while [ ! -f /tmp/$id.ready ]; do sleep 0.1; done; rm -f /tmp/$id.ready
  ip netns exec ${id}h1 ping -c 2 -i 0.2 -W 1 198.18.0.2 >/dev/null
  local tr=
  if [ "$3" = trace ]; then $1 trace $id host 192.0.2.1 --ready-file /tmp/$id.tready >/dev/null 2>&1 & tr=$!; while [ ! -f /tmp/$id.tready ]; do sleep 0.1; done; fi
  local out=$(nsenter --net=/run/netns/${id}s bpftool prog run pinned /sys/fs/bpf/bridgetrace/switch/$id/prog data_in /tmp/$id.frame ctx_in /tmp/$id.ctx repeat 2000000 2>&1)
  [ -n "$tr" ] && { kill -INT $tr; wait $tr || true; rm -f /tmp/$id.tready; }
  kill -INT $sw; wait $sw || true
  echo "$2 $(echo "$out" | grep -o 'Return value: [0-9]*\|duration (average): [0-9]*ns' | tr '\n' ' ')"
}
for r in $(seq $1); do
  measure ${MAIN_BIN:-/work/main/.build/debug/bridgetrace} main
  measure ${BRANCH_BIN:-$PWD/.build/debug/bridgetrace} swtrace-off
done
measure ${BRANCH_BIN:-$PWD/.build/debug/bridgetrace} swtrace-traced-nomatch trace
