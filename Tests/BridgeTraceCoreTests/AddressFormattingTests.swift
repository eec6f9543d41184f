import Testing

@testable import BridgeTraceCore

@Suite struct AddressFormattingTests {
    @Test func macAddresses() {
        #expect(MACAddress([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])?.description == "52:54:00:12:34:56")
        #expect(MACAddress.broadcast.description == "ff:ff:ff:ff:ff:ff")
        #expect(MACAddress.zero.description == "00:00:00:00:00:00")
        #expect(MACAddress([1, 2, 3]) == nil)
        #expect(MACAddress(0x01, 0, 0x5e, 0, 0, 1).isMulticast)
        #expect(MACAddress(0x52, 0x54, 0, 0, 0, 1).octets == [0x52, 0x54, 0, 0, 0, 1])
    }

    @Test func ipv4Addresses() {
        #expect(IPv4Address(198, 18, 0, 11).description == "198.18.0.11")
        #expect(IPv4Address.broadcast.description == "255.255.255.255")
        #expect(IPv4Address.any.description == "0.0.0.0")
        #expect(IPv4Address("10.0.0.1")?.rawValue == 0x0a00_0001)
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.4 ", "0001.1.1.1"] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
    }

    /// RFC 5952's recommendations, section 4.
    @Test func ipv6CompressedForm() {
        func text(_ g: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16)) -> String {
            IPv6Address(groups: g).description
        }
        #expect(text((0xfe80, 0, 0, 0, 0, 0, 0, 1)) == "fe80::1")
        #expect(text((0, 0, 0, 0, 0, 0, 0, 1)) == "::1")
        #expect(text((0, 0, 0, 0, 0, 0, 0, 0)) == "::")
        #expect(text((0xff02, 0, 0, 0, 0, 0, 0, 1)) == "ff02::1")
        #expect(text((0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)) == "2001:db8::")
        // A single zero group is not compressed.
        #expect(text((0x2001, 0xdb8, 0, 1, 1, 1, 1, 1)) == "2001:db8:0:1:1:1:1:1")
        // The longest run wins; the first on a tie.
        #expect(text((0x2001, 0, 0, 1, 0, 0, 0, 1)) == "2001:0:0:1::1")
        #expect(text((0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)) == "2001:db8::1:0:0:1")
        #expect(text((0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 0x0aaa)) == "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaa")
        #expect(text((0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201)) == "::ffff:192.0.2.1")
        #expect(text((1, 0, 0, 0, 0, 0, 0, 0)) == "1::")
        #expect(IPv6Address([UInt8](repeating: 0xff, count: 16))?.description == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        #expect(IPv6Address(groups: (0xfe80, 0, 0, 0, 0, 0, 0, 1)).isLinkLocal)
    }

    @Test func vlanTagFields() {
        let tag = VLANTag(tpid: 0x8100, tci: 0xb064)  // pcp 5, dei 1, vid 100
        #expect(tag == VLANTag(tpid: 0x8100, vid: 100, pcp: 5, dei: true))
        #expect(tag.tci == 0xb064)
    }

    @Test func names() {
        #expect(EventKind.allCases.map(\.rawValue) == ["arp", "icmp", "icmp6", "dhcp", "vlan", "drop", "other"])
        #expect(EventKind.allCases.map(\.abiValue) == [1, 2, 3, 4, 5, 7, 6])
        #expect(EventKind(abiValue: 7) == .drop)
        #expect(EventKind(abiValue: 0) == nil)
        #expect(EventKind.arp.abiBit == 2)
        #expect(ARPOperation(rawValue: 3).description == "op 3")
        #expect(DHCPMessageType.ack.description == "ack")
        #expect(DHCPMessageType(rawValue: 42).description == "type 42")
    }
}
