#!/usr/bin/env bash
# lab-pps.sh: the lab bridge's packet rate with and without `bridgetrace counters` attached.
#
# One generator (trafgen, PF_PACKET TX ring, one process) in the lab's vm1 namespace blasts
# 64-byte unicast UDP frames at vm2's MAC for DURATION seconds per round. Rounds alternate
# none / counters / none / counters ...; in a counters round `bridgetrace counters br0`
# runs in the background with every program attached (XDP rx and tc egress on vm1, vm2,
# uplink). A round's figure is frames per second, measured as deltas of the interface
# statistics: received by vm2's eth0 (the headline), sent by the bridge out of port vm2,
# and sent by vm1's eth0 (what the generator got out).
#
# Everything runs in network namespaces this script creates (named LAB_NAME-*, default
# btpps<pid>) and deletes again on every exit path. The root namespace is never touched.
#
# Needs root, trafgen (netsniff-ng), iproute2, python3, and a bridgetrace binary:
#   swift build -c release --scratch-path .build-bench        (at the repository root)
#   BRIDGETRACE_BIN=.build-bench/release/bridgetrace Benchmarks/lab-pps.sh
#
# Environment:
#   BRIDGETRACE_BIN  the binary (default ../.build-bench/release/bridgetrace from here)
#   DURATION         measured seconds per round (default 2)
#   ROUNDS           rounds of each mode (default 10); short rounds, many of them, because
#                    a shared VM's speed drifts by up to 2x within a minute
#   WARMUP           seconds of traffic before a round's first reading (default 0.5)
#   LAB_NAME         namespace prefix (default btpps<pid>)
#   TRAFGEN_CPU      pin the generator to this CPU (default: unpinned)
#   TRAFGEN_RT=1     run the generator SCHED_FIFO, so that other load does not take turns
#                    with it (the kernel still leaves 5% of the CPU to others)
#   USE_LAB=0        build the topology with ip even if `bridgetrace lab up` exists
#   XDP_PASS_OBJ     e.g. bpf/build/baseline.bpf.o (`make -C bpf build/baseline.bpf.o`):
#                    adds an xdp-pass round to each cycle, with only an XDP_PASS program on
#                    the same three ports, to tell the price of the hook itself (veth's XDP
#                    receive path) from that of counting
#   TC_COUNTERS_OBJ  e.g. bpf/build/counters.bpf.o (`make -C bpf build/counters.bpf.o`;
#                    needs bpftool): adds a tc-only round to each cycle, with bridgetrace's
#                    own bt_tc_rx on clsact ingress and bt_tc_tx on egress of the same
#                    ports and no XDP: what counting would cost with rx counted at tc
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DURATION=${DURATION:-2}
ROUNDS=${ROUNDS:-10}
NAME=${LAB_NAME:-btpps$$}
BIN=${BRIDGETRACE_BIN:-$here/../.build-bench/release/bridgetrace}
TRAFGEN=${TRAFGEN:-$(command -v trafgen || echo /usr/sbin/trafgen)}
WARMUP=${WARMUP:-0.5}
FRAME_LEN=64

die() { echo "lab-pps: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (namespaces, XDP, trafgen)"
[[ -x $BIN ]] || die "no bridgetrace binary at $BIN: build it with \`swift build -c release --scratch-path .build-bench\` at the repository root, or set BRIDGETRACE_BIN"
[[ -x $TRAFGEN ]] || die "trafgen not found: apt-get install netsniff-ng"
command -v python3 >/dev/null || die "python3 not found"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 ]] || die "DURATION must be a whole number of seconds"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 ]] || die "ROUNDS must be a positive whole number"
modes=(none counters)
if [[ -n ${XDP_PASS_OBJ:-} ]]; then
    [[ -r $XDP_PASS_OBJ ]] || die "XDP_PASS_OBJ $XDP_PASS_OBJ not readable: make -C bpf build/baseline.bpf.o"
    modes+=(xdp-pass)
fi
if [[ -n ${TC_COUNTERS_OBJ:-} ]]; then
    [[ -r $TC_COUNTERS_OBJ ]] || die "TC_COUNTERS_OBJ $TC_COUNTERS_OBJ not readable: make -C bpf build/counters.bpf.o"
    command -v bpftool >/dev/null || die "TC_COUNTERS_OBJ needs bpftool"
    modes+=(tc-only)
fi

NS_BR=$NAME-br NS_VM1=$NAME-vm1 NS_VM2=$NAME-vm2 NS_LAN=$NAME-lan
ALL_NS=("$NS_BR" "$NS_VM1" "$NS_VM2" "$NS_LAN")
for ns in "${ALL_NS[@]}"; do
    [[ ! -e /var/run/netns/$ns ]] || die "netns $ns already exists: pick another LAB_NAME"
done

