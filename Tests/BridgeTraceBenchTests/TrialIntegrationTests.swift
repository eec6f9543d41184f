import BridgeTraceCore
import BridgeTraceLab
import BridgeTraceProcess
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

extension TrialIntegrationTests {
    /// nft drops every tenth bridged frame (`numgen inc mod 10 == 0`): the sink must
    /// report 10% loss.
    @Test func reportsLossOfOneFrameInTen() throws {
        try requireRoot()
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: false), configure: { wiring, network in
            let ns = try #require(wiring.bridge).namespace
            try network.exec(ns, ["nft", "add", "table", "bridge", "btbench"])
            try network.exec(ns, ["nft", "add", "chain", "bridge", "btbench", "forward",
                                  "{ type filter hook forward priority 0; }"])
            try network.exec(ns, ["nft", "add", "rule", "bridge", "btbench", "forward",
                                  "numgen", "inc", "mod", "10", "==", "0", "drop"])
        })
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 64, ratePPS: 50_000, count: 20_000, duration: 0.4))
        #expect(result.sent == 20_000)
        #expect(abs(result.lossRatio - 0.10) <= 0.01, "loss \(String(result.lossRatio))")
        // What arrived still arrived in order.
        #expect(result.reordered == 0)
    }

    /// A tbf qdisc on the bridge's port towards the sink, rate-limited below the offered
    /// rate, queues frames: latency must rise far above the unshaped run's.
    @Test func queueingDelayShowsInLatency() throws {
        try requireRoot()
        // The DUT on its own CPU: on the generator's, tbf's dequeue work slows the generator
        // towards tbf's own rate on some runs, and then little queues.
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: false), placement: .own)
        defer { bed.close() }
        let spec = TrialSpec(frameSize: 64, ratePPS: 100_000, duration: 0.5)
        let unshaped = try bed.run(spec)
        let port = try #require(bed.wiring.sinkFacingPort)
        // 60-byte frames at 20 Mbit/s: ~42k frames/s, well under the 100k offered.
        try bed.network.exec(port.namespace, ["tc", "qdisc", "add", "dev", port.interface, "root", "tbf",
                                              "rate", "20mbit", "burst", "4kb", "latency", "20ms"])
        let shaped = try bed.run(spec)
        let plain = try #require(unshaped.latency)
        let queued = try #require(shaped.latency)
        for latency in [plain, queued] {
            #expect(latency.minNs <= latency.p50Ns)
            #expect(latency.p50Ns <= latency.p99Ns)
            #expect(latency.p99Ns <= latency.maxNs)
        }
        #expect(queued.p50Ns > 10 * plain.p50Ns, "p50 \(plain.p50Ns) ns unshaped, \(queued.p50Ns) ns through tbf")
        #expect(queued.p50Ns > 1_000_000, "a 20 ms tbf queue should hold frames for milliseconds")
        // What tbf lets through is its rate (60-byte frames at 20 Mbit/s: 41.7 k/s) plus the
        // queue and burst it holds (about 55 kB, under 1000 frames). The loss itself depends on
        // how fast the generator really sent on this machine, so it is checked against that
        // (the margin covers the receive window outlasting the send window).
        let shapedCapacity = 41_667 * max(shaped.activeSeconds, shaped.wallSeconds) + 1_000
        #expect(Double(shaped.received) <= shapedCapacity * 1.25,
                "\(shaped.received) frames through a 20 Mbit/s tbf in \(shaped.activeSeconds) s")
        if Double(shaped.sent) > 1.2 * shapedCapacity {
            #expect(shaped.lost > 0, "tbf should drop what exceeds its rate and queue")
        }
    }
}

