#!/usr/bin/env bash
# TCP through each bridge, as ratios to the Linux bridge in the same run (issue 19).
#
# h1 (iperf3 client) -- veth -- DUT namespace -- veth -- h2 (iperf3 server), offloads as
# the kernel sets them (GSO, TSO, checksum on), GRO on h1 and h2 (NAPI on the hosts' veths,
# so the switch's fast path may redirect into them; every DUT gets the same hosts).
# DUTs: linux-bridge, xdp-switch (fast path, redirect both ways), afxdp-switch
# (--no-fast-path), ovs-afxdp (Open vSwitch's userspace datapath, AF_XDP ports, started
# by hand with --disable-system; it needs tx checksum offload off on the hosts, so it is
# measured that way, and said so; ovs-afxdp-offload keeps the offloads, as the others do).
# CPU budget: everything on one CPU ($CPU): iperf3 client and server, the switch's thread,
# OVS's PMD and other threads; the Linux bridge runs in the softirqs of that CPU.
# Rounds rotate the DUT order; each DUT's round is divided by the Linux bridge's of the
# same round, and the median of those ratios is printed.
#
#   BRIDGETRACE_BIN=.build/release/bridgetrace Benchmarks/switch-tcp.sh
#   DURATION=5 ROUNDS=3 CPU=1 DUTS="linux-bridge xdp-switch afxdp-switch ovs-afxdp" MTU=1500
set -euo pipefail

BIN=${BRIDGETRACE_BIN:-.build/release/bridgetrace}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CPU=${CPU:-1}
MTU=${MTU:-1500}
DUTS=${DUTS:-"linux-bridge xdp-switch afxdp-switch ovs-afxdp"}
P=bttcp$$
OUT=$(mktemp -d /tmp/bt-switch-tcp.XXXXXX)
SWPID=""

cleanup() {
  set +e
  [ -n "$SWPID" ] && kill -INT "$SWPID" 2>/dev/null && wait "$SWPID" 2>/dev/null
  SWPID=""
  stop_ovs
  for ns in "$P-h1" "$P-h2" "$P-dut"; do ip netns del "$ns" 2>/dev/null; done
}
trap 'cleanup; rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM

stop_ovs() {
  local d="$OUT/ovs"
  [ -d "$d" ] || return 0
  for name in ovs-vswitchd ovsdb-server; do
    [ -f "$d/$name.pid" ] && kill "$(cat "$d/$name.pid")" 2>/dev/null
  done
  sleep 0.3
  rm -rf "$d"
}

topology() {
  ip netns add "$P-dut"
  for i in 1 2; do
    ip netns add "$P-h$i"
    ip netns exec "$P-h$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$P-h$i" link add eth0 mtu "$MTU" address "02:00:00:00:00:0$i" type veth peer name "p$i" mtu "$MTU" netns "$P-dut"
    ip -n "$P-h$i" addr add "198.18.0.$i/24" dev eth0
    ip -n "$P-h$i" link set eth0 up
    ip -n "$P-h$i" link set lo up
    ip -n "$P-dut" link set "p$i" up
    ip netns exec "$P-h$i" ethtool -K eth0 gro on >/dev/null
  done
  ip netns exec "$P-dut" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$P-h1" neigh replace 198.18.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent
  ip -n "$P-h2" neigh replace 198.18.0.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent
}