tmp=$(mktemp -d /tmp/lab-pps.XXXXXX)
counters_pid=""
trafgen_pid=""
pin_dir=""
lab_via_cli=0
created_ns=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_trafgen
    stop_counters
    if [[ $created_ns -eq 1 ]]; then
        if [[ $lab_via_cli -eq 1 ]]; then
            "$BIN" lab down --name "$NAME" >/dev/null 2>&1 || true
        fi
        for ns in "${ALL_NS[@]}"; do
            [[ -e /var/run/netns/$ns ]] && ip netns del "$ns" 2>/dev/null || true
        done
    fi
    [[ -n $pin_dir ]] && { rm -rf "$pin_dir"; umount "$tmp/bpffs" 2>/dev/null || true; }
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop_trafgen() {
    [[ -n $trafgen_pid ]] || return 0
    # Its own session (setsid): signal the whole group it may have forked.
    kill -INT -- "-$trafgen_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$trafgen_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$trafgen_pid" 2>/dev/null || true
    wait "$trafgen_pid" 2>/dev/null || true
    trafgen_pid=""
}

stop_counters() {
    [[ -n $counters_pid ]] || return 0
    kill -INT "$counters_pid" 2>/dev/null || true
    local rc=0
    wait "$counters_pid" 2>/dev/null || rc=$?
    counters_pid=""
    [[ $rc -eq 0 || $rc -eq 130 ]] || echo "lab-pps: bridgetrace counters exited with $rc: $(tail -n 3 "$tmp/counters.err")" >&2
}

# --- topology ----------------------------------------------------------------------------
lab_cli_available() {
    [[ ${USE_LAB:-1} != 0 ]] || return 1
    local help
    help=$("$BIN" lab --help 2>/dev/null) || return 1
    grep -qE '^ +up( |$)' <<<"$help"
}

build_topology_ip() {
    # Same layout, names and addresses as `bridgetrace lab up --name NAME --vms 2`.
    for ns in "${ALL_NS[@]}"; do
        ip netns add "$ns"
        created_ns=1
        ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    ip -n "$NS_BR" link add br0 address 52:54:00:00:00:fd type bridge stp_state 0
    ip -n "$NS_BR" addr add 198.18.0.2/24 dev br0
    ip -n "$NS_BR" link set br0 up
    local port ns mac portmac ipaddr
    while read -r port ns mac portmac ipaddr; do
        ip -n "$NS_BR" link add "$port" address "$portmac" type veth peer name eth0 address "$mac" netns "$ns"
        ip -n "$NS_BR" link set "$port" master br0
        ip -n "$NS_BR" link set "$port" up
        ip -n "$ns" addr add "$ipaddr/24" dev eth0
        ip -n "$ns" link set eth0 up
    done <<EOF
vm1 $NS_VM1 52:54:00:00:00:01 52:54:00:00:01:01 198.18.0.11
vm2 $NS_VM2 52:54:00:00:00:02 52:54:00:00:01:02 198.18.0.12
uplink $NS_LAN 52:54:00:00:00:fe 52:54:00:00:01:fe 198.18.0.1
EOF
}

if lab_cli_available; then
    created_ns=1
    lab_via_cli=1
    "$BIN" lab up --name "$NAME" --vms 2 >"$tmp/lab.out" 2>&1 || { cat "$tmp/lab.out" >&2; die "bridgetrace lab up failed"; }
    topology="bridgetrace lab up --name $NAME --vms 2"
else
    build_topology_ip
    if [[ ${USE_LAB:-1} == 0 ]]; then topology="ip (USE_LAB=0)"
    else topology="ip (fallback: no \`bridgetrace lab up\` in this binary)"; fi
fi

