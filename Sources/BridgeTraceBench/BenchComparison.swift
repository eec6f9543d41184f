/// Every DUT of a run against its reference (the Linux bridge with netfilter off, when
/// it is in the run): the ratios a claim like "3x the Linux bridge" is made of. Medians
/// of the same run, so the machine's state is the same for all. A pure function of the
/// report, so that it is tested without root.
public struct BenchComparison: Codable, Sendable, Equatable {
    public var reference: String
    public var rows: [Row]

    public struct Row: Codable, Sendable, Equatable {
        public var dut: String
        public var frameSize: Int
        /// Plain trials without a tracer: receive rate and its ratio to the reference's.
        public var rxPPS: Double?
        public var rxRatio: Double?
        /// RFC 2544: what arrived at the maximum offered load, and the NDR.
        public var forwardingPPS: Double?
        public var forwardingRatio: Double?
        public var ndrPPS: Double?
        public var ndrRatio: Double?
        /// RFC 2544: latency at the same rate for every DUT (a fraction of the reference's
        /// NDR). A ratio below 1 is better than the reference.
        public var latencyLoad: String?
        public var latencyLoadPPS: Double?
        public var p99Ns: Double?
        public var p99Ratio: Double?
        /// Loss in those latency trials: a DUT slower than the load loses frames, and its
        /// latency is then that of a full queue.
        public var latencyLossRatio: Double?
        /// Within 10 % of the generator's ceiling (`GeneratorCeiling`): the rate and its
        /// ratio are the generator's limit, not the DUT's. nil: unknown.
        public var generatorBound: Bool?

        enum CodingKeys: String, CodingKey {
            case dut
            case frameSize = "frame_size", rxPPS = "rx_pps", rxRatio = "rx_ratio"
            case forwardingPPS = "forwarding_pps", forwardingRatio = "forwarding_ratio"
            case ndrPPS = "ndr_pps", ndrRatio = "ndr_ratio", latencyLoad = "latency_load"
            case latencyLoadPPS = "latency_load_pps", p99Ns = "p99_ns", p99Ratio = "p99_ratio"
            case latencyLossRatio = "latency_loss_ratio", generatorBound = "generator_bound"
        }
    }

    /// nil when the reference was not measured. `ceiling` marks the generator-bound rows.
    public static func make(_ duts: [BenchReport.DUTReport], reference name: String,
                            ceiling: GeneratorCeiling? = nil) -> BenchComparison? {
        guard let reference = duts.first(where: { $0.name == name }), reference.error == nil else { return nil }
        func ratio(_ value: Double?, _ base: Double?) -> Double? {
            guard let value, let base, base > 0 else { return nil }
            return value / base
        }
        var rows: [Row] = []
        for dut in duts where dut.error == nil {
            let sizes = Set(dut.measurements.map(\.frameSize) + dut.rfc2544.map(\.frameSize)).sorted()
            for size in sizes {
                var row = Row(dut: dut.name, frameSize: size)
                row.generatorBound = ceiling?.verdict(dut: dut.name, frameSize: size)?.generatorBound
                let plain = { (d: BenchReport.DUTReport) in d.measurements.first { $0.frameSize == size && $0.tracer == .none } }
                row.rxPPS = plain(dut)?.rxPPS?.median
                row.rxRatio = ratio(row.rxPPS, plain(reference)?.rxPPS?.median)
                let rfc = { (d: BenchReport.DUTReport) in d.rfc2544.first { $0.frameSize == size } }
                if let mine = rfc(dut) {
                    let theirs = rfc(reference)
                    row.forwardingPPS = mine.forwardingPPS?.median
                    row.forwardingRatio = ratio(row.forwardingPPS, theirs?.forwardingPPS?.median)
                    row.ndrPPS = mine.throughput.ndrPPS?.median
                    row.ndrRatio = ratio(row.ndrPPS, theirs?.throughput.ndrPPS?.median)
                    if let point = mine.referenceLatency {
                        row.latencyLoad = point.label
                        row.latencyLoadPPS = point.targetPPS
                        row.p99Ns = point.p99Ns?.median
                        row.p99Ratio = ratio(row.p99Ns, theirs?.referenceLatency?.p99Ns?.median)
                        row.latencyLossRatio = point.lossRatio?.median
                    }
                }
                rows.append(row)
            }
        }
        return BenchComparison(reference: name, rows: rows)
    }
}

extension BenchComparison.Row {
    init(dut: String, frameSize: Int) {
        self.dut = dut
        self.frameSize = frameSize
    }
}
