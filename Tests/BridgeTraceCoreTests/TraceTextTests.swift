import Testing

@testable import BridgeTraceCore

@Suite struct TraceTextTests {
    func line(_ bytes: [UInt8], port: String = "tap-vm1", direction: Direction = .rx, length: Int? = nil) -> String {
        TraceClock.textAfterTime(TraceClock.event(bytes, port: port, direction: direction, length: length))
    }

    @Test func localTimeFirstThenPortAndDirection() {
        let text = TraceClock.text(TraceClock.event(Fixture.arpRequestTagged))
        #expect(text == "\(TraceClock.localPrefix) tap-vm1 rx vlan 100 ARP who-has 10.0.0.1 tell 10.0.0.50")
    }

    @Test func arp() {
        #expect(line(Fixture.arpReply, port: "vm2", direction: .tx) == "vm2 tx ARP reply 10.0.0.1 is-at 52:54:00:00:00:fe")
        #expect(line(Fixture.qinqARP) == "tap-vm1 rx vlan 300 vlan 100 ARP who-has 10.0.0.1 tell 10.0.0.50")
        #expect(line(Array(Fixture.arpRequestTagged.prefix(18 + 20))) == "tap-vm1 rx vlan 100 ARP request [truncated]")
        #expect(line(Array(Fixture.arpRequestTagged.prefix(18 + 6))) == "tap-vm1 rx vlan 100 ARP [truncated]")
    }

