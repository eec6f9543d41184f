#!/usr/bin/env bash
# exporter-soak.sh: `bridgetrace exporter` under steady load for a long time, scraped every
# second. Reports RSS (at ready, once the diagnosis window is full, and at the end), scrape
# latency (p50, p99, max), and the exported frame counters against the kernel's `ip -s link`
# for every port. Not a test: a benchmark with goals (RSS growth < 5 % from a full window to
# the end, p99 scrape < 50 ms, counters equal).
#
# Topology: a `bridgetrace lab` (bridge in its own namespace, vm1, vm2, a gateway on uplink),
# named LAB_NAME (default btsoak<pid>), deleted on every exit path. Load: pings at
# PING_RATE per second from vm1 to vm2 and from vm2 to the gateway (ICMP frames are also
# events: they feed the diagnosis window), and UDP from vm1 to vm2 at UDP_RATE frames per
# second (python, AF_PACKET) that only the counters see. Scrapes: curl, one per second.
#
# Needs root, iproute2, curl, python3 and a bridgetrace binary (release for figures):
#   swift build -c release --product bridgetrace --scratch-path .build-bench
#   BRIDGETRACE_BIN=.build-bench/release/bridgetrace Benchmarks/exporter-soak.sh
# Environment: DURATION seconds (default 600), WINDOW diagnosis window (default 30),
#   PING_RATE (default 100), UDP_RATE (default 2000), LAB_NAME.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${BRIDGETRACE_BIN:-$here/../.build-bench/release/bridgetrace}
DURATION=${DURATION:-600}
WINDOW=${WINDOW:-30}
PING_RATE=${PING_RATE:-100}
UDP_RATE=${UDP_RATE:-2000}
NAME=${LAB_NAME:-btsoak$$}
work=$(mktemp -d /tmp/bt-soak.XXXXXX)
pids=()

die() { echo "exporter-soak: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root (namespaces, BPF)"
[[ -x $BIN ]] || die "no bridgetrace binary at $BIN (swift build -c release --product bridgetrace --scratch-path .build-bench)"
for tool in curl python3 ip; do command -v $tool >/dev/null || die "$tool not found"; done
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 10 ]] || die "DURATION must be at least 10 seconds"

cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$BIN" lab down --name "$NAME" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$BIN" lab up --name "$NAME" >/dev/null
br=$NAME-br vm1=$NAME-vm1 vm2=$NAME-vm2
mac() { ip -n "$1" -j link show dev "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }
ip1=198.18.0.11 ip2=198.18.0.12 gw=198.18.0.1
ip netns exec "$vm1" ip neigh replace $ip2 lladdr "$(mac "$vm2" eth0)" dev eth0 nud permanent
ip netns exec "$vm2" ip neigh replace $ip1 lladdr "$(mac "$vm1" eth0)" dev eth0 nud permanent
ip netns exec "$vm1" ping -c 1 -W 2 $ip2 >/dev/null

"$BIN" exporter br0 --netns "$br" --listen 127.0.0.1:0 --window "$WINDOW" --ready-file "$work/ready" 2>"$work/exporter.log" &
exporter=$!
pids+=("$exporter")
for _ in $(seq 100); do [[ -s $work/ready ]] && break; sleep 0.1; done
[[ -s $work/ready ]] || die "exporter not ready: $(cat "$work/exporter.log")"
url=$(cat "$work/ready")
rss() { awk '/^VmRSS/ {print $2}' "/proc/$exporter/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$exporter/stat"; }
links() { ip -n "$br" -s -j link show | python3 -c '
import json, sys
for l in json.load(sys.stdin):
    if l.get("master") == "br0": print(l["ifname"], l["stats64"]["rx"]["packets"], l["stats64"]["tx"]["packets"])'; }
links >"$work/links.before"
rss_ready=$(rss)
ticks_start=$(cpu_ticks)

interval=$(python3 -c "print(1/$PING_RATE)")
ip netns exec "$vm1" ping -q -i "$interval" $ip2 >/dev/null 2>&1 & pids+=($!)
ip netns exec "$vm2" ping -q -i "$interval" $gw >/dev/null 2>&1 & pids+=($!)
ip netns exec "$vm1" python3 - "$(mac "$vm2" eth0)" "$UDP_RATE" <<'PY' & pids+=($!)
import socket, struct, sys, time
dst = bytes.fromhex(sys.argv[1].replace(":", "")); rate = int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("eth0", 0))
src = s.getsockname()[4]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, 64, 17, 0, bytes([198, 18, 0, 11]), bytes([198, 18, 0, 12]))
frame = dst + src + b"\x08\x00" + ip + struct.pack("!HHHH", 9, 9, 26, 0) + bytes(18)
start = time.monotonic(); sent = 0
while True:
    due = int((time.monotonic() - start) * rate)
    while sent < due:
        s.send(frame); sent += 1
    time.sleep(0.005)
