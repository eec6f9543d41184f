@testable import BridgeTraceCore
import CBridgeTraceABI
import Testing

/// Ring-buffer records (raw `struct bt_frame_event` bytes) into the event lent to the sinks:
/// the bytes where they lie, an offloaded tag put back, every field exactly.
@Suite struct FrameEventRecordTests {
    /// A record as the kernel fills it; `recordBytes` cuts it (a short record).
    static func record(_ frame: [UInt8], ifindex: UInt32 = 7, dir: Direction = .rx, kind: bt_kind,
                       timeNs: UInt64 = 1_234_567_890, caplen: Int? = nil, tpid: UInt16 = 0, tci: UInt16 = 0,
                       dhcpType: UInt8 = 0, dropReason: UInt8 = 0, recordBytes: Int? = nil) -> [UInt8] {
        var event = bt_frame_event()
        event.time_ns = timeNs
        event.ifindex = ifindex
        event.len = UInt32(frame.count)
        event.caplen = UInt16(caplen ?? frame.count)
        event.dir = UInt8(dir.abiValue)
        event.kind = UInt8(kind.rawValue)
        event.vlan_offload_tpid = tpid
        event.vlan_offload_tci = tci
        event.dhcp_msg_type = dhcpType
        event.drop_reason = dropReason
        var bytes = withUnsafeBytes(of: event) { Array($0) }
        for (index, byte) in frame.prefix(Int(BT_SNAPLEN_MAX)).enumerated() { bytes[FrameEventRecord.dataOffset + index] = byte }
        return Array(bytes.prefix(recordBytes ?? (FrameEventRecord.dataOffset + max(frame.count, Int(event.caplen)))))
    }

    /// What `body` sees of the record's event, kept.
    static func lent(_ record: [UInt8], port: String = "vm1",
                     _ body: (borrowing TraceEventView, UnsafeRawBufferPointer) -> Void = { _, _ in }) -> TraceEvent? {
        record.withUnsafeBytes { raw in
            guard let header = FrameEventRecord.header(raw) else { return nil }
            var kept: TraceEvent?
            FrameEventRecord.withEvent(raw, header: header, port: port) { event in
                body(event, raw)
                kept = TraceEvent(event)
            }
            return kept
        }
    }

