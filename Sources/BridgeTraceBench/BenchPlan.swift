import BridgeTraceCore

/// What one `bridgetrace bench` run measures: the CLI's options, validated.
public struct BenchPlan: Sendable {
    public var duts: [DUTSelection]
    public var frameSizes: [Int]
    public var flows: Int = 1
    public var vlan: UInt16?
    /// nil: as fast as the generator goes.
    public var ratePPS: Double?
    /// Exactly this many frames per trial instead of `duration`.
    public var count: UInt64?
    public var duration: Double
    /// Trials (rounds, with tracers) per measurement; repetitions in RFC 2544 mode.
    public var trials: Int
    public var tracers: [TracerMode] = [.none]
    public var rfc2544: RFC2544Settings?
    public var generator: GeneratorChoice = .auto
    public var batch: Int?
    /// nil: `own` for RFC 2544 (its searches need a DUT that can drop), else `shared`.
    public var dutCPU: DUTPlacement?
    /// Where the tracers under test count rx.
    public var tracerRxHook: RxHookPolicy = .auto
    public var compareWithTrafgen = false
    /// How a fixed rate is held (`--pacing`).
    public var pacing: GeneratorPacing = .spin
    /// `--hold-file`: hand the built DUT to a script before the first trial and after the
    /// last (see `BenchHold`).
    public var holdFile: String?

    public init(duts: [DUTSelection], frameSizes: [Int], duration: Double, trials: Int) {
        self.duts = duts
        self.frameSizes = frameSizes
        self.duration = duration
        self.trials = trials
    }

    public var placement: DUTPlacement { dutCPU ?? (rfc2544 != nil ? .own : .shared) }

    /// Links need jumbo frames when any frame is larger than Ethernet's 1518 bytes.
    public var mtu: Int { frameSizes.contains { $0 > FrameTemplate.standardMaximum } ? 9000 : 1500 }

    public func validate() throws {
        guard !duts.isEmpty else { throw UserError("name at least one --dut") }
        guard !frameSizes.isEmpty else { throw UserError("name at least one --frame-size") }
        for size in frameSizes { try FrameTemplate.validate(size: size) }
        guard (1...65535).contains(flows) else { throw UserError("--flows must be 1 to 65535, not \(flows)") }
        if let ratePPS, !(ratePPS >= 1) { throw UserError("--rate must be at least 1 pps, or max") }
        guard duration > 0 else { throw UserError("--duration must be a positive number of seconds") }
        guard trials >= 1 else { throw UserError("--trials must be at least 1") }
        if let batch, !(1...256).contains(batch) { throw UserError("--batch must be 1 to 256 (the kernel's limit)") }
        if pacing == .sleep && ratePPS == nil { throw UserError("--pacing sleep needs a --rate in frames per second, not max") }
        if pacing == .sleep && rfc2544 != nil {
            throw UserError("--pacing sleep and --rfc2544 do not go together: its searches and latency need evenly spaced frames (--pacing spin)")
        }
        if rfc2544 != nil && count != nil { throw UserError("--count and --rfc2544 do not go together: RFC 2544 chooses its own trials") }
        if rfc2544 != nil && tracers != [.none] {
            throw UserError("--rfc2544 and --with-tracer do not go together: measure tracer overhead at full rate, without --rfc2544")
        }
        if tracers.count > 1 && !tracers.contains(.none) {
            throw UserError("--with-tracer: include none, the reference the others are compared with")
        }
    }
}

/// A DUT as the CLI names it, with its variant.
public enum DUTSelection: Sendable, Equatable {
    case linuxBridge(netfilter: Bool)
    case direct
    case afxdpSwitch(fastPath: Bool)
    case ovsAFXDP

    public func make() -> DeviceUnderTest {
        switch self {
        case .linuxBridge(let netfilter): return LinuxBridgeDUT(netfilter: netfilter)
        case .direct: return DirectDUT()
        case .afxdpSwitch(let fastPath): return AFXDPSwitchDUT(fastPath: fastPath)
        case .ovsAFXDP: return OVSAFXDPDUT()
        }
    }

    /// The DUT every other is compared with (ratios, the latency load): the Linux bridge
    /// with netfilter off, else with it on, else the first DUT named.
    public static func reference(in selections: [DUTSelection]) -> Int? {
        selections.firstIndex(of: .linuxBridge(netfilter: false))
            ?? selections.firstIndex(of: .linuxBridge(netfilter: true))
            ?? (selections.isEmpty ? nil : 0)
    }
}
