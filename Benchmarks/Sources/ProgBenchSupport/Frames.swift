import BridgeTraceCore

/// One test frame for BPF_PROG_TEST_RUN, with the counter class bt_xdp_rx must put it in.
public struct TestFrame: Sendable {
    public let name: String
    public let bytes: [UInt8]
    public let expected: CounterKind
    /// Counted in addition to `expected` (VLAN-tagged frames).
    public let alsoExpected: CounterKind?

    /// The three frames of the benchmark: the classes a bridge tracer sees most, plus the
    /// plain-IPv4 path that must not pay for what it does not match.
    public static let all: [TestFrame] = [arpRequest, vlanICMPEcho, ipv4UDP]

    static let vm1: [UInt8] = [0x52, 0x54, 0x00, 0x00, 0x00, 0x01]
    static let vm2: [UInt8] = [0x52, 0x54, 0x00, 0x00, 0x00, 0x02]
    static let ip1: [UInt8] = [198, 18, 0, 11]
    static let ip2: [UInt8] = [198, 18, 0, 12]

    /// Broadcast ARP request, who-has 198.18.0.12 tell 198.18.0.11: 42 bytes, zero-padded
    /// to the 60-byte Ethernet minimum.
    public static let arpRequest: TestFrame = {
        var f: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] + vm1 + [0x08, 0x06]
        f += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]  // Ethernet/IPv4, op = request
        f += vm1 + ip1 + [0, 0, 0, 0, 0, 0] + ip2
        precondition(f.count == 42)
        f += [UInt8](repeating: 0, count: 60 - f.count)
        return TestFrame(name: "arp-request-bcast", bytes: f, expected: .arpRequest, alsoExpected: nil)
    }()

    /// 802.1Q VID 100, ICMP echo request 198.18.0.11 -> .12, 18 bytes of payload: 64 bytes.
    public static let vlanICMPEcho: TestFrame = {
        var icmp: [UInt8] = [8, 0, 0, 0, 0x00, 0x01, 0x00, 0x01]  // type 8, id 1, seq 1
        icmp += (0..<18).map { UInt8($0) }
        let sum = checksum(icmp)
        icmp[2] = UInt8(sum >> 8)
        icmp[3] = UInt8(sum & 0xff)
        var f: [UInt8] = vm2 + vm1 + [0x81, 0x00, 0x00, 100, 0x08, 0x00]
        f += ipv4Header(protocol: 1, payloadLength: icmp.count) + icmp
        precondition(f.count == 64)
        return TestFrame(name: "vlan100-icmp-echo", bytes: f, expected: .icmpEchoRequest,
                         alsoExpected: .vlanTagged)
    }()

    /// IPv4 UDP 198.18.0.11:1024 -> .12:9 (discard), not DHCP: 64 bytes.
    public static let ipv4UDP: TestFrame = udp64(name: "ipv4-udp-64")

    public static func udp64(name: String) -> TestFrame {
        let payload = [UInt8](repeating: 0xab, count: 64 - 14 - 20 - 8)
        let udpLength = 8 + payload.count
        var udp: [UInt8] = [0x04, 0x00, 0x00, 0x09, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
        udp += payload  // checksum 0: none, legal for UDP over IPv4
        var f: [UInt8] = vm2 + vm1 + [0x08, 0x00]
        f += ipv4Header(protocol: 17, payloadLength: udp.count) + udp
        precondition(f.count == 64)
        return TestFrame(name: name, bytes: f, expected: .ipv4Other, alsoExpected: nil)
    }

    static func ipv4Header(protocol proto: UInt8, payloadLength: Int) -> [UInt8] {
        let total = 20 + payloadLength
        var h: [UInt8] = [0x45, 0x00, UInt8(total >> 8), UInt8(total & 0xff),
                          0x00, 0x01, 0x40, 0x00, 64, proto, 0, 0]
        h += ip1 + ip2
        let sum = checksum(h)
        h[10] = UInt8(sum >> 8)
        h[11] = UInt8(sum & 0xff)
        return h
    }

    /// RFC 1071 Internet checksum.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
