import BridgeTraceCore
import CBridgeTraceShim
import Foundation

/// What one trial sends.
public struct TrialSpec: Sendable {
    public var frameSize: Int
    /// nil: as fast as the generator goes.
    public var ratePPS: Double?
    /// Exactly this many frames; nil: for `duration` seconds.
    public var count: UInt64?
    public var duration: Double
    /// Live-frames batch; nil: chosen from the rate.
    public var batch: Int?
    /// How a fixed rate is held.
    public var pacing: GeneratorPacing
    /// Pin the generator to this CPU; nil: the bed's placement decides.
    public var generatorCPU: Int32?

    public init(frameSize: Int, ratePPS: Double? = nil, count: UInt64? = nil, duration: Double, batch: Int? = nil,
                pacing: GeneratorPacing = .spin, generatorCPU: Int32? = nil) {
        self.frameSize = frameSize
        self.ratePPS = ratePPS
        self.count = count
        self.duration = duration
        self.batch = batch
        self.pacing = pacing
        self.generatorCPU = generatorCPU
    }
}

/// The operator stopped the run (SIGINT/SIGTERM); everything is torn down on the way out.
public struct BenchInterrupted: Error, CustomStringConvertible {
    public var description: String { "interrupted" }
}

/// One DUT, built in its namespaces, with the generator on one side and the sink on the
/// other: runs trials. `close()` (also called on deinit) detaches the sink and deletes
/// the namespaces; a failure while building cleans up before it throws.
public final class TestBed {
    public let dut: DeviceUnderTest
    public let wiring: DUTWiring
    public private(set) var notes: [String]
    let network: BenchNetwork
    let flows: Int
    let vlan: UInt16?
    /// What this kernel lets the bench send with (probed once per process).
    public let generatorSelection: GeneratorSelection
    public let placement: DUTPlacement
    /// Where the tracer under test counts rx (`--tracer-rx-hook`): as the operator would run it.
    public var tracerRxHook: RxHookPolicy = .auto
    private let sink: LatencySink
    /// One generator of each kind used, made on first use.
    private var instances: [GeneratorKind: TrafficGenerator] = [:]
    /// Generator chosen per frame size (jumbo frames fit neither a live frame nor a UMEM frame).
    private var generators: [Int: TrafficGenerator] = [:]
    private var trialID: UInt16 = 0
    private let shouldStop: () -> Bool
    private var checkedSizes: Set<Int> = []
    /// The generator runs on `NAPIThreads.generatorCPU` (always with `own`; with `shared`
    /// when the DUT's threads were pinned there).
    private var pinsGenerator = false

    /// - Parameters:
    ///   - mtu: for every link; 1500, or 9000 when jumbo frames are measured.
    ///   - configure: called once the DUT is built, before anything is measured; tests
    ///     add their nft rule or tbf qdisc here.
    public init(dut: DeviceUnderTest, mtu: Int = 1500, flows: Int = 1, vlan: UInt16? = nil,
                generator: GeneratorChoice = .auto, placement: DUTPlacement = .shared,
                shouldStop: @escaping () -> Bool = { false },
                configure: ((DUTWiring, BenchNetwork) throws -> Void)? = nil) throws {
        guard (1...65535).contains(flows) else { throw UserError("--flows must be 1 to 65535, not \(flows)") }
        self.dut = dut
        self.flows = flows
        self.vlan = vlan
        self.placement = placement
        self.shouldStop = shouldStop
        BenchNetwork.removeStale()
        generatorSelection = try GeneratorSelection.probe(generator)
        let network = BenchNetwork()
        self.network = network
        do {
            wiring = try dut.setUp(in: network, links: LinkSettings(mtu: mtu, vlan: vlan))
            notes = wiring.notes
            try Self.deliverToNAPI(wiring.generator, network: network)
            try configure?(wiring, network)
            sink = try LatencySink(interface: wiring.sink.interface, namespace: wiring.sink.namespace)
            // After the sink: in the direct DUT the receive port is the sink's, whose NAPI
            // comes to life with its XDP program.
            if placement == .own { notes.append(try NAPIThreads.place(wiring.receivePort, network: network)) }
            // A DUT with threads of its own gets the same CPU as the kernel's work: the
            // DUT's with `own`; the generator's with `shared`, so the generator is pinned
            // there too, or the scheduler would hand the DUT a second CPU.
            let cpu = placement == .own ? NAPIThreads.dutCPU : NAPIThreads.generatorCPU
            if let note = try dut.pin(to: cpu, network: network) {
                notes.append(note)
                pinsGenerator = true
            }
        } catch {
            _ = dut.tearDown()
            network.tearDown()
            throw error
        }
    }

