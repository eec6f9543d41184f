#!/usr/bin/env python3
"""Writes COUNT broadcast ARP requests into an existing (persistent) tap device, as a VM's
virtio-net would: each becomes a frame the bridge receives on that tap. Holds the tap open
for a moment after the last one, so that the carrier stays up while they cross the bridge.

    tap_send.py TAP COUNT
"""
import fcntl
import os
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def arp_request(index):
    source = bytes([0x52, 0x54, 0x00, 0xAA, 0x00, 0x01])
    ether = b"\xff" * 6 + source + b"\x08\x06"
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + source + bytes([198, 18, 0, 91]) + b"\x00" * 6 + bytes([198, 18, 0, 200 + index % 50])
    return ether + arp + b"\x00" * 18  # padded to 60 bytes, as a NIC would


def main():
    name, count = sys.argv[1], int(sys.argv[2])
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    time.sleep(0.3)  # carrier up, and the bridge port forwarding
    for index in range(count):
        os.write(fd, arp_request(index))
    time.sleep(0.5)
    os.close(fd)
    print(count)


main()
