import BridgeTraceLab
import Foundation
import Testing

@testable import BridgeTraceBench

/// End to end through real namespaces, veths, the kernel bridge and the BPF generator and
/// sink. Short trials: these check correctness, not speed. Serialized: they share the CPU
/// and their timing matters.
@Suite(.serialized) struct TrialIntegrationTests {
    @Test func exactCountThroughLinuxBridge() throws {
        try requireRoot()
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: false))
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 64, ratePPS: 20_000, count: 10_000, duration: 0.5))
        #expect(result.sent == 10_000)
        #expect(result.received == 10_000)
        #expect(result.lost == 0)
        #expect(result.reordered == 0)
        // The rate was set, and held.
        #expect(abs(result.txPPS - 20_000) / 20_000 < 0.05, "achieved \(result.txPPS) pps")
    }
}