    public func close() {
        sink.detach()
        generators = [:]
        instances = [:]
        notes += dut.tearDown()
        let left = network.tearDown()
        if !left.isEmpty { notes.append("could not delete netns \(left.joined(separator: ", ")): run `ip netns del NAME`") }
    }

    deinit { close() }

    func template(size: Int) throws -> FrameTemplate {
        try FrameTemplate(size: size, vlan: vlan, sourceMAC: LinkSettings.generatorMACBytes,
                          destinationMAC: LinkSettings.sinkMACBytes)
    }

    /// An skb sent into a veth goes to the peer's NAPI poll (the DUT's receive queue,
    /// which `--dut-cpu own` puts on a CPU of its own) only when the sending veth has no
    /// TSO; otherwise the peer hands it to the stack on the sender's CPU, and a DUT on
    /// its own CPU would run on the generator's. Live frames always take the NAPI path;
    /// the socket generators and trafgen take it with TSO off.
    static func deliverToNAPI(_ port: Endpoint, network: BenchNetwork) throws {
        let result = try network.runner.result(["ip", "netns", "exec", port.namespace, "ethtool", "-K", port.interface, "tso", "off"])
        guard result.succeeded else {
            throw UserError("cannot turn TSO off on the generator's port \(port.interface) (`ethtool -K \(port.interface) tso off`: "
                + "\(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); install ethtool (apt-get install ethtool)")
        }
    }

    /// The generator for frames of `size`: the selection's, or for a size it cannot take,
    /// the next kind that works (with `--generator auto`), with a note.
    func generator(size: Int) throws -> TrafficGenerator {
        if let known = generators[size] { return known }
        let template = try template(size: size)
        var refusals: [String] = []
        for kind in generatorSelection.usable {
            do {
                let generator = try instance(kind)
                try generator.check(template)
                if !refusals.isEmpty {
                    notes.append("\(size)-byte frames: \(refusals.joined(separator: "; ")): sent with \(kind.label) instead")
                }
                generators[size] = generator
                return generator
            } catch let error as any OperatorError where generatorSelection.choice == .auto {
                refusals.append(error.message)
            } catch let error as any OperatorError {
                throw UserError("\(error.message); use --generator auto")
            }
        }
        throw UserError("no generator here can send \(size)-byte frames: \(refusals.joined(separator: "; "))")
    }

    private func instance(_ kind: GeneratorKind) throws -> TrafficGenerator {
        if let made = instances[kind] { return made }
        let (interface, namespace) = (wiring.generator.interface, wiring.generator.namespace)
        let made: TrafficGenerator
        switch kind {
        case .xdpLiveFrames: made = try LiveFrameGenerator(interface: interface, namespace: namespace, network: network)
        case .afXDP: made = try AFXDPGenerator(interface: interface, namespace: namespace)
        case .afPacket: made = try PacketSocketGenerator(interface: interface, namespace: namespace)
        }
        instances[kind] = made
        return made
    }

    /// Checks that frames get through at all before measuring anything (and lets the
    /// bridge learn the generator's MACs): a DUT that forwards nothing is a setup fault,
    /// not a result.
    func checkPath(size: Int) throws {
        guard !checkedSizes.contains(size) else { return }
        let probe = try trial(TrialSpec(frameSize: size, count: UInt64(max(1000, flows * 2)), duration: 2), tracer: .none)
        if probe.received == 0 {
            throw UserError("no frame reached the sink through \(dut.name) (\(probe.sent) sent, \(probe.stale) stale): "
                + "check that the generator's peer has NAPI (GRO or an XDP program) and that the DUT forwards to the sink")
        }
        checkedSizes.insert(size)
    }

