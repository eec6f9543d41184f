import Testing

@testable import BridgeTraceCore

@Suite struct FrameDecoderTests {
    @Test func runtFramesDecodeWhatTheyHold() {
        for length in 0...13 {
            let bytes = Array(Fixture.arpReply.prefix(length))
            let decoded = FrameDecoder.decode(bytes)
            #expect(decoded.truncated, "length \(length)")
            #expect(decoded.kind == .other)
            #expect(decoded.etherType == nil)
            #expect(decoded.dstMAC == (length >= 6 ? MACAddress(Fixture.vm1MAC) : nil), "length \(length)")
            #expect(decoded.srcMAC == (length >= 12 ? MACAddress(Fixture.gatewayMAC) : nil), "length \(length)")
            #expect(decoded.arp == nil && decoded.ipv4 == nil && decoded.vlans.isEmpty)
        }
    }

    @Test func truncatedVLANTag() {
        // The TPID is there, the TCI and inner EtherType are cut.
        let cut = FrameDecoder.decode(Array(Fixture.arpRequestTagged.prefix(16)))
        #expect(cut.truncated)
        #expect(cut.vlans.isEmpty)
        #expect(cut.etherType == nil)
        #expect(cut.kind == .other)
        #expect(cut.srcMAC == MACAddress(Fixture.vm1MAC))

        // QinQ with the inner tag cut: the outer one is read, and the frame is a VLAN frame.
        let inner = FrameDecoder.decode(Array(Fixture.qinqARP.prefix(20)))
        #expect(inner.truncated)
        #expect(inner.vlans == [VLANTag(tpid: 0x88a8, vid: 300)])
        #expect(inner.etherType == nil)
        #expect(inner.kind == .vlan)
    }

