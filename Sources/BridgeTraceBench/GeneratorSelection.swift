import BridgeTraceCore
import BridgeTraceKernel
import Foundation

/// Which generator to use (`--generator`).
public enum GeneratorChoice: String, CaseIterable, Codable, Sendable {
    /// The fastest kind the kernel allows; a frame size it cannot take goes to the next.
    case auto
    /// Live XDP frames only.
    case xdp
    case afXDP = "af-xdp"
    case afPacket = "af-packet"

    /// The kinds this choice may use, fastest first.
    var kinds: [GeneratorKind] {
        switch self {
        case .auto: return GeneratorKind.allCases
        case .xdp: return [.xdpLiveFrames]
        case .afXDP: return [.afXDP]
        case .afPacket: return [.afPacket]
        }
    }
}

/// What the bench sends with, decided once per process, before the first DUT is built:
/// each kind `--generator` allows is tried on a veth pair in a namespace of its own (the
/// live-frames program loaded and test-run, a frame sent through an AF_XDP socket and an
/// AF_PACKET one), never guessed from the kernel's version. The first that works, in
/// `GeneratorKind`'s fastest-first order, is used; a frame size it cannot take (jumbo
/// frames) goes to the next that works, with a note (`TestBed.generator(size:)`).
public struct GeneratorSelection: Codable, Sendable, Equatable {
    public struct Attempt: Codable, Sendable, Equatable {
        public var kind: GeneratorKind
        /// Why the kernel or the machine refused it; nil: it works.
        public var refusal: String?
    }

    public var choice: GeneratorChoice
    /// What standard frames are sent with.
    public var kind: GeneratorKind
    /// Why this one: what faster kind was refused, or that it was asked for.
    public var reason: String
    /// Each kind tried, in order.
    public var attempts: [Attempt]

    /// Whether a faster kind than the one used was refused.
    public var degraded: Bool { choice == .auto && kind != GeneratorKind.allCases[0] }

    /// The kinds that work, fastest first.
    public var usable: [GeneratorKind] { attempts.filter { $0.refusal == nil }.map(\.kind) }

    /// The one line the bench prints: "generator: af-xdp (live XDP frames refused by this kernel: ...)".
    public var line: String { "generator: \(kind.rawValue) (\(reason))" }

    /// From the attempts, in order: the first that works, and why.
    init(choice: GeneratorChoice, attempts: [Attempt]) throws {
        self.choice = choice
        self.attempts = attempts
        let refused = attempts.compactMap { attempt in attempt.refusal.map { "\(attempt.kind.label) \($0)" } }
        guard let first = attempts.first(where: { $0.refusal == nil }) else {
            if choice == .auto { throw UserError("no traffic generator works here: \(refused.joined(separator: "; "))") }
            throw UserError("--generator \(choice.rawValue): \(refused.joined(separator: "; ")); use --generator auto")
        }
        kind = first.kind
        let faster = attempts.prefix { $0.kind != first.kind }.compactMap { attempt in attempt.refusal.map { "\(attempt.kind.label) \($0)" } }
        if choice != .auto {
            reason = "chosen with --generator \(choice.rawValue)"
        } else if faster.isEmpty {
            reason = "the fastest kind, allowed by this kernel"
        } else {
            reason = faster.joined(separator: "; ")
        }
    }

    nonisolated(unsafe) private static var probed: [GeneratorChoice: GeneratorSelection] = [:]
    private static let lock = NSLock()

    /// The selection for `choice`, probed on first use in this process.
    public static func probe(_ choice: GeneratorChoice) throws -> GeneratorSelection {
        try lock.withLock {
            if let known = probed[choice] { return known }
            let selection = try GeneratorSelection(choice: choice, attempts: try attempts(choice.kinds))
            probed[choice] = selection
            return selection
        }
    }

    /// Tries each kind on `probe0` of a veth pair in a namespace of its own, deleted after.
    private static func attempts(_ kinds: [GeneratorKind]) throws -> [Attempt] {
        let network = BenchNetwork.forProbe()
        defer { network.tearDown() }
        let namespace = try network.addNamespace("probe")
        try network.ip("-n", namespace, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1")
        try network.ip("-n", namespace, "link", "set", "probe0", "up")
        try network.ip("-n", namespace, "link", "set", "probe1", "up")
        let template = try FrameTemplate(size: FrameTemplate.minimumSize, sourceMAC: LinkSettings.generatorMACBytes,
                                         destinationMAC: LinkSettings.sinkMACBytes)
        return kinds.map { kind in
            // BRIDGETRACE_WITHOUT=xdp_live_frames runs the fallback where live frames work.
            if kind == .xdpLiveFrames && KernelProbe.turnedOff.contains(KernelFeature.xdpLiveFrames.rawValue) {
                return Attempt(kind: kind, refusal: "turned off by BRIDGETRACE_WITHOUT")
            }
            do {
                try attempt(kind, interface: "probe0", namespace: namespace, network: network, template: template)
                return Attempt(kind: kind, refusal: nil)
            } catch let error as SystemError {
                return Attempt(kind: kind, refusal: "refused by this kernel: \(SystemError.describe(error.errno))")
            } catch let error as any OperatorError {
                return Attempt(kind: kind, refusal: "unavailable: \(error.message)")
            } catch {
                return Attempt(kind: kind, refusal: "unavailable: \(error)")
            }
        }
    }

    /// Live frames: the program loads and a test run with a zero limit goes through. The
    /// sockets: one frame sent.
    private static func attempt(_ kind: GeneratorKind, interface: String, namespace: String, network: BenchNetwork,
                                template: FrameTemplate) throws {
        let generator: TrafficGenerator
        switch kind {
        case .xdpLiveFrames:
            let live = try LiveFrameGenerator(interface: interface, namespace: namespace, network: network)
            try live.check(template)
            return
        case .afXDP: generator = try AFXDPGenerator(interface: interface, namespace: namespace)
        case .afPacket: generator = try PacketSocketGenerator(interface: interface, namespace: namespace)
        }
        let job = GeneratorJob(template: template, trial: 0, flows: 1, ratePPS: nil, count: 1, duration: 1)
        let outcome = try generator.run(job) { _ in true }
        guard outcome.sent == 1 else { throw UserError("a test frame was not sent (\(outcome.sent) of 1)") }
    }
}