    /// One measured trial. `progress` gets the fraction of the trial done.
    public func run(_ spec: TrialSpec, tracer mode: TracerMode = .none,
                    progress: @escaping (Double) -> Void = { _ in }) throws -> TrialResult {
        try runWithEvidence(spec, tracer: mode, progress: progress).0
    }

    /// A trial, and what the tracer reported seeing during it.
    func runWithEvidence(_ spec: TrialSpec, tracer mode: TracerMode,
                         progress: @escaping (Double) -> Void = { _ in }) throws -> (TrialResult, String) {
        try checkPath(size: spec.frameSize)
        let tracer = try TracerAttachment(mode: mode, wiring: wiring, rxHook: tracerRxHook)
        defer { tracer.detach() }
        let result = try trial(spec, tracer: mode, progress: progress)
        return (result, tracer.detach())
    }

    private func trial(_ spec: TrialSpec, tracer: TracerMode, progress: @escaping (Double) -> Void = { _ in }) throws -> TrialResult {
        if shouldStop() { throw BenchInterrupted() }
        let template = try template(size: spec.frameSize)
        let generator = try generator(size: spec.frameSize)
        trialID = trialID == UInt16.max ? 1 : trialID + 1
        try sink.begin(trial: trialID)
        let job = GeneratorJob(template: template, trial: trialID, flows: flows, ratePPS: spec.ratePPS,
                               count: spec.count, duration: spec.duration, batch: spec.batch,
                               cpu: spec.generatorCPU ?? (placement == .own || pinsGenerator ? NAPIThreads.generatorCPU : nil),
                               pacing: spec.pacing)
        let start = bt_bench_now_ns()
        let stop = shouldStop
        let outcome = try generator.run(job) { sent in
            if let count = spec.count, count > 0 {
                progress(Double(sent) / Double(count))
            } else {
                progress(Double(bt_bench_now_ns() - start) / 1e9 / max(spec.duration, 0.001))
            }
            return !stop()
        }
        if shouldStop() { throw BenchInterrupted() }
        let reading = try settle(expecting: outcome.sent)
        return TrialResult(spec: spec, dut: dut.name, tracer: tracer, generator: generator.kind,
                           outcome: outcome, reading: reading)
    }

    /// Starts a trial that something other than our generator sends (trafgen): returns
    /// the trial id its frames must carry.
    func beginExternalTrial() throws -> UInt16 {
        trialID = trialID == UInt16.max ? 1 : trialID + 1
        try sink.begin(trial: trialID)
        return trialID
    }

    /// Frames of the current trial at the sink so far.
    func sinkFrames() throws -> UInt64 {
        try sink.frames()
    }

    /// Waits until the frames in flight have arrived: the sink count reaches what was
    /// sent, or stops moving for 50 ms (the rest were lost), or 5 s pass (a deep queue).
    private func settle(expecting sent: UInt64) throws -> SinkReading {
        var last = try sink.frames()
        var quietSince = Date()
        let deadline = Date().addingTimeInterval(5)
        while last < sent && Date() < deadline {
            usleep(10_000)
            let now = try sink.frames()
            if now != last {
                last = now
                quietSince = Date()
            } else if Date().timeIntervalSince(quietSince) > 0.05 {
                break
            }
        }
        return try sink.read()
    }
}

extension TrialResult {
    init(spec: TrialSpec, dut: String, tracer: TracerMode, generator: GeneratorKind, outcome: GeneratorOutcome,
         reading: SinkReading) {
        let active = Double(outcome.activeNs) / 1e9
        let lost = Int64(outcome.sent) - Int64(reading.frames)
        self.init(
            dut: dut, frameSize: spec.frameSize, tracer: tracer, generator: generator, batch: outcome.batch,
            targetPPS: spec.ratePPS, sent: outcome.sent, received: reading.frames, lost: lost,
            lossRatio: outcome.sent > 0 ? Double(lost) / Double(outcome.sent) : 0,
            reordered: reading.reordered, stale: reading.stale,
            txPPS: outcome.ratePPS, rxPPS: active > 0 ? Double(reading.frames) / active : 0,
            rxGbps: active > 0 ? Double(reading.frames) * Double(spec.frameSize) * 8 / active / 1e9 : 0,
            activeSeconds: active, wallSeconds: Double(outcome.wallNs) / 1e9, latency: reading.latency)
    }
}