extension TrialIntegrationTests {
    /// 802.1Q-tagged frames from 64 flows (source MAC, IP, port) through a bridge with
    /// br_netfilter on, which drops IPv4 frames with a bad header checksum: the per-flow
    /// checksum update must be right, and the tag must survive the bridge.
    @Test func taggedFramesFromManyFlowsArriveIntact() throws {
        try requireRoot()
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: true), flows: 64, vlan: 100)
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 128, ratePPS: 20_000, count: 5_000, duration: 0.25))
        #expect(result.received == 5_000)
        #expect(result.lost == 0)
    }

    /// Jumbo frames fit neither a live XDP frame nor an AF_XDP UMEM frame: the bed falls
    /// back to AF_PACKET, says so, and the frames still arrive, exactly.
    @Test func jumboFramesFallBackToPacketSocket() throws {
        try requireRoot()
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: false), mtu: 9000)
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 9000, ratePPS: 5_000, count: 2_000, duration: 0.4))
        #expect(result.generator == .afPacket)
        #expect(bed.notes.contains { $0.contains("AF_PACKET") })
        #expect(result.received == 2_000)
        #expect(result.lost == 0)
    }
}

extension TrialIntegrationTests {
    /// Sleep pacing sends bursts from a generator that sleeps in between: still exactly
    /// the count asked for, all of it forwarded (the shared CPU makes it a closed loop),
    /// in order. With live frames, the generator's program sits on its down veth, holding
    /// it in the XDP dispatcher.
    @Test func sleepPacedExactCountThroughLinuxBridge() throws {
        try requireRoot()
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: false))
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 64, ratePPS: 50_000, count: 10_000, duration: 0.5, pacing: .sleep))
        #expect(result.sent == 10_000)
        #expect(result.received == 10_000)
        #expect(result.lost == 0)
        #expect(result.reordered == 0)
        #expect(result.batch == 64)
        #expect(result.generator == bed.generatorSelection.kind)
        if result.generator == .xdpLiveFrames {
            let hold = try bed.network.exec(bed.wiring.generator.namespace, ["ip", "-d", "link", "show", LiveFrameGenerator.holdInterface])
            #expect(hold.contains("prog/xdp"), "\(hold)")
            #expect(hold.contains("state DOWN"), "\(hold)")
        }
    }

    /// `--hold-file`: the bench stops before its first trial and after its last, with the
    /// DUT's namespace and bridge in the file, until the file is deleted; the trial in
    /// between sends exactly its count.
    @Test func holdFileHandsTheDUTOverBeforeAndAfterTheTrials() throws {
        try requireRoot()
        let trial = try HeldRun.run(generator: .auto)
        #expect(trial.sent == 5_000)
        #expect(trial.received == 5_000)
    }
}

extension TrialIntegrationTests {
    /// `--with-tracer all` runs every mode one after the other on one bed, each attached for
    /// its trial only, and twice over: a tracer must be fully gone (its namespace lock too)
    /// when the next attaches, and each must see exactly the trial's frames.
    @Test func everyTracerModeBackToBackSeesExactlyTheTrialsFrames() throws {
        try requireRoot()
        let bed = try TestBed(dut: LinuxBridgeDUT(netfilter: false))
        defer { bed.close() }
        let frames: UInt64 = 5_000
        for mode in TracerMode.allCases + TracerMode.allCases {
            let (result, evidence) = try bed.runWithEvidence(
                TrialSpec(frameSize: 64, ratePPS: 20_000, count: frames, duration: 0.25), tracer: mode)
            #expect(result.received == frames, "\(mode.rawValue)")
            switch mode {
            case .counters:
                #expect(evidence.contains("p-gen: rx \(frames) tx 0") && evidence.contains("p-sink: rx 0 tx \(frames)"), "\(evidence)")
            case .full:
                #expect(evidence.contains("p-gen: rx \(frames) tx 0") && evidence.contains("p-sink: rx 0 tx \(frames)"), "\(evidence)")
                #expect(evidence.contains("\(2 * frames) events rendered, 0 lost"), "\(evidence)")
            case .floor:
                #expect(evidence.hasPrefix("empty programs on p-gen"), "\(evidence)")
            case .tcpdump:
                #expect(evidence.contains("p-gen: ") && evidence.contains("p-sink: "), "\(evidence)")
            case .none:
                #expect(evidence.isEmpty)
            }
        }
    }
}
