import BridgeTraceCore
import BridgeTracePcap
import BridgeTracePipeline
import Foundation
import Testing

/// Recorded ring-buffer records (frames and drops, raw bytes as the kernel hands them
/// over) through the pipeline into each sink. No kernel, no root.
@Suite struct EventPipelineTests {
    static let ports: [Int32: String] = [3: "vm1", 4: "uplink"]
    /// 2026-11-21T12:00:01.123456789Z, at `Recorded.timeNs` on the monotonic clock.
    static let offsetNs: Int64 = 1_795_262_401_123_456_789 - Int64(Recorded.timeNs)

    static let stream: [[UInt8]] = [
        Recorded.frame(Recorded.arp, ifindex: 3, dir: .rx, kind: .arp),
        Recorded.frame(Recorded.icmp, ifindex: 4, dir: .tx, kind: .icmp),
        Recorded.frame(Recorded.udp, ifindex: 9, dir: .rx, kind: .other),
    ]

    static func source(ports: @escaping () -> [Int32: String] = { EventPipelineTests.ports }) -> EventSource {
        EventSource(frames: nil, dropReason: { $0 == 12 ? "NETFILTER_DROP" : "REASON_\($0)" },
                    dropLocation: { $0 == 0xffff_ffff_81fb_da3f ? "nft_do_chain" : "0x" + String($0, radix: 16) },
                    portNames: ports)
    }

    /// The lines a sink wrote, through a real file descriptor.
    static func output(_ format: TraceOutputSink.Format, filter: PacketFilter? = nil, limit: Int? = nil,
                       records: [[UInt8]] = stream) throws -> [String] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bt-pipeline-\(UUID().uuidString)").path
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        defer { close(fd); unlink(path) }
        let sink = TraceOutputSink(format: format, output: .fd(fd), wallClockOffsetNs: offsetNs)
        let pipeline = EventPipeline(source: source(), sinks: [sink], filter: filter, limit: limit)
        for record in records { record.withUnsafeBytes { pipeline.handleFrame($0) } }
        pipeline.stop()
        #expect(!sink.failed)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// What the Core formatters make of one record decoded on its own.
    static func event(_ record: [UInt8], port: String) -> TraceEvent {
        record.withUnsafeBytes { FrameEventRecord.event($0, port: port)! }
    }

    @Test func jsonLinesOnePerFrameWithPortNamesFromTheTable() throws {
        let lines = try Self.output(.json)
        #expect(lines.count == 3)
        #expect(lines[0] == #"{"time_ns": 1795262401123456789, "port": "vm1", "ifindex": 3, "dir": "rx", "kind": "arp", "len": 60, "src_mac": "52:54:00:00:00:01", "dst_mac": "ff:ff:ff:ff:ff:ff", "vlan": [], "arp": {"op": "request", "sender_ip": "198.18.0.11", "target_ip": "198.18.0.250", "sender_mac": "52:54:00:00:00:01", "target_mac": "00:00:00:00:00:00"}, "src_ip": null, "dst_ip": null, "icmp": null, "mono_ns": 5000000000, "caplen": 60, "ethertype": "0x0806", "vlan_tags": [], "ip_proto": null, "ttl": null, "fragment": null, "src_port": null, "dst_port": null, "tcp_flags": null, "dhcp": null, "truncated": false}"#)
        let expected = zip(Self.stream, ["vm1", "uplink", "if9"]).map {
            TraceJSON.line(Self.event($0, port: $1), wallClockOffsetNs: Self.offsetNs)
        }
        #expect(lines == expected)
    }

    @Test func textLinesAsTraceTextRendersThem() throws {
        let lines = try Self.output(.text)
        let expected = zip(Self.stream, ["vm1", "uplink", "if9"]).map {
            TraceText.line(Self.event($0, port: $1), wallClockOffsetNs: Self.offsetNs)
        }
        #expect(lines == expected)
        #expect(lines[1].contains("uplink"))
        #expect(lines[2].contains("if9"))
    }

    @Test func theFilterRunsBeforeTheSinksAndTheLimitStopsThem() throws {
        let icmpOnly = try Self.output(.json, filter: try PacketFilter(expression: "icmp"))
        #expect(icmpOnly.count == 1)
        #expect(icmpOnly.first?.contains(#""kind": "icmp""#) == true)
        let firstTwo = try Self.output(.text, limit: 2, records: Self.stream + Self.stream)
        #expect(firstTwo.count == 2)
    }

    @Test func theKernelsKindWinsOverTheDecodersAndIsCounted() throws {
        // The decoder would call these bytes ICMP; the kernel saw the whole frame.
        let record = Recorded.frame(Recorded.icmp, ifindex: 3, dir: .rx, kind: .other)
        let sink = Collected()
        let pipeline = EventPipeline(source: Self.source(), sinks: [sink])
        for raw in [record] + Self.stream { raw.withUnsafeBytes { pipeline.handleFrame($0) } }
        #expect(sink.events.first?.kind == .other)
        #expect(pipeline.summary == "4 events (arp 1, icmp 1, other 2)")
    }

