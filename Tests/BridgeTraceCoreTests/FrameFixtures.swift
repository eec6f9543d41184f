@testable import BridgeTraceCore

/// Hand-built frames for the decoder tests: each builder lays out one header, big-endian,
/// as on the wire.
enum Fixture {
    static let vm1MAC: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    static let gatewayMAC: [UInt8] = [0x52, 0x54, 0x00, 0x00, 0x00, 0xfe]
    static let broadcastMAC: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]

    static func be16(_ value: Int) -> [UInt8] { [UInt8((value >> 8) & 0xff), UInt8(value & 0xff)] }
    static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }
    static func ip(_ text: String) -> [UInt8] { IPv4Address(text)!.octets }

    /// `tags` are (TPID, TCI), outermost first.
    static func ethernet(dst: [UInt8] = broadcastMAC, src: [UInt8] = vm1MAC, tags: [(Int, Int)] = [],
                         etherType: Int, payload: [UInt8]) -> [UInt8] {
        var out = dst + src
        for (tpid, tci) in tags { out += be16(tpid) + be16(tci) }
        return out + be16(etherType) + payload
    }

    /// Pads to the 60-byte Ethernet minimum, as a NIC would.
    static func padded(_ frame: [UInt8]) -> [UInt8] {
        frame.count >= 60 ? frame : frame + [UInt8](repeating: 0, count: 60 - frame.count)
    }

    static func arp(op: Int, senderMAC: [UInt8], senderIP: String, targetMAC: [UInt8], targetIP: String) -> [UInt8] {
        be16(1) + be16(0x0800) + [6, 4] + be16(op) + senderMAC + ip(senderIP) + targetMAC + ip(targetIP)
    }

    static func ipv4(src: String, dst: String, proto: UInt8, ttl: UInt8 = 64, id: Int = 0x1234,
                     flagsAndOffset: Int = 0x4000, options: [UInt8] = [], payload: [UInt8]) -> [UInt8] {
        precondition(options.count % 4 == 0)
        let headerLength = 20 + options.count
        var header: [UInt8] = [UInt8(0x40 | (headerLength / 4)), 0]
        header += be16(headerLength + payload.count) + be16(id) + be16(flagsAndOffset)
        header += [ttl, proto, 0, 0] + ip(src) + ip(dst) + options
        let sum = checksum(header)
        header[10] = UInt8(sum >> 8)
        header[11] = UInt8(sum & 0xff)
        return header + payload
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// Echo request (8) or reply (0) with `dataLength` bytes of data; v6 types work too.
    static func icmpEcho(type: UInt8, id: Int, seq: Int, dataLength: Int) -> [UInt8] {
        [type, 0, 0, 0] + be16(id) + be16(seq) + (0..<dataLength).map { UInt8($0 & 0xff) }
    }

    static func udp(srcPort: Int, dstPort: Int, payload: [UInt8]) -> [UInt8] {
        be16(srcPort) + be16(dstPort) + be16(8 + payload.count) + be16(0) + payload
    }

    /// A BOOTP message with the DHCP magic cookie and `options` (end option included by
    /// the caller).
    static func dhcp(op: UInt8, xid: UInt32, chaddr: [UInt8], yiaddr: String = "0.0.0.0", options: [UInt8]) -> [UInt8] {
        var message: [UInt8] = [op, 1, 6, 0] + be32(xid) + be16(0) + be16(0x8000)
        message += ip("0.0.0.0") + ip(yiaddr) + ip("0.0.0.0") + ip("0.0.0.0")
        message += chaddr + [UInt8](repeating: 0, count: 10)  // chaddr is 16 bytes
        message += [UInt8](repeating: 0, count: 64 + 128)  // sname, file
        message += be32(0x6382_5363)
        return message + options
    }

    static func ipv6(src: [UInt8], dst: [UInt8], nextHeader: UInt8, hopLimit: UInt8 = 64, payload: [UInt8]) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(payload.count) + [nextHeader, hopLimit] + src + dst + payload
    }

    /// fe80::<last>
    static func linkLocal(_ last: UInt8) -> [UInt8] { [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [last] }

    // MARK: Whole frames used by several tests

    static let arpRequestTagged: [UInt8] = padded(ethernet(
        tags: [(0x8100, 100)], etherType: 0x0806,
        payload: arp(op: 1, senderMAC: vm1MAC, senderIP: "10.0.0.50", targetMAC: [0, 0, 0, 0, 0, 0], targetIP: "10.0.0.1")))

    static let arpReply: [UInt8] = padded(ethernet(
        dst: vm1MAC, src: gatewayMAC, etherType: 0x0806,
        payload: arp(op: 2, senderMAC: gatewayMAC, senderIP: "10.0.0.1", targetMAC: vm1MAC, targetIP: "10.0.0.50")))

    static let qinqARP: [UInt8] = padded(ethernet(
        tags: [(0x88a8, 300), (0x8100, 0x2000 | 100)], etherType: 0x0806,
        payload: arp(op: 1, senderMAC: vm1MAC, senderIP: "10.0.0.50", targetMAC: [0, 0, 0, 0, 0, 0], targetIP: "10.0.0.1")))

    static let echoRequest: [UInt8] = ethernet(
        dst: gatewayMAC, etherType: 0x0800,
        payload: ipv4(src: "198.18.0.11", dst: "198.18.0.12", proto: 1,
                      payload: icmpEcho(type: 8, id: 7, seq: 3, dataLength: 56)))

    static let echoRequestTagged: [UInt8] = ethernet(
        dst: gatewayMAC, tags: [(0x8100, 0xa000 | 0x1000 | 42)], etherType: 0x0800,
        payload: ipv4(src: "198.18.0.11", dst: "198.18.0.12", proto: 1,
                      payload: icmpEcho(type: 0, id: 7, seq: 4, dataLength: 56)))

    /// IHL 6: a router alert option before the ICMP header.
    static let echoWithOptions: [UInt8] = ethernet(
        dst: gatewayMAC, etherType: 0x0800,
        payload: ipv4(src: "198.18.0.11", dst: "198.18.0.12", proto: 1, options: [0x94, 0x04, 0x00, 0x00],
                      payload: icmpEcho(type: 8, id: 0xbeef, seq: 65535, dataLength: 56)))

    static let dhcpOptions: [UInt8] = [53, 1, 1, 0, 0, 50, 4, 198, 18, 0, 50, 61, 7, 1] + vm1MAC + [255]
    static let dhcpDiscover: [UInt8] = ethernet(
        etherType: 0x0800,
        payload: ipv4(src: "0.0.0.0", dst: "255.255.255.255", proto: 17, ttl: 128, flagsAndOffset: 0,
                      payload: udp(srcPort: 68, dstPort: 67,
                                   payload: dhcp(op: 1, xid: 0x1234_abcd, chaddr: vm1MAC, options: dhcpOptions))))

    static let dhcpOffer: [UInt8] = ethernet(
        dst: vm1MAC, src: gatewayMAC, etherType: 0x0800,
        payload: ipv4(src: "198.18.0.1", dst: "198.18.0.50", proto: 17, flagsAndOffset: 0,
                      payload: udp(srcPort: 67, dstPort: 68,
                                   payload: dhcp(op: 2, xid: 0x0000_00ff, chaddr: vm1MAC, yiaddr: "198.18.0.50",
                                                 options: [53, 1, 2, 54, 4, 198, 18, 0, 1, 255]))))

    static let icmp6Echo: [UInt8] = ethernet(
        dst: gatewayMAC, etherType: 0x86dd,
        payload: ipv6(src: linkLocal(1), dst: linkLocal(2), nextHeader: 58,
                      payload: icmpEcho(type: 128, id: 7, seq: 3, dataLength: 56)))

    /// An MLDv2 report: hop-by-hop options (router alert) before ICMPv6 type 143.
    static let mldReport: [UInt8] = ethernet(
        dst: [0x33, 0x33, 0, 0, 0, 0x16], etherType: 0x86dd,
        payload: ipv6(src: linkLocal(1), dst: [0xff, 0x02] + [UInt8](repeating: 0, count: 13) + [0x16], nextHeader: 0,
                      hopLimit: 1,
                      payload: [58, 0, 5, 2, 0, 0, 1, 0] + [143, 0, 0, 0, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 20)))

    static let neighborSolicitation: [UInt8] = ethernet(
        dst: [0x33, 0x33, 0xff, 0, 0, 2], etherType: 0x86dd,
        payload: ipv6(src: linkLocal(1), dst: [0xff, 0x02] + [UInt8](repeating: 0, count: 9) + [1, 0xff, 0, 0, 2],
                      nextHeader: 58, hopLimit: 255,
                      payload: [135, 0, 0, 0, 0, 0, 0, 0] + linkLocal(2) + [1, 1] + vm1MAC))

    /// Second fragment (offset 1480) of an ICMP datagram: no ICMP header in it.
    static let icmpFragment: [UInt8] = padded(ethernet(
        dst: gatewayMAC, etherType: 0x0800,
        payload: ipv4(src: "198.18.0.11", dst: "198.18.0.12", proto: 1, id: 4660, flagsAndOffset: 1480 / 8,
                      payload: [UInt8](repeating: 0xab, count: 28))))

    /// Port unreachable for a DNS query, quoting the query's IPv4 and UDP headers.
    static let portUnreachable: [UInt8] = ethernet(
        dst: vm1MAC, src: gatewayMAC, etherType: 0x0800,
        payload: ipv4(src: "198.18.0.1", dst: "198.18.0.11", proto: 1, flagsAndOffset: 0,
                      payload: [3, 3, 0, 0, 0, 0, 0, 0]
                        + ipv4(src: "198.18.0.11", dst: "198.18.0.1", proto: 17,
                               payload: udp(srcPort: 40000, dstPort: 53, payload: [])).prefix(28)))

    static let unknownEtherType: [UInt8] = padded(ethernet(etherType: 0x88b5, payload: [1, 2, 3, 4]))

    static let tcpSynAck: [UInt8] = ethernet(
        dst: vm1MAC, src: gatewayMAC, etherType: 0x0800,
        payload: ipv4(src: "198.18.0.12", dst: "198.18.0.11", proto: 6,
                      payload: be16(80) + be16(50000) + be32(1) + be32(2) + [0x50, 0x12] + be16(65535) + [0, 0, 0, 0]))

    static let all: [(String, [UInt8])] = [
        ("arpRequestTagged", arpRequestTagged), ("arpReply", arpReply), ("qinqARP", qinqARP),
        ("echoRequest", echoRequest), ("echoRequestTagged", echoRequestTagged), ("echoWithOptions", echoWithOptions),
        ("dhcpDiscover", dhcpDiscover), ("dhcpOffer", dhcpOffer), ("icmp6Echo", icmp6Echo), ("mldReport", mldReport),
        ("neighborSolicitation", neighborSolicitation), ("icmpFragment", icmpFragment),
        ("portUnreachable", portUnreachable), ("unknownEtherType", unknownEtherType), ("tcpSynAck", tcpSynAck),
    ]
}