    @Test func icmp() {
        #expect(line(Fixture.echoRequest, port: "vm1")
                == "vm1 rx IP 198.18.0.11 > 198.18.0.12: ICMP echo request, id 7, seq 3, length 64")
        #expect(line(Fixture.echoRequestTagged, port: "vm1")
                == "vm1 rx vlan 42 IP 198.18.0.11 > 198.18.0.12: ICMP echo reply, id 7, seq 4, length 64")
        #expect(line(Fixture.echoWithOptions, port: "vm1")
                == "vm1 rx IP 198.18.0.11 > 198.18.0.12: ICMP echo request, id 48879, seq 65535, length 64")
        #expect(line(Fixture.portUnreachable, port: "vm1", direction: .tx)
                == "vm1 tx IP 198.18.0.1 > 198.18.0.11: ICMP 198.18.0.1 udp port 53 unreachable, length 36")
        #expect(line(Array(Fixture.echoRequest.prefix(14 + 20 + 6)))
                == "tap-vm1 rx IP 198.18.0.11 > 198.18.0.12: ICMP echo request, length 64 [truncated]")
        #expect(line(Array(Fixture.echoRequest.prefix(14 + 20 + 2)))
                == "tap-vm1 rx IP 198.18.0.11 > 198.18.0.12: ICMP [truncated]")
        #expect(line(Array(Fixture.echoRequest.prefix(14 + 12))) == "tap-vm1 rx IP [truncated]")
        #expect(line(Array(Fixture.echoWithOptions.prefix(14 + 22)))
                == "tap-vm1 rx IP 198.18.0.11 > 198.18.0.12: ICMP [truncated]")
        var badIHL = Fixture.echoRequest
        badIHL[14] = 0x43
        #expect(line(badIHL) == "tap-vm1 rx IP 198.18.0.11 > 198.18.0.12: bad header length 12")
    }

    @Test func needToFragmentShowsTheMTU() {
        let frame = Fixture.ethernet(etherType: 0x0800, payload: Fixture.ipv4(
            src: "198.18.0.1", dst: "198.18.0.11", proto: 1,
            payload: [3, 4, 0, 0, 0, 0] + Fixture.be16(1400)
                + Fixture.ipv4(src: "198.18.0.11", dst: "198.18.0.99", proto: 6, payload: [UInt8](repeating: 0, count: 8))))
        #expect(line(frame) == "tap-vm1 rx IP 198.18.0.1 > 198.18.0.11: ICMP 198.18.0.99 unreachable - need to frag (mtu 1400), length 36")
    }

    @Test func dhcp() {
        #expect(line(Fixture.dhcpDiscover, port: "vm1")
                == "vm1 rx IP 0.0.0.0.68 > 255.255.255.255.67: DHCP discover, xid 0x1234abcd, client 52:54:00:12:34:56")
        #expect(line(Fixture.dhcpOffer, port: "vm1", direction: .tx)
                == "vm1 tx IP 198.18.0.1.67 > 198.18.0.50.68: DHCP offer, xid 0x000000ff, client 52:54:00:12:34:56, your-ip 198.18.0.50")
        #expect(line(Array(Fixture.dhcpDiscover.prefix(128)), port: "vm1", length: Fixture.dhcpDiscover.count)
                == "vm1 rx IP 0.0.0.0.68 > 255.255.255.255.67: DHCP BOOTREQUEST, xid 0x1234abcd, client 52:54:00:12:34:56 [truncated]")
    }

    @Test func icmp6() {
        #expect(line(Fixture.icmp6Echo) == "tap-vm1 rx IP6 fe80::1 > fe80::2: ICMP6 echo request, id 7, seq 3, length 64")
        #expect(line(Fixture.neighborSolicitation)
                == "tap-vm1 rx IP6 fe80::1 > ff02::1:ff00:2: ICMP6 neighbor solicitation, who has fe80::2, length 32")
        #expect(line(Fixture.mldReport) == "tap-vm1 rx IP6 fe80::1 > ff02::16: ICMP6 multicast listener report v2, length 28")
        let unknownType = Fixture.ethernet(etherType: 0x86dd, payload: Fixture.ipv6(
            src: Fixture.linkLocal(1), dst: Fixture.linkLocal(2), nextHeader: 58, payload: [200, 1, 0, 0, 0, 0, 0, 0]))
        #expect(line(unknownType) == "tap-vm1 rx IP6 fe80::1 > fe80::2: ICMP6 type 200 code 1, length 8")
    }

    @Test func fragmentsAndOtherProtocols() {
        #expect(line(Fixture.icmpFragment)
                == "tap-vm1 rx IP 198.18.0.11 > 198.18.0.12: icmp fragment, id 4660, offset 1480, length 28")
        #expect(line(Fixture.tcpSynAck) == "tap-vm1 rx IP 198.18.0.12.80 > 198.18.0.11.50000: Flags [S.], length 0")
        let udp = Fixture.ethernet(etherType: 0x0800, payload: Fixture.ipv4(
            src: "198.18.0.11", dst: "198.18.0.1", proto: 17, payload: Fixture.udp(srcPort: 40000, dstPort: 53, payload: [1, 2, 3])))
        #expect(line(udp) == "tap-vm1 rx IP 198.18.0.11.40000 > 198.18.0.1.53: UDP, length 3")
        let gre = Fixture.ethernet(etherType: 0x0800, payload: Fixture.ipv4(
            src: "198.18.0.11", dst: "198.18.0.1", proto: 47, payload: [0, 0, 0x65, 0x58]))
        #expect(line(gre) == "tap-vm1 rx IP 198.18.0.11 > 198.18.0.1: gre, length 4")
    }

    @Test func nonIP() {
        #expect(line(Fixture.unknownEtherType, port: "uplink", direction: .tx) == "uplink tx ethertype 0x88b5, length 60")
        let lldp = Fixture.padded(Fixture.ethernet(etherType: 0x88cc, payload: [2, 7]))
        #expect(line(lldp, length: 64) == "tap-vm1 rx ethertype LLDP (0x88cc), length 64")
        let stp = Fixture.padded(Fixture.ethernet(dst: [0x01, 0x80, 0xc2, 0, 0, 0], etherType: 38, payload: [0x42, 0x42, 0x03, 0, 0]))
        #expect(line(stp) == "tap-vm1 rx STP, length 60")
        let tagged = Fixture.ethernet(tags: [(0x8100, 200)], etherType: 0x88b5, payload: [])
        #expect(line(tagged, length: 64) == "tap-vm1 rx vlan 200 ethertype 0x88b5, length 64")
    }

    @Test func runtsAndCutTags() {
        #expect(line([]) == "tap-vm1 rx ethernet, length 0 [truncated]")
        #expect(line(Array(Fixture.arpReply.prefix(13))) == "tap-vm1 rx ethernet, length 13 [truncated]")
        #expect(line(Array(Fixture.qinqARP.prefix(20))) == "tap-vm1 rx vlan 300 ethernet, length 20 [truncated]")
    }

    @Test func portNamesAreWrittenAsGiven() {
        #expect(line(Fixture.unknownEtherType, port: "veth-ü") == "veth-ü rx ethertype 0x88b5, length 60")
    }

    @Test func timesBeforeTheEpochDoNotTrap() {
        let event = TraceClock.event(Fixture.arpReply)
        let text = TraceText.line(event, wallClockOffsetNs: Int64.min)
        #expect(text.count > 16)
        #expect(TraceText.line(event, wallClockOffsetNs: Int64.max).count > 16)
    }
}
