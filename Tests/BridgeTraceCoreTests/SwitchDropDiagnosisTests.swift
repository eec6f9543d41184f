@testable import BridgeTraceCore
import CBridgeTraceABI
import Testing

/// A switch's drops (its own reasons, from its drop events) through the rule engine, and
/// a switch drop event decoded and rendered: no root needed.
@Suite struct SwitchDropDiagnosisTests {
    typealias R = Recording

    @Test func vlanNotAllowedIsAVLANMismatchAtThatPort() {
        var r = R()
        for second in 1...3 {
            let request = R.arpRequest(R.vm1, for: "198.18.0.99", vlan: 30)
            r.see(request, "vm1", .rx, at: Double(second))
            r.drop(request, at: "vm1", reason: "VLAN_NOT_ALLOWED", location: "bt_sw_xdp", seconds: Double(second) + 2e-6)
        }
        let findings = r.diagnose()
        #expect(findings.map(\.cause) == [.vlanMismatch], "\(findings.describeAll())")
        #expect(findings.first?.port == "vm1")
        #expect(findings.first?.summary.contains("VLAN 30") == true)
        #expect(findings.first?.summary.contains("VLAN_NOT_ALLOWED") == true)
    }

    @Test func portDownAndMTUAndTheRestSpeakOfTheSwitch() {
        var r = R()
        let request = R.echo(R.vm1, R.vm2, seq: 1)
        r.see(request, "vm1", .rx, at: 1)
        r.drop(request, at: "vm2", reason: "PORT_DOWN", location: "bt_sw_xdp", seconds: 1 + 2e-6)
        let big = R.echo(R.vm1, R.vm3, seq: 2, dataLength: 3000)
        r.see(big, "vm1", .rx, at: 2)
        r.drop(big, at: "vm3", reason: "MTU_EXCEEDED", location: "bt_sw_xdp", seconds: 2 + 2e-6)
        let loop = R.echo(R.vm2, R.vm1, seq: 3)
        r.see(loop, "vm2", .rx, at: 3)
        r.drop(loop, at: "vm2", reason: "HAIRPIN", location: "bt_sw_xdp", seconds: 3 + 2e-6)
        let findings = r.diagnose()
        let byCause = Dictionary(grouping: findings, by: \.cause)
        #expect(byCause[.portDown]?.map(\.port) == ["vm2"], "\(findings.describeAll())")
        #expect(byCause[.mtuMismatch]?.map(\.port) == ["vm3"])
        #expect(byCause[.unknownDrop]?.contains { $0.summary.contains("HAIRPIN") && $0.summary.contains("by the switch") } == true)
    }

    @Test func aSwitchDropEventDecodesWithItsReasonAndRendersIt() throws {
        var raw = [UInt8](repeating: 0, count: FrameEventRecord.dataOffset + 64)
        let frame = R.arpRequest(R.vm1, for: "198.18.0.99", vlan: 30)
        raw.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: UInt32(7), toByteOffset: FrameEventRecord.ifindexOffset, as: UInt32.self)
            bytes.storeBytes(of: UInt32(frame.count), toByteOffset: FrameEventRecord.lenOffset, as: UInt32.self)
            bytes.storeBytes(of: UInt16(frame.count), toByteOffset: FrameEventRecord.caplenOffset, as: UInt16.self)
            bytes[FrameEventRecord.kindOffset] = UInt8(BT_KIND_DROP.rawValue)
            bytes[FrameEventRecord.dropReasonOffset] = UInt8(BT_SW_DROP_VLAN_NOT_ALLOWED.rawValue)
            for (index, byte) in frame.enumerated() { bytes[FrameEventRecord.dataOffset + index] = byte }
        }
        let event = try #require(raw.withUnsafeBytes { FrameEventRecord.event($0, port: "p4") })
        #expect(event.kind == .drop)
        #expect(event.dropReason == "VLAN_NOT_ALLOWED")
        #expect(event.dropLocation == "bt_sw_xdp")
        let json = TraceJSON.line(event, wallClockOffsetNs: 0)
        #expect(json.contains(#""kind": "drop""#) || json.contains(#""kind":"drop""#))
        #expect(json.contains("VLAN_NOT_ALLOWED") && json.contains("bt_sw_xdp"))
        // The fast line writer and the reference tree agree on the drop's extra keys too.
        #expect(json == TraceJSON.value(event, wallClockOffsetNs: 0).rendered())
        #expect(json.hasSuffix(#", "reason": "VLAN_NOT_ALLOWED", "location": "bt_sw_xdp"}"#))
        #expect(TraceText.line(event, wallClockOffsetNs: 0).contains("p4 rx DROP VLAN_NOT_ALLOWED at bt_sw_xdp: vlan 30 ARP"))
        // A frame event (kind arp) carries no reason keys.
        raw[FrameEventRecord.kindOffset] = UInt8(BT_KIND_ARP.rawValue)
        let frameEvent = try #require(raw.withUnsafeBytes { FrameEventRecord.event($0, port: "p4") })
        #expect(frameEvent.dropReason == nil)
        #expect(!TraceJSON.line(frameEvent, wallClockOffsetNs: 0).contains("reason"))
    }

    /// A reason name with another location is not the switch's: the kernel's rules judge it.
    @Test func aSwitchReasonNameAtAKernelLocationIsNotTheSwitchs() {
        var r = R()
        let request = R.echo(R.vm1, R.vm2, seq: 1)
        r.see(request, "vm1", .rx, at: 1)
        r.drop(request, at: "vm2", reason: "PORT_DOWN", location: "some_kernel_function", seconds: 1 + 2e-6)
        let findings = r.diagnose()
        #expect(findings.map(\.cause) == [.unknownDrop], "\(findings.describeAll())")
        #expect(findings.first?.summary.contains("by the kernel") == true)
    }

    @Test func switchReasonsAreFoundByName() {
        for reason in SwitchDropReason.allCases { #expect(SwitchDropReason.named(reason.name) == reason) }
        #expect(SwitchDropReason.named("NETFILTER_DROP") == nil)
    }
}