    @Test func qinqARP() {
        let decoded = FrameDecoder.decode(Fixture.qinqARP)
        #expect(!decoded.truncated)
        #expect(decoded.vlans == [VLANTag(tpid: 0x88a8, vid: 300, pcp: 0, dei: false),
                                  VLANTag(tpid: 0x8100, vid: 100, pcp: 1, dei: false)])
        #expect(decoded.etherType == 0x0806)
        #expect(decoded.kind == .arp)
        #expect(decoded.arp == ARPInfo(op: .request, senderMAC: MACAddress(Fixture.vm1MAC),
                                       senderIP: IPv4Address("10.0.0.50"), targetMAC: .zero,
                                       targetIP: IPv4Address("10.0.0.1")))
    }

    @Test func arpReply() {
        let decoded = FrameDecoder.decode(Fixture.arpReply)
        #expect(decoded.kind == .arp)
        #expect(decoded.dstMAC == MACAddress(Fixture.vm1MAC))
        #expect(decoded.arp?.op == .reply)
        #expect(decoded.arp?.senderMAC?.description == "52:54:00:00:00:fe")
        #expect(decoded.arp?.targetIP?.description == "10.0.0.50")
        #expect(decoded.sourceIP == nil)
    }

    @Test func truncatedARP() {
        // Ethernet header, tag and 6 of ARP's 8 fixed bytes: no opcode.
        let noOp = FrameDecoder.decode(Array(Fixture.arpRequestTagged.prefix(18 + 6)))
        #expect(noOp.kind == .arp)
        #expect(noOp.arp == nil)
        #expect(noOp.truncated)
        #expect(noOp.vlans.map(\.vid) == [100])

        // Opcode and sender addresses, target cut.
        let partial = FrameDecoder.decode(Array(Fixture.arpRequestTagged.prefix(18 + 20)))
        #expect(partial.truncated)
        #expect(partial.arp == ARPInfo(op: .request, senderMAC: MACAddress(Fixture.vm1MAC),
                                       senderIP: IPv4Address(10, 0, 0, 50)))
        // Ethernet padding after a whole ARP is not truncation.
        #expect(!FrameDecoder.decode(Fixture.arpRequestTagged).truncated)
    }

    @Test func nonEthernetARPHasOpcodeOnly() {
        var bytes = Fixture.arpReply
        bytes[14 + 2] = 0x86  // ptype 0x86dd
        bytes[14 + 3] = 0xdd
        let decoded = FrameDecoder.decode(bytes)
        #expect(decoded.arp == ARPInfo(op: .reply, protocolType: 0x86dd))
    }

    @Test func truncatedIPv4Header() {
        let decoded = FrameDecoder.decode(Array(Fixture.echoRequest.prefix(14 + 12)))
        #expect(decoded.truncated)
        #expect(decoded.etherType == 0x0800)
        #expect(decoded.ipv4 == nil)
        #expect(decoded.kind == .other)
    }

    @Test func ipv4OptionsCarryingICMPEcho() {
        let decoded = FrameDecoder.decode(Fixture.echoWithOptions)
        #expect(!decoded.truncated)
        #expect(decoded.kind == .icmp)
        #expect(decoded.ipv4?.headerLength == 24)
        #expect(decoded.ipv4?.ttl == 64)
        #expect(decoded.ipv4?.dontFragment == true)
        #expect(decoded.ipPayloadLength == 64)
        #expect(decoded.icmp == ICMPInfo(type: 8, code: 0, id: 0xbeef, seq: 65535))

        // Options cut by the capture: the addresses and protocol are known (it is still an
        // ICMP frame, as the kernel counts it), the ICMP header is not.
        let cut = FrameDecoder.decode(Array(Fixture.echoWithOptions.prefix(14 + 22)))
        #expect(cut.truncated)
        #expect(cut.ipv4?.source == IPv4Address("198.18.0.11"))
        #expect(cut.ipProtocol == 1)
        #expect(cut.kind == .icmp)
        #expect(cut.icmp == nil)

        // An IHL under 5 is malformed: no protocol, no transport header.
        var bad = Fixture.echoWithOptions
        bad[14] = 0x44
        let malformed = FrameDecoder.decode(bad)
        #expect(!malformed.truncated)
        #expect(malformed.kind == .other)
        #expect(malformed.ipProtocol == nil)
        #expect(malformed.icmp == nil)
    }

    @Test func icmpEchoInside8021Q() {
        let decoded = FrameDecoder.decode(Fixture.echoRequestTagged)
        #expect(decoded.vlans == [VLANTag(tpid: 0x8100, vid: 42, pcp: 5, dei: true)])
        #expect(decoded.kind == .icmp)
        #expect(decoded.icmp == ICMPInfo(type: 0, code: 0, id: 7, seq: 4))
        #expect(decoded.ipv4?.destination == IPv4Address("198.18.0.12"))

        // Type and code, but id and seq cut.
        let cut = FrameDecoder.decode(Array(Fixture.echoRequestTagged.prefix(18 + 20 + 6)))
        #expect(cut.truncated)
        #expect(cut.kind == .icmp)
        #expect(cut.icmp == ICMPInfo(type: 0, code: 0))
    }

    @Test func dhcpDiscoverWithOptions() {
        let decoded = FrameDecoder.decode(Fixture.dhcpDiscover)
        #expect(!decoded.truncated)
        #expect(decoded.kind == .dhcp)
        #expect(decoded.udp == UDPInfo(sourcePort: 68, destinationPort: 67, length: UInt16(8 + 240 + Fixture.dhcpOptions.count)))
        #expect(decoded.dhcp == DHCPInfo(op: 1, transactionID: 0x1234_abcd, clientMAC: MACAddress(Fixture.vm1MAC),
                                         messageType: .discover, requestedIP: IPv4Address("198.18.0.50")))
    }

    @Test func dhcpOffer() {
        let decoded = FrameDecoder.decode(Fixture.dhcpOffer)
        #expect(decoded.kind == .dhcp)
        #expect(decoded.dhcp == DHCPInfo(op: 2, transactionID: 0xff, clientMAC: MACAddress(Fixture.vm1MAC),
                                         yourIP: IPv4Address("198.18.0.50"), messageType: .offer,
                                         serverID: IPv4Address("198.18.0.1")))
    }

    @Test func dhcpWithTruncatedOptions() {
        let optionsStart = 14 + 20 + 8 + 240
        // Cut inside option 53's value.
        let inOption = FrameDecoder.decode(Array(Fixture.dhcpDiscover.prefix(optionsStart + 2)))
        #expect(inOption.truncated)
        #expect(inOption.kind == .dhcp)
        #expect(inOption.dhcp?.messageType == nil)
        #expect(inOption.dhcp?.transactionID == 0x1234_abcd)

        // Message type read, cut before the end option.
        let beforeEnd = FrameDecoder.decode(Array(Fixture.dhcpDiscover.prefix(optionsStart + 8)))
        #expect(beforeEnd.truncated)
        #expect(beforeEnd.dhcp?.messageType == .discover)
        #expect(beforeEnd.dhcp?.requestedIP == nil)

        // The default 128-byte snap length: xid and chaddr, no options.
        let snapped = FrameDecoder.decode(Array(Fixture.dhcpDiscover.prefix(128)))
        #expect(snapped.truncated)
        #expect(snapped.kind == .dhcp)
        #expect(snapped.dhcp == DHCPInfo(op: 1, transactionID: 0x1234_abcd, clientMAC: MACAddress(Fixture.vm1MAC)))

        // Too short for the xid: still DHCP by its ports.
        let noXid = FrameDecoder.decode(Array(Fixture.dhcpDiscover.prefix(14 + 20 + 8 + 6)))
        #expect(noXid.kind == .dhcp)
        #expect(noXid.dhcp == nil)
        #expect(noXid.truncated)
    }

    @Test func dhcpOptionRunningPastTheUDPLengthIsMalformedNotTruncated() {
        // Option 53 claims 9 bytes; the UDP length ends the message first. Everything was captured.
        var options: [UInt8] = [0, 0, 53, 9, 1]
        let frame = Fixture.ethernet(etherType: 0x0800, payload: Fixture.ipv4(
            src: "0.0.0.0", dst: "255.255.255.255", proto: 17,
            payload: Fixture.udp(srcPort: 68, dstPort: 67,
                                 payload: Fixture.dhcp(op: 1, xid: 1, chaddr: Fixture.vm1MAC, options: options))))
        let decoded = FrameDecoder.decode(frame + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])  // trailing padding
        #expect(!decoded.truncated)
        #expect(decoded.dhcp?.messageType == nil)
        options = [53, 1, 3]  // no end option, but nothing cut
        let noEnd = FrameDecoder.decode(Fixture.ethernet(etherType: 0x0800, payload: Fixture.ipv4(
            src: "0.0.0.0", dst: "255.255.255.255", proto: 17,
            payload: Fixture.udp(srcPort: 68, dstPort: 67,
                                 payload: Fixture.dhcp(op: 1, xid: 1, chaddr: Fixture.vm1MAC, options: options)))))
        #expect(!noEnd.truncated)
        #expect(noEnd.dhcp?.messageType == .request)
    }

    @Test func icmp6Echo() {
        let decoded = FrameDecoder.decode(Fixture.icmp6Echo)
        #expect(!decoded.truncated)
        #expect(decoded.kind == .icmp6)
        #expect(decoded.ipv6?.source.description == "fe80::1")
        #expect(decoded.ipv6?.nextHeader == 58)
        #expect(decoded.ipPayloadLength == 64)
        #expect(decoded.icmp == ICMPInfo(type: 128, code: 0, id: 7, seq: 3))
    }

    @Test func icmp6PastHopByHopOptions() {
        let decoded = FrameDecoder.decode(Fixture.mldReport)
        #expect(decoded.kind == .icmp6)
        #expect(decoded.ipv6?.nextHeader == 0)
        #expect(decoded.ipProtocol == 58)
        #expect(decoded.icmp == ICMPInfo(type: 143, code: 0))
        #expect(decoded.ipPayloadLength == 28)

        // The extension header cut: the upper-layer protocol is unknown.
        let cut = FrameDecoder.decode(Array(Fixture.mldReport.prefix(14 + 40 + 4)))
        #expect(cut.truncated)
        #expect(cut.ipProtocol == nil)
        #expect(cut.kind == .other)
    }

    @Test func neighborSolicitationTarget() {
        let decoded = FrameDecoder.decode(Fixture.neighborSolicitation)
        #expect(decoded.kind == .icmp6)
        #expect(decoded.icmp?.target?.description == "fe80::2")
        #expect(decoded.ipv6?.destination.description == "ff02::1:ff00:2")
    }

    @Test func ipv4NonFirstFragment() {
        let decoded = FrameDecoder.decode(Fixture.icmpFragment)
        #expect(!decoded.truncated)
        #expect(decoded.kind == .other)
        #expect(decoded.isNonFirstFragment)
        #expect(decoded.ipv4?.fragmentOffset == 1480)
        #expect(decoded.ipv4?.identification == 4660)
        #expect(decoded.ipv4?.moreFragments == false)
        #expect(decoded.ipProtocol == 1)
        #expect(decoded.icmp == nil)
        #expect(decoded.ipPayloadLength == 28)  // the Ethernet padding is not payload
    }

    @Test func portUnreachableQuotesTheDatagram() {
        let decoded = FrameDecoder.decode(Fixture.portUnreachable)
        #expect(decoded.kind == .icmp)
        #expect(decoded.icmp == ICMPInfo(type: 3, code: 3, quoted: ICMPQuotedDatagram(
            source: IPv4Address("198.18.0.11")!, destination: IPv4Address("198.18.0.1")!, protocol: 17,
            sourcePort: 40000, destinationPort: 53)))
    }

    @Test func unknownEtherType() {
        let decoded = FrameDecoder.decode(Fixture.unknownEtherType)
        #expect(!decoded.truncated)
        #expect(decoded.kind == .other)
        #expect(decoded.etherType == 0x88b5)
        #expect(decoded.dstMAC == .broadcast)
    }

    @Test func tcpPorts() {
        let decoded = FrameDecoder.decode(Fixture.tcpSynAck)
        #expect(decoded.kind == .other)
        #expect(decoded.tcp == TCPInfo(sourcePort: 80, destinationPort: 50000, flags: 0x12, headerLength: 20))
    }

    @Test func taggedOtherIsVLAN() {
        let frame = Fixture.ethernet(tags: [(0x9100, 7)], etherType: 0x88b5, payload: [0, 0])
        let decoded = FrameDecoder.decode(frame)
        #expect(decoded.kind == .vlan)
        #expect(decoded.vlans == [VLANTag(tpid: 0x9100, vid: 7)])
        // More tags than the decoder follows: the fifth TPID stays the EtherType.
        let deep = Fixture.ethernet(tags: Array(repeating: (0x8100, 1), count: 5), etherType: 0x0806, payload: [])
        let deepDecoded = FrameDecoder.decode(deep)
        #expect(deepDecoded.vlans.count == FrameDecoder.maxVLANTags)
        #expect(deepDecoded.etherType == 0x8100)
        #expect(deepDecoded.kind == .vlan)
    }

    @Test func everyInputShape() {
        let bytes = Fixture.qinqARP
        let expected = FrameDecoder.decode(bytes)
        #expect(FrameDecoder.decode(bytes[...]) == expected)
        #expect(FrameDecoder.decode(([0, 0] + bytes)[2...]) == expected)
        #expect(bytes.withUnsafeBytes { FrameDecoder.decode($0) } == expected)
        #expect(FrameDecoder.decode(bytes.lazy.map { $0 }) == expected)
        #expect(FrameDecoder.decode(AnySequenceCollection(bytes)) == expected)
    }
}

/// A collection without contiguous storage, to reach the copying path.
struct AnySequenceCollection: Collection {
    let base: [UInt8]
    init(_ base: [UInt8]) { self.base = base }
    var startIndex: Int { 0 }
    var endIndex: Int { base.count }
    func index(after index: Int) -> Int { index + 1 }
    subscript(position: Int) -> UInt8 { base[position] }
}
