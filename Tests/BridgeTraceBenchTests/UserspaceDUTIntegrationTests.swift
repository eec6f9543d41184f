import BridgeTraceCore
import Foundation
import Testing

@testable import BridgeTraceBench

/// The userspace DUTs (bridgetrace's switch on both paths, Open vSwitch on AF_XDP) carry
/// exactly what is sent, and leave no process behind. Short paced trials: correctness,
/// not speed.
@Suite(.serialized) struct UserspaceDUTIntegrationTests {
    /// Sends `count` frames at a rate every DUT keeps up with, on the default CPU placement.
    func expectExactCount(_ dut: DeviceUnderTest, count: UInt64 = 10_000) throws {
        let bed = try TestBed(dut: dut)
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 64, ratePPS: 20_000, count: count, duration: 0.5))
        #expect(result.sent == count, "\(dut.name)")
        #expect(result.received == count, "\(dut.name)")
        #expect(result.lost == 0, "\(dut.name)")
        #expect(result.reordered == 0, "\(dut.name)")
        #expect(result.stale == 0, "\(dut.name)")
    }

    static func alive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }

    @Test func exactCountThroughOVSAFXDP() throws {
        try requireRoot()
        if let reason = OVSAFXDPDUT.unavailableReason() {
            // CI's machine has Open vSwitch; elsewhere, say why and skip.
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("\(reason)") }
            return
        }
        let dut = OVSAFXDPDUT()
        try expectExactCount(dut)
        #expect(dut.daemonPIDs.count == 2)
        for pid in dut.daemonPIDs { #expect(!Self.alive(pid), "OVS daemon \(pid) still running after close") }
    }

    /// Open vSwitch that cannot open its AF_XDP ports (native XDP on a veth refuses a
    /// 9000-byte MTU) fails the set-up with a message that says why, and stops its daemons.
    @Test func ovsThatCannotRunSaysWhyAndLeavesNoProcess() throws {
        try requireRoot()
        guard OVSAFXDPDUT.unavailableReason() == nil else { return }
        let dut = OVSAFXDPDUT()
        #expect {
            _ = try TestBed(dut: dut, mtu: 9000)
        } throws: { error in
            let message = (error as? UserError)?.message ?? "\(error)"
            return message.contains("ovs-afxdp cannot run here") && message.contains("p-gen")
        }
        #expect(dut.daemonPIDs.count == 2)
        for pid in dut.daemonPIDs { #expect(!Self.alive(pid), "OVS daemon \(pid) still running after a failed set-up") }
    }
}