    @Test func portsPostedByTheOwnerNameLaterRecords() {
        let table = PortNames(Self.ports)
        let sink = Collected()
        let pipeline = EventPipeline(source: Self.source(ports: { table.now }), sinks: [sink])
        Self.stream[2].withUnsafeBytes { pipeline.handleFrame($0) }
        table.now[9] = "tap-vm2"
        Self.stream[2].withUnsafeBytes { pipeline.handleFrame($0) }
        pipeline.refreshPorts()
        Self.stream[2].withUnsafeBytes { pipeline.handleFrame($0) }
        #expect(sink.events.map(\.frame.port) == ["if9", "if9", "tap-vm2"])

        let skipping = EventPipeline(source: Self.source(), sinks: [sink], unknownPorts: .skipped)
        for raw in Self.stream { raw.withUnsafeBytes { skipping.handleFrame($0) } }
        #expect(skipping.frames == 2)
    }

    /// Names below 4096 are indexed, the rest hashed: both, and the gaps, name right.
    @Test func portsInAndPastTheIndexedRangeAreNamed() {
        let ports: [Int32: String] = [3: "vm1", 4095: "edge", 4096: "big", 1_000_000: "huge", 2_147_483_647: "max"]
        let sink = Collected()
        let pipeline = EventPipeline(source: Self.source(ports: { ports }), sinks: [sink])
        for ifindex: UInt32 in [3, 4095, 4096, 1_000_000, 2_147_483_647, 4, 5000, 0, 4_294_967_295] {
            Recorded.frame(Recorded.arp, ifindex: ifindex, dir: .rx, kind: .arp).withUnsafeBytes { pipeline.handleFrame($0) }
        }
        #expect(sink.events.map(\.frame.port) == ["vm1", "edge", "big", "huge", "max", "if4", "if5000", "if0", "if-1"])
    }

    @Test func dropsAreNamedAndTheCollectorKeepsFollowedOnesAndABudgetOfTheRest() {
        let collector = EventCollector()
        let pipeline = EventPipeline(source: Self.source(), sinks: [collector])
        let budget = EventCollector.perKeyBudget
        let arpDrop = Recorded.drop(Recorded.arp, ifindex: 4, reason: 12, location: 0xffff_ffff_81fb_da3f)
        let udpDrop = Recorded.drop(Recorded.udp, ifindex: 3, reason: 12, location: 0xffff_ffff_81fb_da3f)
        for _ in 0..<(budget + 5) {
            arpDrop.withUnsafeBytes { pipeline.handleDrop($0) }
            udpDrop.withUnsafeBytes { pipeline.handleDrop($0) }
        }
        for raw in Self.stream { raw.withUnsafeBytes { pipeline.handleFrame($0) } }
        pipeline.stop()
        let drops = collector.drops
        #expect(drops.filter { $0.port == "uplink" }.count == budget + 5)
        #expect(drops.filter { $0.port == "vm1" }.count == budget)
        #expect(pipeline.drops == 2 * budget + 5)
        #expect(drops.first == DropRecord(monotonicNs: Recorded.timeNs, ifindex: 4, port: "uplink", reason: "NETFILTER_DROP",
                                          location: "nft_do_chain", length: Recorded.arp.count, bytes: Recorded.arp))
        #expect(collector.events.map(\.frame.port) == ["vm1", "uplink", "if9"])
        #expect(collector.overflow == 0)
        let counted = [DropCount(port: "vm1", ifindex: 3, reason: "NETFILTER_DROP", location: "nft_do_chain", count: 2 * UInt64(budget))]
        #expect(EventCollector.notKept(counted, kept: drops).map(\.count) == [UInt64(budget)])
    }

    @Test func pcapngSinkWritesOneEnhancedPacketBlockPerFrameAndCloses() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bt-pipeline-\(UUID().uuidString).pcapng").path
        defer { unlink(path) }
        let file = try PcapngFile(path: path, snaplen: 128)
        let pipeline = EventPipeline(source: Self.source(), sinks: [PcapngSink(file: file, wallClockOffsetNs: Self.offsetNs)])
        for raw in Self.stream { raw.withUnsafeBytes { pipeline.handleFrame($0) } }
        pipeline.stop()
        #expect(file.frameCount == 3)

        var encoder = PcapngEncoder(snaplen: 132)
        var expected = encoder.header()
        for (raw, port) in zip(Self.stream, ["vm1", "uplink", "if9"]) {
            let frame = Self.event(raw, port: port).frame
            expected += encoder.encode(frame, wallClockNs: UInt64(Int64(frame.monotonicNs) + Self.offsetNs))
        }
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == expected)
    }

    @Test func journeysArePrintedWhenTheLastFlushClosesThem() throws {
        // The same echo request seen entering at vm1 and leaving at uplink: one journey.
        let records = [
            Recorded.frame(Recorded.icmp, ifindex: 3, dir: .rx, kind: .icmp),
            Recorded.frame(Recorded.icmp, ifindex: 4, dir: .tx, kind: .icmp, timeNs: Recorded.timeNs + 20_000),
        ]
        let lines = try Self.output(.journey(.init()), records: records)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("vm1") == true && lines.first?.contains("uplink") == true)
    }
}

/// Keeps what reaches it.
private final class Collected: EventSink {
    var events: [TraceEvent] = []
    func add(_ event: borrowing TraceEventView) { events.append(TraceEvent(event)) }
}

/// The source's owner's port table.
private final class PortNames: @unchecked Sendable {
    var now: [Int32: String]
    init(_ ports: [Int32: String]) { now = ports }
}
