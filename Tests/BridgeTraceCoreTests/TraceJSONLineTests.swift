import Foundation
import Testing

@testable import BridgeTraceCore

/// The drain's JSON writer (TraceJSONLine) against the reference, the `JSONValue` tree of
/// the same shape (TraceJSON.value): byte for byte, on every fixture cut at every length,
/// and on decoded frames built to reach each branch the writer has (VLAN stacks, IPv6
/// forms, DHCP names and unknown codes, fragments, ICMP extras, escaped port names,
/// extreme numbers).
@Suite struct TraceJSONLineTests {
    func reference(_ event: TraceEvent, offset: Int64 = TraceClock.offsetNs) -> String {
        TraceJSON.value(event, wallClockOffsetNs: offset).rendered()
    }

    func fast(_ event: TraceEvent, offset: Int64 = TraceClock.offsetNs) -> String {
        TraceJSON.line(event, wallClockOffsetNs: offset)
    }

    func event(_ decoded: DecodedFrame, port: String = "vm1", monotonicNs: UInt64 = 5_000_000_000,
               ifindex: Int32 = 3, length: Int = 64, caplen: Int = 64) -> TraceEvent {
        TraceEvent(frame: CapturedFrame(monotonicNs: monotonicNs, ifindex: ifindex, port: port, direction: .tx,
                                        length: length, bytes: [UInt8](repeating: 0, count: caplen)),
                   decoded: decoded)
    }

    @Test func everyFixtureAtEveryCaptureLength() {
        var mismatches: [String] = []
        var lines = 0
        for (name, bytes) in Fixture.all {
            for length in 0...bytes.count {
                let event = TraceClock.event(Array(bytes.prefix(length)), length: bytes.count)
                lines += 1
                if fast(event) != reference(event) { mismatches.append("\(name) cut at \(length)") }
            }
        }
        #expect(lines > 1000)
        #expect(mismatches == [])
    }

    @Test func vlanStacks() {
        let tags = [VLANTag(tpid: 0x88a8, vid: 4095, pcp: 7, dei: true), VLANTag(tpid: 0x8100, vid: 0),
                    VLANTag(tpid: 0x9100, vid: 100, pcp: 3), VLANTag(tpid: 0x8100, vid: 1000, pcp: 1, dei: true)]
        for count in 0...tags.count {
            let decoded = DecodedFrame(dstMAC: .broadcast, srcMAC: MACAddress(rawValue: 0x0a0b0c0d0e0f),
                                       vlans: VLANTags(tags.prefix(count)), etherType: 0x0806, kind: .vlan)
            let line = fast(event(decoded))
            #expect(line == reference(event(decoded)), "\(count) tags")
            if count == 4 {
                #expect(line.contains(#""vlan": [4095, 0, 100, 1000]"#))
                #expect(line.contains(#"{"tpid": "0x88a8", "vid": 4095, "pcp": 7, "dei": true}, {"tpid": "0x8100", "vid": 0, "pcp": 0, "dei": false}"#))
            }
        }
    }

    @Test func ipv6FormsAndFragments() {
        let addresses = [
            IPv6Address(high: 0, low: 0), IPv6Address(high: 0, low: 1),
            IPv6Address(high: 0xfe80_0000_0000_0000, low: 0x0000_0000_0000_0001),
            IPv6Address(high: 0, low: 0xffff_c612_000b),
            IPv6Address(high: 0x2001_0db8_0000_0000, low: 0x0001_0000_0000_0001),
            IPv6Address(high: 0xffff_ffff_ffff_ffff, low: 0xffff_ffff_ffff_ffff),
        ]
        for (index, address) in addresses.enumerated() {
            let ipv6 = IPv6Info(source: address, destination: addresses[(index + 1) % addresses.count], nextHeader: 58,
                                hopLimit: 255, fragment: index % 2 == 0 ? IPv6Fragment(identification: 0xffff_ffff, offset: 8184, moreFragments: true) : nil)
            let decoded = DecodedFrame(etherType: 0x86dd, kind: .icmp6, ipv6: ipv6, ipProtocol: 58,
                                       icmp: ICMPInfo(type: 2, code: 0, mtu: 1280, target: address))
            let line = fast(event(decoded))
            #expect(line == reference(event(decoded)), "\(address)")
            #expect(line.contains(#""src_ip": "\#(address)""#))
        }
    }