start_dut() {
  case "$1" in
    linux-bridge)
      ip -n "$P-dut" link add br0 type bridge
      ip -n "$P-dut" link set p1 master br0
      ip -n "$P-dut" link set p2 master br0
      ip -n "$P-dut" link set br0 up ;;
    xdp-switch|afxdp-switch)
      local extra=(--redirect p1 --redirect p2)
      [ "$1" = afxdp-switch ] && extra=(--no-fast-path)
      rm -f "$OUT/ready"
      "$BIN" switch --name "$P" --netns "$P-dut" --port p1 --port p2 "${extra[@]}" --cpus "$CPU" \
        --ready-file "$OUT/ready" 2>"$OUT/switch.log" &
      SWPID=$!
      for _ in $(seq 200); do [ -f "$OUT/ready" ] && break; sleep 0.05; done
      [ -f "$OUT/ready" ] || { cat "$OUT/switch.log"; exit 1; }
      # Every thread of it on the CPU (the switch pins its forwarder; libbpf's and Swift's too).
      for t in /proc/$SWPID/task/*; do taskset -pc "$CPU" "${t##*/}" >/dev/null; done ;;
    ovs-afxdp|ovs-afxdp-offload)
      local d="$OUT/ovs"
      mkdir -p "$d"
      export OVS_RUNDIR=$d OVS_DBDIR=$d OVS_LOGDIR=$d OVS_SYSCONFDIR=$d
      ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
      ip netns exec "$P-dut" ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" --pidfile="$d/ovsdb-server.pid" \
        --unixctl="$d/ovsdb-server.ctl" --log-file="$d/ovsdb-server.log" --detach -vconsole:off
      ovs-vsctl --db="unix:$d/db.sock" --no-wait init
      ip netns exec "$P-dut" ovs-vswitchd "unix:$d/db.sock" --disable-system --pidfile="$d/ovs-vswitchd.pid" \
        --unixctl="$d/ovs-vswitchd.ctl" --log-file="$d/ovs-vswitchd.log" --detach -vconsole:off
      local vsctl=(ovs-vsctl --db="unix:$d/db.sock" --timeout=30)
      "${vsctl[@]}" set Open_vSwitch . other_config:pmd-cpu-mask="$(printf '0x%x' $((1 << CPU)))" other_config:pmd-maxsleep=100
      "${vsctl[@]}" add-br br0 -- set bridge br0 datapath_type=netdev
      for p in p1 p2; do
        "${vsctl[@]}" add-port br0 $p -- set interface $p type=afxdp options:xdp-mode=native options:n_rxq=1
      done
      for pid in $(cat "$d/ovs-vswitchd.pid" "$d/ovsdb-server.pid"); do
        for t in /proc/$pid/task/*; do taskset -pc "$CPU" "${t##*/}" >/dev/null; done
      done
      # OVS's AF_XDP ports do not complete partial checksums (its documentation: turn tx
      # offload off on a veth's other end); ovs-afxdp-offload leaves it on, to show that.
      if [ "$1" = ovs-afxdp ]; then
        for i in 1 2; do ip netns exec "$P-h$i" ethtool -K eth0 tx off >/dev/null; done
      fi ;;
  esac
}

stop_dut() {
  [ -n "$SWPID" ] && { kill -INT "$SWPID"; wait "$SWPID" || true; SWPID=""; }
  stop_ovs
  for ns in "$P-h1" "$P-h2" "$P-dut"; do ip netns del "$ns" 2>/dev/null || true; done
}

measure() {
  local dut=$1 round=$2
  topology
  start_dut "$dut"
  ip netns exec "$P-h2" taskset -c "$CPU" iperf3 -s -1 >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 100); do ip netns exec "$P-h2" ss -ltnH sport = :5201 | grep -q 5201 && break; sleep 0.05; done
  ip netns exec "$P-h2" nstat -n
  # A bridge that breaks checksums never completes the handshake: give up after 3 s.
  timeout $((DURATION + 20)) ip netns exec "$P-h1" taskset -c "$CPU" iperf3 -c 198.18.0.2 -t "$DURATION" \
    --connect-timeout 3000 -J >"$OUT/$dut.$round.json" || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  local csum
  csum=$(ip netns exec "$P-h2" nstat -az TcpInCsumErrors | awk '/TcpInCsumErrors/ {print $2}')
  python3 - "$OUT/$dut.$round.json" "$dut" "$round" "$csum" >>"$OUT/results" <<'EOF'
import json, sys
path, dut, rnd, csum = sys.argv[1:]
try:
    end = json.load(open(path))["end"]
    bps = end["sum_received"]["bits_per_second"]
    retr = end["sum_sent"].get("retransmits", 0)
except Exception:
    bps, retr = 0.0, -1
print(dut, rnd, bps, retr, csum or 0)
EOF
  stop_dut
}

command -v iperf3 >/dev/null || { echo "switch-tcp.sh: needs iperf3 (scripts/setup)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "switch-tcp.sh: no bridgetrace at $BIN; set BRIDGETRACE_BIN" >&2; exit 2; }
read -r -a duts <<<"$DUTS"
echo "TCP, ${DURATION}s x $ROUNDS rounds, MTU $MTU, everything on CPU $CPU; load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  n=${#duts[@]}
  for k in $(seq 0 $((n - 1))); do
    dut=${duts[$(((k + round) % n))]}
    measure "$dut" "$round"
  done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT/results" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
by = {}
for dut, rnd, bps, retr, csum in rows:
    by.setdefault(dut, {})[rnd] = (float(bps), int(retr), int(csum))
base = by.get("linux-bridge", {})
print(f"{'dut':14} {'Gbit/s (median)':>16} {'range':>16} {'/ linux-bridge':>15} {'ratio range':>12} {'retrans':>8} {'csum err':>9}")
for dut, rounds in by.items():
    g = [v[0] / 1e9 for v in rounds.values()]
    ratios = [rounds[r][0] / base[r][0] for r in rounds if r in base and base[r][0] > 0]
    ratio = f"{statistics.median(ratios):.2f}" if ratios else "-"
    rr = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"
    print(f"{dut:14} {statistics.median(g):16.2f} {min(g):7.2f}-{max(g):<8.2f} {ratio:>15} {rr:>12} "
          f"{sum(v[1] for v in rounds.values()):8} {sum(v[2] for v in rounds.values()):9}")
EOF
