/// Hand-built Ethernet frames for the filter tests. Checksums are left zero: neither
/// libpcap filters nor the kernel's classifier look at them.
enum TestFrames {
    static let broadcast: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]

    struct Tag {
        var tpid: UInt16 = 0x8100
        var vid: UInt16
    }

    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

    static func ethernet(dst: [UInt8], src: [UInt8], tags: [Tag] = [], type: UInt16, payload: [UInt8]) -> [UInt8] {
        var frame = dst + src
        for tag in tags { frame += be16(tag.tpid) + be16(tag.vid & 0x0fff) }
        return frame + be16(type) + payload
    }

    static func arp(op: UInt16, senderMAC: [UInt8], senderIP: [UInt8], targetMAC: [UInt8], targetIP: [UInt8],
                    hardwareLength: UInt8 = 6, protocolLength: UInt8 = 4, protocolType: UInt16 = 0x0800) -> [UInt8] {
        be16(1) + be16(protocolType) + [hardwareLength, protocolLength] + be16(op)
            + senderMAC + senderIP + targetMAC + targetIP
    }

    /// `fragmentOffset` in 8-byte units; `optionWords` 32-bit words of IP options (NOPs).
    static func ipv4(src: [UInt8], dst: [UInt8], proto: UInt8, payload: [UInt8], fragmentOffset: UInt16 = 0,
                     moreFragments: Bool = false, optionWords: Int = 0, ihlOverride: UInt8? = nil) -> [UInt8] {
        let ihl = ihlOverride ?? UInt8(5 + optionWords)
        let total = UInt16(20 + optionWords * 4 + payload.count)
        let flags: UInt16 = (moreFragments ? 0x2000 : 0) | (fragmentOffset & 0x1fff)
        var header: [UInt8] = [0x40 | (ihl & 0x0f), 0]
        header += be16(total) + be16(0x1234) + be16(flags) + [64, proto] + [0, 0] + src + dst
        header += [UInt8](repeating: 1, count: optionWords * 4)
        return header + payload
    }

    static func icmpEcho(request: Bool, id: UInt16, seq: UInt16, data: [UInt8] = Array(repeating: 0x61, count: 16)) -> [UInt8] {
        [request ? 8 : 0, 0, 0, 0] + be16(id) + be16(seq) + data
    }

    static func udp(srcPort: UInt16, dstPort: UInt16, payload: [UInt8] = Array(repeating: 0, count: 8)) -> [UInt8] {
        be16(srcPort) + be16(dstPort) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
    }

    static func tcp(srcPort: UInt16, dstPort: UInt16) -> [UInt8] {
        be16(srcPort) + be16(dstPort) + [0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]
    }

    /// An IPv6 packet, optionally behind a fragment header.
    static func ipv6(src: [UInt8], dst: [UInt8], nextHeader: UInt8, payload: [UInt8], fragment: Bool = false) -> [UInt8] {
        var body = payload
        var next = nextHeader
        if fragment {
            body = [nextHeader, 0] + be16(0x0001) + [0, 0, 0, 7] + payload
            next = 44
        }
        return [0x60, 0, 0, 0] + be16(UInt16(body.count)) + [next, 64] + src + dst + body
    }

    static func ipv6Address(_ last: UInt8) -> [UInt8] { [0xfe, 0x80] + Array(repeating: 0, count: 13) + [last] }

    static let macA: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    static let macB: [UInt8] = [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef]
    static let gateway: [UInt8] = [10, 0, 0, 1]
    static let vm: [UInt8] = [10, 0, 0, 5]

    static func arpRequest(tags: [Tag] = []) -> [UInt8] {
        ethernet(dst: broadcast, src: macA, tags: tags, type: 0x0806,
                 payload: arp(op: 1, senderMAC: macA, senderIP: vm, targetMAC: [0, 0, 0, 0, 0, 0], targetIP: gateway))
    }

    static func ping(from src: [UInt8], to dst: [UInt8], seq: UInt16, tags: [Tag] = []) -> [UInt8] {
        ethernet(dst: macB, src: macA, tags: tags, type: 0x0800,
                 payload: ipv4(src: src, dst: dst, proto: 1, payload: icmpEcho(request: true, id: 1, seq: seq)))
    }
}