    @Test func anUntaggedFramesBytesAreLentWhereTheyLieInTheRecord() throws {
        let raw = Self.record(Fixture.echoRequest, ifindex: 9, dir: .tx, kind: BT_KIND_ICMP)
        var inPlace = false
        let kept = try #require(Self.lent(raw, port: "uplink") { event, record in
            let start = record.baseAddress!.advanced(by: FrameEventRecord.dataOffset).assumingMemoryBound(to: UInt8.self)
            inPlace = event.bytes.baseAddress == start && event.bytes.count == Fixture.echoRequest.count
        })
        #expect(inPlace)
        // Every field, through the copy that owns its bytes.
        #expect(kept.frame.bytes == Fixture.echoRequest)
        #expect(kept.frame.monotonicNs == 1_234_567_890)
        #expect(kept.frame.ifindex == 9)
        #expect(kept.frame.port == "uplink")
        #expect(kept.frame.direction == .tx)
        #expect(kept.frame.length == Fixture.echoRequest.count)
        #expect(kept.decoded == FrameDecoder.decode(Fixture.echoRequest))
        #expect(kept.kind == .icmp)
        #expect(kept.dropReason == nil && kept.dropLocation == nil)
        #expect(kept == TraceEvent(frame: CapturedFrame(monotonicNs: 1_234_567_890, ifindex: 9, port: "uplink",
                                                        direction: .tx, length: Fixture.echoRequest.count,
                                                        bytes: Fixture.echoRequest),
                                   decoded: FrameDecoder.decode(Fixture.echoRequest)))
    }

    @Test func anOffloadedTagIsPutBackAfterTheMACsAndCounted() throws {
        // PCP 1, VID 100, moved into skb metadata by the stack (tc).
        let raw = Self.record(Fixture.arpReply, kind: BT_KIND_ARP, tpid: 0x8100, tci: 0x2064)
        let wire = Array(Fixture.arpReply[0..<12]) + [0x81, 0x00, 0x20, 0x64] + Array(Fixture.arpReply[12...])
        var inRecord = true
        let kept = try #require(Self.lent(raw) { event, record in
            // A copy (on the stack), not the record's bytes.
            let recordRange = UInt(bitPattern: record.baseAddress!)...UInt(bitPattern: record.baseAddress! + record.count)
            inRecord = recordRange.contains(UInt(bitPattern: event.bytes.baseAddress!))
        })
        #expect(!inRecord)
        #expect(kept.frame.bytes == wire)
        #expect(kept.frame.length == Fixture.arpReply.count + 4)
        #expect(kept.decoded.vlans == [VLANTag(tpid: 0x8100, vid: 100, pcp: 1)])
        #expect(kept.decoded.arp == FrameDecoder.decode(Fixture.arpReply).arp)
        #expect(kept.kind == .arp)
        #expect(kept == TraceEvent.make(CapturedFrame(monotonicNs: 1_234_567_890, ifindex: 7, port: "vm1", direction: .rx,
                                                      length: Fixture.arpReply.count + 4, bytes: wire)))
    }

    @Test func aRuntUnderTheMACsKeepsItsBytesWhenATagWasOffloaded() throws {
        let runt: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        let kept = try #require(Self.lent(Self.record(runt, kind: BT_KIND_OTHER, tpid: 0x8100, tci: 5)))
        #expect(kept.frame.bytes == runt)
        #expect(kept.frame.length == 12)
        #expect(kept.decoded.truncated)
        #expect(kept.decoded.vlans.isEmpty)
    }

    @Test func aCaplenPastTheRecordIsCutToWhatItCarries() throws {
        let raw = Self.record(Fixture.echoRequest, kind: BT_KIND_ICMP, caplen: 200,
                              recordBytes: FrameEventRecord.dataOffset + 20)
        let kept = try #require(Self.lent(raw))
        #expect(kept.frame.bytes == Array(Fixture.echoRequest.prefix(20)))
        #expect(kept.decoded.truncated)
        #expect(kept.decoded.ipv4 == nil)
        // The kernel's kind still wins over what the cut bytes say.
        #expect(kept.kind == .icmp)
        // Shorter than the header: no event at all.
        #expect(Self.lent(Array(raw.prefix(FrameEventRecord.dataOffset - 1))) == nil)
    }

    @Test func theKernelsDHCPMessageTypeFillsInWhatTheSnapCut() throws {
        // 96 bytes reach the BOOTP fixed header but not the options.
        let kept = try #require(Self.lent(Self.record(Fixture.dhcpDiscover, kind: BT_KIND_DHCP, caplen: 96, dhcpType: 1)))
        #expect(kept.frame.bytes.count == 96)
        #expect(kept.frame.length == Fixture.dhcpDiscover.count)
        #expect(FrameDecoder.decode(Array(Fixture.dhcpDiscover.prefix(96))).dhcp?.messageType == nil)
        #expect(kept.decoded.dhcp?.messageType == .discover)
        #expect(kept.kind == .dhcp)
    }

    @Test func aSwitchDropCarriesItsReasonAndAnUnknownOneItsNumber() throws {
        let known = try #require(Self.lent(Self.record(Fixture.arpReply, kind: BT_KIND_DROP,
                                                       dropReason: UInt8(BT_SW_DROP_PORT_DOWN.rawValue))))
        #expect(known.kind == .drop)
        #expect(known.dropReason == "PORT_DOWN")
        #expect(known.dropLocation == SwitchDropReason.portDown.location)
        let unknown = try #require(Self.lent(Self.record(Fixture.arpReply, kind: BT_KIND_DROP, dropReason: 99)))
        #expect(unknown.dropReason == "SWITCH_DROP_99")
        #expect(unknown.dropLocation == "bridgetrace switch")
    }

    @Test func aKeptEventIsLentBackWithTheSameFields() {
        var event = TraceEvent.make(CapturedFrame(monotonicNs: 42, ifindex: 3, port: "p", direction: .tx, length: 70,
                                                  bytes: Fixture.qinqARP))
        event.dropReason = "R"
        event.dropLocation = "L"
        let (copy, bytes) = event.withView { view in (TraceEvent(view), Array(view.bytes)) }
        #expect(bytes == Fixture.qinqARP)
        #expect(copy == event)
    }

    @Test func decodingIntoAFrameReplacesWhatItHeld() {
        var frame = FrameDecoder.decode(Fixture.qinqARP)
        Fixture.echoRequest.withUnsafeBufferPointer { FrameDecoder.decode($0, into: &frame) }
        #expect(frame == FrameDecoder.decode(Fixture.echoRequest))
        #expect(frame.vlans.isEmpty && frame.arp == nil)
    }

    @Test func reinsertingATagWritesItAfterTheMACs() {
        let frame = Array(0..<20).map(UInt8.init)
        #expect(CapturedFrame.reinsertingTag(frame, tpid: 0x88a8, tci: 0xe12c)
                    == Array(0..<12) + [0x88, 0xa8, 0xe1, 0x2c] + Array(12..<20))
        #expect(CapturedFrame.reinsertingTag(Array(frame.prefix(11)), tpid: 0x8100, tci: 1) == Array(frame.prefix(11)))
        #expect(CapturedFrame.reinsertingTag([], tpid: 0x8100, tci: 1) == [])
    }
}
