#!/usr/bin/python3
"""Send a known number of frames of each kind out of one interface, for counter tests.

Run it inside a lab namespace with Debian's python3 (the one that has scapy):

    ip netns exec btlab-vm1 /usr/bin/python3 inject.py --arp-request 3 --arp-target 198.18.0.1

Every frame carries the interface's own MAC as source (a zero or multicast source would be
dropped by the bridge on entry) and the broadcast destination unless --dst says otherwise.
Frames go out in the order of the options below, each kind in one batch. On success it prints
one JSON object on stdout: the interface, its MAC and IPv4 address, and per kind the count sent.
"""

import argparse
import json
import logging
import random
import sys

# scapy logs routing warnings on import when a namespace has no IPv6 or no default route.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.arch import get_if_addr, get_if_hwaddr  # noqa: E402
from scapy.layers.dhcp import BOOTP, DHCP  # noqa: E402
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.sendrecv import sendp  # noqa: E402
from scapy.utils import mac2str  # noqa: E402

BROADCAST = "ff:ff:ff:ff:ff:ff"


def count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"count must be >= 0, not {value}")
    return value


def vid(text):
    value = int(text)
    if not 0 <= value <= 4095:
        raise argparse.ArgumentTypeError(f"VLAN ID must be 0..4095, not {value}")
    return value


def vlan_count(text):
    """VID:N"""
    try:
        v, n = text.split(":")
        return vid(v), count(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected VID:N, got {text!r}")


def ethertype_count(text):
    """0x88b5:N"""
    try:
        t, n = text.split(":")
        value = int(t, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ETHERTYPE:N such as 0x88b5:4, got {text!r}")
    if not 0x600 <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"ethertype must be 0x0600..0xffff, not {t}")
    return value, count(n)


def qinq_count(text):
    """OUTER:INNER:N"""
    try:
        outer, inner, n = text.split(":")
        return vid(outer), vid(inner), count(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected OUTER:INNER:N, got {text!r}")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iface", default="eth0", help="interface to send on (default eth0)")
    p.add_argument("--dst", default=BROADCAST, help="destination MAC of the ARP, VLAN, QinQ and "
                   "ethertype frames (default broadcast; DHCP discovers are always broadcast)")
    p.add_argument("--arp-request", type=count, default=0, metavar="N",
                   help="N untagged ARP requests: who-has --arp-target tell <own IP>")
    p.add_argument("--arp-target", metavar="IP", help="the IP the ARP requests ask for")
    p.add_argument("--vlan-arp", type=vlan_count, action="append", default=[], metavar="VID:N",
                   help="N 802.1Q-tagged ARP requests on VLAN VID (repeatable)")
    p.add_argument("--dhcp-discover", type=count, default=0, metavar="N",
                   help="N DHCPDISCOVERs, 0.0.0.0:68 -> 255.255.255.255:67, chaddr = own MAC")
    p.add_argument("--ethertype", type=ethertype_count, action="append", default=[],
                   metavar="TYPE:N", help="N frames of an unknown ethertype, e.g. 0x88b5:4 (repeatable)")
    p.add_argument("--qinq", type=qinq_count, action="append", default=[], metavar="OUTER:INNER:N",
                   help="N ARP requests in 802.1ad OUTER + 802.1Q INNER tags (repeatable)")
    args = p.parse_args(argv)
    needs_target = args.arp_request or any(n for _, n in args.vlan_arp) or any(n for *_, n in args.qinq)
    if needs_target and not args.arp_target:
        p.error("--arp-target is required with --arp-request, --vlan-arp and --qinq")
    return args


def main(argv):
    args = parse_args(argv)
    mac = get_if_hwaddr(args.iface)
    ip = get_if_addr(args.iface)  # "0.0.0.0" when the interface has no IPv4 address

    def ether(dst=args.dst):
        return Ether(src=mac, dst=dst)

    def arp():
        return ARP(op="who-has", hwsrc=mac, psrc=ip, pdst=args.arp_target)

    frames = []
    summary = []

    def add(entry, frame, n):
        frames.extend(frame.copy() for _ in range(n))
        summary.append(dict(entry, count=n))

    if args.arp_request:
        add({"kind": "arp_request", "target": args.arp_target}, ether() / arp(), args.arp_request)
    for v, n in args.vlan_arp:
        add({"kind": "vlan_arp", "vlan": [v], "target": args.arp_target}, ether() / Dot1Q(vlan=v) / arp(), n)
    if args.dhcp_discover:
        # One transaction ID for the batch, like a client retrying the same discover.
        discover = (ether(BROADCAST)
                    / IP(src="0.0.0.0", dst="255.255.255.255")
                    / UDP(sport=68, dport=67)
                    / BOOTP(op=1, chaddr=mac2str(mac), xid=random.getrandbits(32), flags=0x8000)
                    / DHCP(options=[("message-type", "discover"), "end"]))
        add({"kind": "dhcp_discover"}, discover, args.dhcp_discover)
    for t, n in args.ethertype:
        # 46 bytes of payload make a minimum-size (60-byte) frame.
        payload = b"bridgetrace inject".ljust(46, b"\0")
        frame = Ether(src=mac, dst=args.dst, type=t) / Raw(load=payload)
        add({"kind": "ethertype", "ethertype": f"0x{t:04x}"}, frame, n)
    for outer, inner, n in args.qinq:
        add({"kind": "qinq", "vlan": [outer, inner], "target": args.arp_target},
            ether() / Dot1AD(vlan=outer) / Dot1Q(vlan=inner) / arp(), n)

    if frames:
        sendp(frames, iface=args.iface, verbose=0)
    json.dump({"iface": args.iface, "src_mac": mac, "src_ip": ip, "sent": summary, "total": len(frames)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