    @Test func dhcpNamesCodesAndOptions() {
        for type: UInt8? in [nil, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 255] {
            for op: UInt8 in [0, 1, 2, 3, 255] {
                let dhcp = DHCPInfo(op: op, transactionID: type == nil ? 0 : 0xdead_beef,
                                    clientMAC: op == 0 ? nil : MACAddress(rawValue: 0x5254_0012_3456),
                                    clientIP: IPv4Address(10, 0, 0, 9), yourIP: op == 2 ? IPv4Address(198, 18, 0, 50) : nil,
                                    messageType: type.map(DHCPMessageType.init(rawValue:)),
                                    requestedIP: IPv4Address(0, 0, 0, 0), serverID: IPv4Address(255, 255, 255, 255))
                let decoded = DecodedFrame(dstMAC: .broadcast, srcMAC: .zero, etherType: 0x0800, kind: .dhcp,
                                           ipv4: IPv4Info(source: .any, destination: .broadcast, protocol: 17, ttl: 1, headerLength: 20),
                                           ipProtocol: 17, udp: UDPInfo(sourcePort: 68, destinationPort: 67, length: 250), dhcp: dhcp)
                #expect(fast(event(decoded)) == reference(event(decoded)), "type \(String(describing: type)) op \(op)")
            }
        }
    }

    @Test func arpOpsAndICMPQuotes() {
        for op: UInt16 in [1, 2, 0, 3, 65535] {
            let arp = ARPInfo(op: ARPOperation(rawValue: op), hardwareType: 1, protocolType: 0x0800, hardwareLength: 6,
                              protocolLength: 4)
            var full = arp
            full.senderMAC = MACAddress(rawValue: 0xffff_ffff_fffe)
            full.senderIP = IPv4Address(1, 22, 133, 4)
            full.targetMAC = .zero
            full.targetIP = IPv4Address(100, 10, 9, 199)
            for info in [arp, full] {
                let decoded = DecodedFrame(etherType: 0x0806, kind: .arp, arp: info, truncated: true)
                #expect(fast(event(decoded)) == reference(event(decoded)), "op \(op)")
            }
        }
        let quoted = [ICMPQuotedDatagram(source: IPv4Address(9, 99, 199, 255), destination: .any, protocol: 6),
                      ICMPQuotedDatagram(source: .any, destination: .broadcast, protocol: 17, sourcePort: 0, destinationPort: 65535)]
        for quote in quoted {
            let decoded = DecodedFrame(etherType: 0x0800, kind: .icmp,
                                       ipv4: IPv4Info(source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2),
                                                      protocol: 1, ttl: 0, headerLength: 20, identification: 65535,
                                                      moreFragments: true, fragmentOffset: 0),
                                       ipProtocol: 1, icmp: ICMPInfo(type: 3, code: 4, mtu: 4_294_967_295, quoted: quote),
                                       tcp: TCPInfo(sourcePort: 443, destinationPort: 1, flags: 0x1ff, headerLength: 20))
            #expect(fast(event(decoded)) == reference(event(decoded)))
        }
    }

    /// The digit count comes from the bit length: every power of ten and of two, and their
    /// neighbours, through mono_ns (unsigned) and time_ns (signed).
    @Test func everyDigitCountBoundary() {
        let decoded = FrameDecoder.decode(Fixture.arpReply)
        var values: Set<UInt64> = [0, UInt64.max, UInt64.max - 1]
        var power: UInt64 = 1
        for _ in 0...19 {
            values.formUnion([power &- 1, power, power &+ 1])
            power = power.multipliedReportingOverflow(by: 10).partialValue
        }
        for bit in 0..<64 { values.formUnion([(1 << UInt64(bit)) &- 1, 1 << UInt64(bit), (1 << UInt64(bit)) &+ 1]) }
        for value in values {
            let line = event(decoded, monotonicNs: value)
            #expect(fast(line, offset: 0) == reference(line, offset: 0), "\(value)")
            #expect(fast(line, offset: 0).contains(#""mono_ns": \#(value),"#), "\(value)")
        }
    }

    @Test func numbersPortNamesAndGrowth() {
        let decoded = FrameDecoder.decode(Fixture.tcpSynAck)
        let ports = ["", "a", "tap-vm1", "uplink-long-name-of-forty-bytes-or-more", "we\"ird\\\n\r\t\u{1}\u{1f}ü", "\u{7f}é日本"]
        let numbers: [(UInt64, Int64)] = [(0, 0), (9, 1), (10, -10), (99, -100), (100, 999), (UInt64.max, Int64.min),
                                          (UInt64.max, Int64.max), (1_000_000_000_000, -1)]
        for port in ports {
            for (mono, offset) in numbers {
                for ifindex: Int32 in [0, -1, Int32.max, Int32.min] {
                    let line = event(decoded, port: port, monotonicNs: mono, ifindex: ifindex, length: Int(ifindex & 0xffff))
                    #expect(fast(line, offset: offset) == reference(line, offset: offset), "\(port) \(mono) \(offset) \(ifindex)")
                }
            }
        }
        // A batch that starts tiny grows in the middle of lines, IPv6 ones included.
        var batch = TraceLineBuffer(capacity: 16)
        var expected = ""
        for (_, bytes) in Fixture.all {
            let line = TraceClock.event(bytes, port: String(repeating: "p", count: 300))
            batch.appendJSON(line, wallClockOffsetNs: TraceClock.offsetNs)
            expected += reference(line) + "\n"
        }
        #expect(batch.withBytes { String(decoding: $0, as: UTF8.self) } == expected)
    }
}