PY
loads=("${pids[@]:1}")

echo "exporter-soak: $DURATION s of load (ping ${PING_RATE}/s x2, UDP ${UDP_RATE}/s), scraping $url every second" >&2
: >"$work/latency"
start=$(date +%s)
rss_warm=""
while (( $(date +%s) - start < DURATION )); do
    t0=$(date +%s%N)
    curl -sf -o /dev/null -w '%{time_total}\n' "$url" >>"$work/latency" || echo "fail" >>"$work/latency"
    if [[ -z $rss_warm ]] && (( $(date +%s) - start >= WINDOW + 5 )); then rss_warm=$(rss); fi
    (( ($(date +%s) - start) % 60 == 0 )) && echo "$(( $(date +%s) - start )) $(rss)" >>"$work/rss"
    rest=$(( 1000000000 - ($(date +%s%N) - t0) ))
    (( rest > 0 )) && sleep "0.$(printf %09d "$rest")"
done
rss_end=$(rss)
cpu_percent=$(( ($(cpu_ticks) - ticks_start) * 100 / $(getconf CLK_TCK) / DURATION ))
[[ -n $rss_warm ]] || rss_warm=$rss_ready

for pid in "${loads[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
sleep 3  # two collections: the last frames are in the maps and read
links >"$work/links.after"
curl -sf "$url" >"$work/final.prom"
kill -TERM "$exporter"; wait "$exporter"; status=$?

python3 - "$work" "$rss_ready" "$rss_warm" "$rss_end" "$status" "$DURATION" "$cpu_percent" <<'PY'
import re, sys
work, rss_ready, rss_warm, rss_end, status, duration, cpu = sys.argv[1], *map(int, sys.argv[2:])
lat = [l.strip() for l in open(f"{work}/latency")]
fails = lat.count("fail"); ms = sorted(float(x) * 1000 for x in lat if x != "fail")
pct = lambda p: ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))]
frames = {}
for line in open(f"{work}/final.prom"):
    m = re.match(r'bridgetrace_frames_total\{.*port="([^"]+)",direction="(rx|tx)".*\} (\d+)', line)
    if m: frames[(m[1], m[2])] = frames.get((m[1], m[2]), 0) + int(m[3])
before = {l.split()[0]: list(map(int, l.split()[1:])) for l in open(f"{work}/links.before")}
after = {l.split()[0]: list(map(int, l.split()[1:])) for l in open(f"{work}/links.after")}
growth = (rss_end - rss_warm) / rss_warm * 100
print(f"duration            {duration} s, {len(ms)} scrapes, {fails} failed")
print(f"RSS                 ready {rss_ready} KiB, window full {rss_warm} KiB, end {rss_end} KiB: growth {growth:+.2f} % (goal < 5 %)")
samples = [l.split() for l in open(f"{work}/rss")] if __import__("os").path.exists(f"{work}/rss") else []
seen = {}
for t, r in samples: seen.setdefault(t, r)
print("RSS every minute    " + ", ".join(f"{t} s {r}" for t, r in seen.items()) + " (KiB)")
print(f"scrape latency      p50 {pct(50):.2f} ms, p99 {pct(99):.2f} ms, max {ms[-1]:.2f} ms (goal p99 < 50 ms)")
print("counters            port  dir  exported  ip -s link delta")
equal = True
for port in sorted(after):
    for i, d in enumerate(("rx", "tx")):
        kernel = after[port][i] - before[port][i]; ours = frames.get((port, d))
        equal &= ours == kernel
        print(f"                    {port:6} {d}  {ours!s:>9}  {kernel:>9}{'' if ours == kernel else '   MISMATCH'}")
print(f"exporter CPU        {cpu} % of one core over the run (collection every 1 s, diagnosis over the window)")
print(f"exporter exit       {status}")
ok = growth < 5 and pct(99) < 50 and equal and fails == 0 and status == 0
print("result              " + ("all goals met" if ok else "GOALS NOT MET"))
PY
