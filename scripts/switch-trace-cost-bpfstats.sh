#!/bin/bash
# Measures what switch tracing costs bt_sw_xdp while nobody traces: MAIN_BIN (a build
# without it) against BRANCH_BIN (default ./.build/debug/bridgetrace), alternating rounds.
# Root; makes namespaces btsw* of its own and deletes them; restores kernel.bpf_stats_enabled.
# Per-run cost of bt_sw_xdp (bpf_stats run_time_ns / run_cnt), same fast-path traffic,
# for main's switch and this branch's (events off), alternating. usage: cost.sh ROUNDS
id=btswc$$
set -e
ip netns add ${id}s
for i in 1 2; do ns=${id}h$i; ip netns add $ns
 ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
 ip -n $ns link add eth0 address 02:00:00:00:00:0$i type veth peer name p$i netns ${id}s
 ip -n $ns addr add 198.18.0.$i/24 dev eth0; ip -n $ns link set eth0 up; ip -n ${id}s link set p$i up
 ip netns exec $ns ethtool -K eth0 gro on >/dev/null; done
prev=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() { for i in 1 2; do ip netns del ${id}h$i 2>/dev/null; done; ip netns del ${id}s 2>/dev/null; sysctl -qw kernel.bpf_stats_enabled=$prev; }
trap cleanup EXIT
sysctl -qw kernel.bpf_stats_enabled=1
measure() { # binary label [trace]
  $1 switch --name $id --netns ${id}s --port p1 --port p2 --redirect p1 --redirect p2 --ready-file /tmp/$id.ready >/dev/null 2>&1 & local sw=$!
  while [ ! -f /tmp/$id.ready ]; do sleep 0.1; done; rm -f /tmp/$id.ready
  ip netns exec ${id}h1 ping -c 2 -W 1 198.18.0.2 >/dev/null
  local tr=
  if [ "$3" = trace ]; then $1 trace $id icmp -w /dev/null --ready-file /tmp/$id.tready >/dev/null 2>&1 & tr=$!; while [ ! -f /tmp/$id.tready ]; do sleep 0.1; done; rm -f /tmp/$id.tready; fi
  local pid=$(ip -n ${id}s -j -d link show p1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')
  read t0 c0 < <(bpftool prog show id $pid -j | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("run_time_ns",0), d.get("run_cnt",0))')
  ip netns exec ${id}h1 ping -f -c 20000 -q 198.18.0.2 >/dev/null
  read t1 c1 < <(bpftool prog show id $pid -j | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("run_time_ns",0), d.get("run_cnt",0))')
  [ -n "$tr" ] && kill -INT $tr && wait $tr || true
  kill -INT $sw; wait $sw || true
  echo "$2 runs=$((c1-c0)) ns/run=$(( (t1-t0)/(c1-c0) ))"
}
for r in $(seq $1); do
  measure ${MAIN_BIN:-/work/main/.build/debug/bridgetrace} main
  measure ${BRANCH_BIN:-$PWD/.build/debug/bridgetrace} swtrace-off
done
measure ${BRANCH_BIN:-$PWD/.build/debug/bridgetrace} swtrace-traced trace
