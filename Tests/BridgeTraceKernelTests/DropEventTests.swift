import BridgeTraceCore
import CBridgeTraceABI
import Foundation
import Testing

@testable import BridgeTraceKernel

@Suite struct DropEventTests {
    @Test(arguments: [
        ("bt_drop_key", MemoryLayout<bt_drop_key>.size),
        ("bt_drop_config", MemoryLayout<bt_drop_config>.size),
    ])
    func swiftLayoutMatchesBTF(name: String, swiftSize: Int) throws {
        let object = try BPFObjectSpec(embedded: .drops)
        let btfSize = try #require(object.btfStructSize(name), "\(name) missing from the drops object's BTF")
        #expect(btfSize == swiftSize, "\(name): BTF says \(btfSize) bytes, Swift sees \(swiftSize)")
    }

    /// The event is only ever a ring-buffer record, so it is not in the object's BTF; its
    /// layout is explicit (fixed-width fields, padded) and checked here instead.
    @Test func eventLayoutIsTheExplicitOne() {
        #expect(MemoryLayout<bt_drop_event>.offset(of: \bt_drop_event.data) == 40)
        #expect(MemoryLayout<bt_drop_event>.size == 40 + Int(BT_DROP_SNAPLEN))
        #expect(MemoryLayout<bt_drop_key>.size == 16)
    }

    @Test func programsCarryTheRecognisablePrefix() throws {
        let object = try BPFObjectSpec(embedded: .drops)
        #expect(Set(object.programNames) == ["bt_drop_btf", "bt_drop_raw"])
    }

    static let reasons = DropReasonNames(members: [("SKB_NOT_DROPPED_YET", 0), ("SKB_CONSUMED", 1),
                                                   ("SKB_DROP_REASON_NETFILTER_DROP", 12)])

    func event(frame: [UInt8], vlanProto: UInt16 = 0, vlanTCI: UInt16 = 0) -> [UInt8] {
        var event = bt_drop_event()
        event.time_ns = 123_456_789
        event.location = 0xffff_ffff_81fb_da3f
        event.ifindex = 5
        event.reason = 12
        event.len = 84
        event.mac_offset = 14
        event.caplen = UInt16(frame.count)
        event.vlan_proto = vlanProto
        event.vlan_tci = vlanTCI
        withUnsafeMutableBytes(of: &event.data) { raw in
            for (index, byte) in frame.enumerated() { raw[index] = byte }
        }
        return withUnsafeBytes(of: event) { Array($0) }
    }

    /// As the event pipeline decodes a drop record, with this kernel's reason names.
    static func decode(_ raw: UnsafeRawBufferPointer, symbols: (UInt64) -> String,
                       portName: (Int32) -> String) -> DropRecord? {
        DropEventRecord.header(raw).map {
            DropEventRecord.record(raw, header: $0, port: portName($0.ifindex), reason: reasons.name(of:), location: symbols)
        }
    }

    static let frame: [UInt8] = [0x52, 0x54, 0, 0, 0, 0xfe, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0x00]

    @Test func decodesAnEvent() throws {
        let raw = event(frame: Self.frame)
        let record = try #require(raw.withUnsafeBytes {
            Self.decode($0, symbols: { _ in "nft_do_chain" }, portName: { $0 == 5 ? "uplink" : "?" })
        })
        #expect(record == DropRecord(monotonicNs: 123_456_789, ifindex: 5, port: "uplink", reason: "NETFILTER_DROP",
                                     location: "nft_do_chain", length: 84, bytes: Self.frame))
    }

    @Test func reinsertsAnOffloadedTag() throws {
        let raw = event(frame: Self.frame, vlanProto: 0x8100, vlanTCI: 100)
        let record = try #require(raw.withUnsafeBytes {
            Self.decode($0, symbols: { _ in "x" }, portName: { _ in "p" })
        })
        #expect(Array(record.bytes[12..<16]) == [0x81, 0x00, 0x00, 100])
        #expect(Array(record.bytes[16...]) == Array(Self.frame[12...]))
    }

    @Test func shortRecordIsRejected() {
        let raw = [UInt8](repeating: 0, count: 10)
        #expect(raw.withUnsafeBytes {
            Self.decode($0, symbols: { _ in "" }, portName: { _ in "" })
        } == nil)
    }
}

@Suite struct DropsReportTests {
    static func snapshot(_ drops: [DropCount], time: Double = 1_795_000_000) -> DropsSnapshot {
        DropsSnapshot(time: time, bridge: "br0", netns: "lab-br", drops: drops, lostEvents: 0, hook: "tp_btf")
    }

    @Test func jsonHasTheContractShape() throws {
        let now = Self.snapshot([DropCount(port: "uplink", ifindex: 5, reason: "NETFILTER_DROP", location: "nft_do_chain", count: 5)])
        let before = Self.snapshot([DropCount(port: "uplink", ifindex: 5, reason: "NETFILTER_DROP", location: "nft_do_chain", count: 3)])
        let line = DropsReport.jsonLine(now, previous: before, elapsed: 2)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["bridge"] as? String == "br0")
        #expect(object["netns"] as? String == "lab-br")
        #expect(object["lost_events"] as? Int == 0)
        #expect(object["time"] is String)
        let drops = try #require(object["drops"] as? [[String: Any]])
        #expect(drops.count == 1)
        #expect(drops[0]["port"] as? String == "uplink")
        #expect(drops[0]["ifindex"] as? Int == 5)
        #expect(drops[0]["reason"] as? String == "NETFILTER_DROP")
        #expect(drops[0]["location"] as? String == "nft_do_chain")
        #expect(drops[0]["count"] as? Int == 5)
        #expect(drops[0]["rate"] as? Double == 1.0)
    }

    @Test func tableListsEveryRow() {
        let now = Self.snapshot([
            DropCount(port: "vm1", ifindex: 3, reason: "NO_TX_TARGET", location: "br_handle_frame_finish", count: 2),
            DropCount(port: "uplink", ifindex: 5, reason: "NETFILTER_DROP", location: "nft_do_chain", count: 7),
        ])
        let text = DropsReport.table(now, previous: nil, elapsed: 1)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[1].hasPrefix("port"))
        #expect(lines[2].hasPrefix("uplink") && lines[2].contains("NETFILTER_DROP") && lines[2].contains("nft_do_chain"))
        #expect(lines[3].hasPrefix("vm1") && lines[3].hasSuffix("2"))
        #expect(DropsReport.table(Self.snapshot([]), previous: nil, elapsed: 1).contains("no drops"))
    }
}