vm2_mac=$(ip -n "$NS_VM2" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
vm1_mac=$(ip -n "$NS_VM1" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
vm2_ip=$(ip -n "$NS_VM2" -j -4 addr show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["addr_info"][0]["local"])')
vm1_ip=$(ip -n "$NS_VM1" -j -4 addr show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["addr_info"][0]["local"])')

# --- the frame ---------------------------------------------------------------------------
# 64 bytes as handed to the device (no FCS): Ethernet + IPv4 + UDP 1024 -> 9 (discard) +
# 22 bytes of payload. vm2 has no socket on port 9; its ICMP errors are rate limited.
hexbytes() { echo "$1" | tr ':' '\n' | sed 's/^/0x/' | paste -sd, -; }
ipbytes() { echo "$1" | tr '.' ','; }
cat >"$tmp/udp64.cfg" <<EOF
{
  $(hexbytes "$vm2_mac"), $(hexbytes "$vm1_mac"), c16(0x0800),
  0x45, 0x00, c16(50), c16(1), c16(0x4000), 64, 17, csumip(14, 33),
  $(ipbytes "$vm1_ip"), $(ipbytes "$vm2_ip"),
  c16(1024), c16(9), c16(30), c16(0),
  fill(0xab, 22)
}
EOF

# --- measurement -------------------------------------------------------------------------
# rx packets of vm2's eth0, tx packets of the bridge's port vm2, tx packets of vm1's eth0.
read_stats() {
    {
        ip -n "$NS_VM2" -s -j link show eth0
        ip -n "$NS_BR" -s -j link show vm2
        ip -n "$NS_VM1" -s -j link show eth0
    } | python3 -c '
import json, sys
docs = [json.loads(l) for l in sys.stdin if l.strip()]
print(docs[0][0]["stats64"]["rx"]["packets"], docs[1][0]["stats64"]["tx"]["packets"],
      docs[2][0]["stats64"]["tx"]["packets"])'
}

now_ns() { date +%s%N; }

# Frames reach vm2 by unicast only once the bridge has learned vm2's MAC: ping first.
learn() {
    ip netns exec "$NS_VM1" ping -q -c 1 -W 2 "$vm2_ip" >/dev/null || die "vm1 cannot ping vm2 ($vm2_ip)"
}

PORTS=(vm1 vm2 uplink)
attach_pass() {
    local p
    for p in "${PORTS[@]}"; do
        ip -n "$NS_BR" link set dev "$p" xdpdrv obj "$XDP_PASS_OBJ" sec xdp
    done
}
detach_pass() {
    local p
    for p in "${PORTS[@]}"; do ip -n "$NS_BR" link set dev "$p" xdpdrv off 2>/dev/null || true; done
}

# Pinned in a bpffs of our own under $tmp: `tc -n` remounts /sys for the namespace, which
# hides /sys/fs/bpf. Unmounted on exit; the filters keep the programs alive until they are
# detached or the namespace goes.
attach_tc() {
    if [[ -z $pin_dir ]]; then
        mkdir -p "$tmp/bpffs"
        mount -t bpf bpf "$tmp/bpffs"
        pin_dir=$tmp/bpffs/counters
        bpftool prog loadall "$TC_COUNTERS_OBJ" "$pin_dir" >/dev/null 2>"$tmp/bpftool.err" \
            || { cat "$tmp/bpftool.err" >&2; die "bpftool could not load $TC_COUNTERS_OBJ"; }
    fi
    local p
    for p in "${PORTS[@]}"; do
        tc -n "$NS_BR" qdisc add dev "$p" clsact
        tc -n "$NS_BR" filter add dev "$p" ingress bpf object-pinned "$pin_dir/bt_tc_rx" direct-action
        tc -n "$NS_BR" filter add dev "$p" egress bpf object-pinned "$pin_dir/bt_tc_tx" direct-action
    done
}
detach_tc() {
    local p
    for p in "${PORTS[@]}"; do tc -n "$NS_BR" qdisc del dev "$p" clsact 2>/dev/null || true; done
}
tc_ports() {
    local p out=""
    for p in "${PORTS[@]}"; do
        tc -n "$NS_BR" filter show dev "$p" ingress | grep -q bt_tc_rx && out+="$p "
    done
    echo "${out% }"
}

# Name of the XDP program on port vm1: bt_xdp_rx, or xdp_dispatcher where libxdp can share.
xdp_prog() {
    ip -n "$NS_BR" -j -d link show vm1 | python3 -c '
import json, sys
x = json.load(sys.stdin)[0].get("xdp", {})
progs = x.get("prog") and [x["prog"]] or [a.get("prog", {}) for a in x.get("attached", [])]
print(",".join(p.get("name", "?") for p in progs if p) or "none")'
}

xdp_ports() {
    local p out=""
    for p in "${PORTS[@]}"; do
        ip -n "$NS_BR" -j link show "$p" | grep -q '"xdp"' && out+="$p "
    done
    echo "${out% }"
}

start_counters() {
    rm -f "$tmp/ready"
    "$BIN" counters br0 --netns "$NS_BR" --interval 1 --ready-file "$tmp/ready" --json \
        >"$tmp/counters.json" 2>"$tmp/counters.err" &
    counters_pid=$!
    for _ in $(seq 200); do
        [[ -e $tmp/ready ]] && return 0
        kill -0 "$counters_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$tmp/counters.err" >&2
    die "bridgetrace counters did not become ready"
}

# One round: generator on, WARMUP s, then DURATION s measured. Sets rx, brtx and sent (pps).
# Runs in this shell, not a subshell, so that the EXIT trap knows trafgen's pid.
measure() {
    learn
    setsid ip netns exec "$NS_VM1" "${taskset[@]}" "$TRAFGEN" --dev eth0 --conf "$tmp/udp64.cfg" \
        --cpus 1 --no-sock-mem --notouch-irq --no-cpu-stats >"$tmp/trafgen.out" 2>&1 &
    trafgen_pid=$!
    sleep "$WARMUP"
    kill -0 "$trafgen_pid" 2>/dev/null || { cat "$tmp/trafgen.out" >&2; die "trafgen stopped"; }
    local t0 t1 s0 s1
    t0=$(now_ns); s0=$(read_stats)
    sleep "$DURATION"
    t1=$(now_ns); s1=$(read_stats)
    stop_trafgen
    read -r rx brtx sent < <(python3 -c '
import sys
t0, t1 = int(sys.argv[1]), int(sys.argv[2])
a = [int(x) for x in sys.argv[3].split()]; b = [int(x) for x in sys.argv[4].split()]
secs = (t1 - t0) / 1e9
print(" ".join("%.0f" % ((y - x) / secs) for x, y in zip(a, b)))' "$t0" "$t1" "$s0" "$s1")
}

taskset=()
[[ -n ${TRAFGEN_CPU:-} ]] && taskset=(taskset -c "$TRAFGEN_CPU")
[[ ${TRAFGEN_RT:-0} != 0 ]] && taskset+=(chrt -f 1)

echo "lab-pps: $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "lab-pps: topology via $topology; netns $NS_BR / $NS_VM1 / $NS_VM2 / $NS_LAN"
echo "lab-pps: trafgen in $NS_VM1, ${FRAME_LEN}-byte UDP $vm1_ip -> $vm2_ip ($vm2_mac), ${DURATION}s per round after ${WARMUP}s warm-up, $ROUNDS rounds of each of: ${modes[*]}"
printf '%-6s %-9s %14s %14s %14s  %s\n' round mode "rx vm2 eth0" "tx br:vm2" "sent vm1" "notes"
results=()
for ((i = 1; i <= ${#modes[@]} * ROUNDS; i++)); do
    mode=${modes[(i - 1) % ${#modes[@]}]}
    note=""
    [[ -z $(xdp_ports) ]] || die "XDP still attached to $(xdp_ports) before a $mode round"
    if [[ $mode == counters ]]; then
        start_counters
        note="xdp on: $(xdp_ports) ($(xdp_prog))"
    elif [[ $mode == xdp-pass ]]; then
        attach_pass
        note="xdp-pass on: $(xdp_ports) ($(xdp_prog))"
    elif [[ $mode == tc-only ]]; then
        attach_tc
        note="tc rx+tx on: $(tc_ports)"
    fi
    measure
    if [[ $mode == counters ]]; then
        stop_counters
        seen=$(tail -n 1 "$tmp/counters.json" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
print(next((p["rx"]["frames"] for p in d["ports"] if p["port"] == "vm1"), 0))' 2>/dev/null || echo "?")
        note+="; counters saw $seen frames rx on vm1"
        [[ -z $(xdp_ports) ]] || die "XDP still attached to $(xdp_ports) after counters exited"
    elif [[ $mode == xdp-pass ]]; then
        detach_pass
    elif [[ $mode == tc-only ]]; then
        detach_tc
    fi
    printf '%-6s %-9s %14s %14s %14s  %s\n' "$i" "$mode" "$rx" "$brtx" "$sent" "$note"
    results+=("$mode $rx $brtx $sent")
done

# Each counters (or xdp-pass) round is compared with the none rounds on either side of it
# (the mean of the two; the last one has only the one before), so that a drift of the
# machine's speed over the run, common on a shared VM, cancels out as far as it can.
printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
rx = [float(r[1]) for r in rows]
modes = [r[0] for r in rows]
def ratios(mode):
    out = []
    for i, m in enumerate(modes):
        if m != mode:
            continue
        before = [rx[j] for j in range(i - 1, -1, -1) if modes[j] == "none"][:1]
        after = [rx[j] for j in range(i + 1, len(rx)) if modes[j] == "none"][:1]
        ref = statistics.mean(before + after)
        out.append(rx[i] / ref)
    return out
def series(mode):
    return [rx[i] for i, m in enumerate(modes) if m == mode]
for mode in ("none", "counters", "xdp-pass", "tc-only"):
    v = series(mode)
    if v:
        print("lab-pps: rx pps (vm2 eth0) %-8s median %7.0f  rounds %s" % (mode, statistics.median(v), " ".join("%.0f" % x for x in v)))
for mode in ("xdp-pass", "tc-only"):
    if mode in modes:
        pp = ratios(mode)
        print("lab-pps: %s/none ratios %s; median %.3f" % (mode, " ".join("%.3f" % x for x in pp), statistics.median(pp)))
cr = ratios("counters")
print("lab-pps: counters/none ratios %s" % " ".join("%.3f" % x for x in cr))
print("counters/none pps ratio: %.3f (median of %d; ratio of medians %.3f)" % (
    statistics.median(cr), len(cr), statistics.median(series("counters")) / statistics.median(series("none"))))'
