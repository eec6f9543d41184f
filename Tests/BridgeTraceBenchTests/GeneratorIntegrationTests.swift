import BridgeTraceCore
import BridgeTraceLab
import Foundation
import Testing

@testable import BridgeTraceBench

/// The socket generators on their own, whatever the kernel would pick: AF_XDP (what the
/// bench falls back to where live frames are refused) and AF_PACKET (jumbo frames, and the
/// last resort), through real namespaces, veths and the kernel bridge, with exact counts.
/// Correctness only; their speed is in `bench --vs-trafgen` and Benchmarks/README.md.
@Suite(.serialized) struct GeneratorIntegrationTests {
    /// The probe tries every kind in order and says which one it uses and why.
    @Test func selectionNamesTheGeneratorAndWhatDegraded() throws {
        try requireRoot()
        let selection = try GeneratorSelection.probe(.auto)
        #expect(selection.attempts.map(\.kind) == GeneratorKind.allCases)
        #expect(selection.kind == selection.usable.first)
        #expect(selection.line.hasPrefix("generator: \(selection.kind.rawValue) ("), "\(selection.line)")
        if selection.kind != .xdpLiveFrames {
            #expect(selection.degraded)
            #expect(selection.reason.hasPrefix("live XDP frames "), "\(selection.reason)")
        }
        let forced = try GeneratorSelection.probe(.afPacket)
        #expect(forced.kind == .afPacket)
        #expect(forced.reason == "chosen with --generator af-packet")
        #expect(forced.attempts.map(\.kind) == [.afPacket])
    }

    /// A fixed count at a fixed rate through the bridge: every frame sent once, received,
    /// in order, at the rate asked for.
    @Test(arguments: [GeneratorChoice.afXDP, .afPacket])
    func exactCountThroughLinuxBridge(_ choice: GeneratorChoice) throws {
        try requireRoot()
        try requireGenerator(choice)
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: false), generator: choice)
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 64, ratePPS: 20_000, count: 10_000, duration: 0.5))
        #expect(result.generator.rawValue == choice.rawValue)
        #expect(result.sent == 10_000)
        #expect(result.received == 10_000)
        #expect(result.lost == 0)
        #expect(result.reordered == 0)
        #expect(result.stale == 0)
        #expect(abs(result.txPPS - 20_000) / 20_000 < 0.05, "achieved \(result.txPPS) pps")
    }

    /// As fast as it goes, a fixed count: the generator waits for its ring to drain, so a
    /// trial ends with every frame out (none left to arrive in the next trial as stale).
    @Test func fullSpeedFixedCountsBackToBack() throws {
        try requireRoot()
        try requireGenerator(.afXDP)
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: false), flows: 16, generator: .afXDP)
        defer { bed.close() }
        for _ in 0..<2 {
            let result = try bed.run(TrialSpec(frameSize: 64, count: 50_000, duration: 2))
            #expect(result.sent == 50_000)
            #expect(result.received == 50_000)
            #expect(result.stale == 0)
            #expect(result.reordered == 0)
        }
    }

    /// Sleep pacing: bursts of 64 on an absolute schedule, asleep in between, exactly the
    /// count asked for, all of it forwarded (the shared CPU makes it a closed loop).
    @Test(arguments: [GeneratorChoice.afXDP, .afPacket])
    func sleepPacedExactCount(_ choice: GeneratorChoice) throws {
        try requireRoot()
        try requireGenerator(choice)
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: false), generator: choice)
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 64, ratePPS: 50_000, count: 10_000, duration: 0.5, pacing: .sleep))
        #expect(result.generator.rawValue == choice.rawValue)
        #expect(result.sent == 10_000)
        #expect(result.received == 10_000)
        #expect(result.lost == 0)
        #expect(result.reordered == 0)
        #expect(result.batch == 64)
    }

    /// Tagged frames from many flows through br_netfilter, which drops IPv4 with a bad
    /// header checksum: the userspace per-flow rewrite keeps the checksum right.
    @Test func taggedFramesFromManyFlowsArriveIntact() throws {
        try requireRoot()
        try requireGenerator(.afXDP)
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: true), flows: 64, vlan: 100, generator: .afXDP)
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 128, ratePPS: 20_000, count: 5_000, duration: 0.25))
        #expect(result.received == 5_000)
        #expect(result.lost == 0)
    }

    /// Frames larger than a UMEM frame: with auto they fall to AF_PACKET, with a note;
    /// with af-xdp forced, one line says what to do.
    @Test func framesTooLargeForAFXDP() throws {
        try requireRoot()
        try requireGenerator(.afXDP)
        let forced = try TestBed(dut: DirectDUT(), mtu: 9000, generator: .afXDP)
        defer { forced.close() }
        #expect {
            try forced.run(TrialSpec(frameSize: 9000, count: 10, duration: 0.2))
        } throws: { error in
            let message = (error as? any OperatorError)?.message ?? ""
            return message.contains("UMEM frame") && message.contains("--generator auto")
        }
    }

    /// `--hold-file` with the AF_XDP generator and sleep pacing: handed over before and
    /// after, the trial in between exact.
    @Test func holdFileWithAFXDP() throws {
        try requireRoot()
        try requireGenerator(.afXDP)
        let trial = try HeldRun.run(generator: .afXDP)
        #expect(trial.generator == .afXDP)
        #expect(trial.sent == 5_000)
        #expect(trial.received == 5_000)
    }
}
