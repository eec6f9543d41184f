/// Whether a DUT's rate is the DUT's or the generator's. The generator's ceiling is what it
/// achieves, at full speed, into the direct DUT (its own sink and nothing between) in the
/// same run, per frame size. A DUT whose rate comes within `margin` of it is
/// generator-bound: it forwarded about all the generator could send, so its figure (and
/// any ratio built on it) is the generator's limit, a lower bound for the DUT. A pure
/// function of the report, so that the rule is tested without root.
public struct GeneratorCeiling: Codable, Sendable, Equatable {
    /// Within 10 % of the ceiling is generator-bound.
    public static let margin = 0.10

    /// Where the ceiling comes from: "dut direct" (measured as a DUT of this run) or
    /// "measured apart" (a direct bed after the DUTs); nil: not known.
    public var source: String?
    /// The ceiling per frame size: rx rate (RFC 2544: forwarding rate at the maximum
    /// offered load) of the direct DUT's trials.
    public var points: [Point]
    /// Every other DUT and frame size against it.
    public var verdicts: [Verdict]
    /// Why the ceiling is unknown, when it is.
    public var note: String?

    public struct Point: Codable, Sendable, Equatable {
        public var frameSize: Int
        public var pps: Spread

        enum CodingKeys: String, CodingKey {
            case pps
            case frameSize = "frame_size"
        }
    }

    public struct Verdict: Codable, Sendable, Equatable {
        public var dut: String
        public var frameSize: Int
        /// The DUT's median rate, measured as the ceiling is.
        public var pps: Double
        public var ceilingPPS: Double?
        /// pps ÷ ceiling.
        public var fractionOfCeiling: Double?
        /// nil: the ceiling is unknown.
        public var generatorBound: Bool?

        enum CodingKeys: String, CodingKey {
            case dut, pps
            case frameSize = "frame_size", ceilingPPS = "ceiling_pps", fractionOfCeiling = "fraction_of_ceiling"
            case generatorBound = "generator_bound"
        }
    }

    enum CodingKeys: String, CodingKey {
        case source, points, verdicts, note
    }

    /// The rule: a rate at or above 90 % of the ceiling is the generator's.
    public static func isGeneratorBound(pps: Double, ceiling: Double) -> Bool {
        ceiling > 0 && pps >= ceiling * (1 - margin)
    }

    /// The DUT the ceiling is measured on.
    public static let ceilingDUT = "direct"

    /// The rate the rule looks at, per frame size: the median rx rate without a tracer,
    /// or with RFC 2544 the forwarding rate at the maximum offered load.
    static func rates(of dut: BenchReport.DUTReport) -> [Int: Spread] {
        var rates: [Int: Spread] = [:]
        for m in dut.measurements where m.tracer == .none { rates[m.frameSize] = m.rxPPS }
        for r in dut.rfc2544 { rates[r.frameSize] = r.forwardingPPS }
        return rates
    }

    /// From the run's DUTs: the direct DUT's rates are the ceiling; without one,
    /// `measured` (a direct bed measured apart), or unknown with `unknownBecause`.
    public static func make(_ duts: [BenchReport.DUTReport], measured: [Int: Spread]? = nil,
                            unknownBecause: String? = nil) -> GeneratorCeiling {
        let direct = duts.first { $0.name == ceilingDUT && $0.error == nil }
        var ceiling = GeneratorCeiling(source: nil, points: [], verdicts: [], note: nil)
        var points: [Int: Spread] = [:]
        if let direct {
            points = rates(of: direct)
            ceiling.source = "dut direct"
        } else if let measured {
            points = measured
            ceiling.source = "measured apart"
        }
        if points.isEmpty {
            ceiling.source = nil
            ceiling.note = unknownBecause ?? "not measured: add --dut direct to measure it in the same run"
        }
        ceiling.points = points.keys.sorted().map { Point(frameSize: $0, pps: points[$0]!) }
        for dut in duts where dut.error == nil && dut.name != ceilingDUT {
            for (size, rate) in rates(of: dut).sorted(by: { $0.key < $1.key }) {
                let top = points[size]?.median
                ceiling.verdicts.append(Verdict(
                    dut: dut.name, frameSize: size, pps: rate.median, ceilingPPS: top,
                    fractionOfCeiling: top.flatMap { $0 > 0 ? rate.median / $0 : nil },
                    generatorBound: top.map { isGeneratorBound(pps: rate.median, ceiling: $0) }))
            }
        }
        return ceiling
    }

    /// The verdict for one DUT and frame size.
    public func verdict(dut: String, frameSize: Int) -> Verdict? {
        verdicts.first { $0.dut == dut && $0.frameSize == frameSize }
    }
}
