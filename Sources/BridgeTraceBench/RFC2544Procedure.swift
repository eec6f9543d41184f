import Foundation

/// The RFC 2544 procedures over any way of running a trial, so that the search logic is
/// tested against a model DUT without root, and runs on real ones unchanged.
public struct RFC2544Procedure {
    public typealias Measure = (TrialSpec) throws -> TrialResult

    let settings: RFC2544Settings
    let frameSize: Int
    let measure: Measure
    /// Called with a short label before each trial ("64 B NDR search 812 kpps").
    let announce: (String) -> Void
    /// Latency at a rate fixed by the run's reference DUT, so that every DUT is measured
    /// at the same absolute load; nil: no reference in this run.
    let reference: ReferenceLoad?

    /// "p99 at 50% of the Linux bridge's NDR": a fraction of the reference DUT's NDR, or
    /// of its PDR when noise left it no lossless rate (the label says which).
    public struct ReferenceLoad: Sendable {
        /// The reference DUT's name ("linux-bridge nf-off").
        public var dut: String
        public var fraction: Double
        /// The rate and label the reference was measured at; nil: this DUT is the
        /// reference, and its own NDR (or PDR) sets the rate.
        public var fixed: Fixed?

        public struct Fixed: Sendable {
            public var ratePPS: Double
            public var label: String

            public init(ratePPS: Double, label: String) {
                self.ratePPS = ratePPS
                self.label = label
            }
        }

        public init(dut: String, fraction: Double, fixed: Fixed? = nil) {
            self.dut = dut
            self.fraction = fraction
            self.fixed = fixed
        }

        func label(basis: String) -> String { "\(Int((fraction * 100).rounded()))% of \(dut) \(basis)" }
    }

    public init(settings: RFC2544Settings, frameSize: Int, reference: ReferenceLoad? = nil,
                announce: @escaping (String) -> Void = { _ in }, measure: @escaping Measure) {
        self.settings = settings
        self.frameSize = frameSize
        self.reference = reference
        self.measure = measure
        self.announce = announce
    }

    /// Trials this procedure runs, roughly, for progress estimates.
    public static func estimatedTrials(_ settings: RFC2544Settings) -> Int {
        settings.repetitions * (1 + 8 + 5 + settings.latencyLoads.count + 2 + 6 + 10)
    }

    public func run(dut: String) throws -> RFC2544Result {
        var maximums: [Double] = []
        var forwarding: [Double] = []
        var ndrs: [Double] = []
        var pdrs: [Double] = []
        var searches: [[RFC2544Result.SearchStep]] = []
        var generatorBound = true
        for repetition in 0..<settings.repetitions {
            let search = try throughput(repetition: repetition)
            maximums.append(search.maximum)
            forwarding.append(search.forwarding)
            ndrs.append(search.ndr)
            pdrs.append(search.pdr)
            searches.append(search.steps)
            generatorBound = generatorBound && search.lossless
        }
        let maximum = Spread(maximums)?.median ?? 0
        let ndr = Spread(ndrs)?.median ?? 0
        let throughput = RFC2544Result.Throughput(
            ndrPPS: Spread(ndrs), pdrPPS: Spread(pdrs), pdrLoss: settings.pdrLoss,
            ndrGbps: Spread(ndrs.map { $0 * Double(frameSize) * 8 / 1e9 }),
            limitedByGenerator: generatorBound, searches: searches)
        let latency = try self.latency(ndr: ndr)
        return RFC2544Result(
            dut: dut, frameSize: frameSize, maximumPPS: Spread(maximums), forwardingPPS: Spread(forwarding),
            throughput: throughput, latency: latency, referenceLatency: try referenceLatency(ndr: ndr, pdr: Spread(pdrs)?.median ?? 0, measured: latency),
            frameLoss: try frameLoss(maximum: maximum), backToBack: try backToBack(maximum: maximum))
    }

    struct Search {
        var maximum = 0.0
        /// What arrived per second at the maximum offered load.
        var forwarding = 0.0
        var ndr = 0.0
        var pdr = 0.0
        var lossless = false
        var steps: [RFC2544Result.SearchStep] = []
    }

    private func trial(_ goal: String, rate: Double?, count: UInt64? = nil, duration: Double? = nil,
                       passes: (TrialResult) -> Bool, into search: inout Search) throws -> TrialResult {
        let result = try measure(TrialSpec(frameSize: frameSize, ratePPS: rate, count: count,
                                           duration: duration ?? settings.trialDuration))
        search.steps.append(RFC2544Result.SearchStep(goal: goal, targetPPS: rate, txPPS: result.txPPS,
                                                     lossRatio: result.lossRatio, passed: passes(result)))
        return result
    }

    /// Throughput (26.1): binary search for the highest lossless rate, then for the
    /// highest with at most `pdrLoss`. The first probe is the rate the DUT delivered at
    /// full load, which is usually close, so the search converges in a few steps.
    func throughput(repetition: Int) throws -> Search {
        var search = Search()
        let zeroLoss: (TrialResult) -> Bool = { $0.lost <= 0 }
        let partialLoss: (TrialResult) -> Bool = { $0.lossRatio <= settings.pdrLoss }
        announce("\(frameSize) B throughput, repetition \(repetition + 1): maximum")
        let top = try trial("max", rate: nil, passes: zeroLoss, into: &search)
        search.maximum = top.txPPS
        search.forwarding = top.rxPPS
        if zeroLoss(top) {
            search.lossless = true
            search.ndr = top.txPPS
            search.pdr = top.txPPS
            return search
        }
        search.ndr = try bisect("NDR", goal: "ndr", low: 0, high: top.txPPS, firstGuess: top.rxPPS * 0.98,
                                passes: zeroLoss, search: &search, repetition: repetition)
        if partialLoss(top) {
            search.pdr = top.txPPS
        } else {
            search.pdr = try bisect("PDR", goal: "pdr", low: search.ndr, high: top.txPPS, firstGuess: top.rxPPS,
                                    passes: partialLoss, search: &search, repetition: repetition)
        }
        search.pdr = max(search.pdr, search.ndr)
        return search
    }

    /// The achieved rate of the best passing trial, or `low` when none passed.
    private func bisect(_ name: String, goal: String, low: Double, high: Double, firstGuess: Double,
                        passes: @escaping (TrialResult) -> Bool, search: inout Search, repetition: Int) throws -> Double {
        var low = low
        var high = high
        var best = low
        var guess = firstGuess > low && firstGuess < high ? firstGuess : (low + high) / 2
        for _ in 0..<settings.maxSearchSteps {
            // Relative to what the DUT forwards, not to what the generator offers (often
            // several times more), so a slow DUT's NDR is as precise as a fast one's.
            if high - low <= settings.resolution * max(search.forwarding, 1) { break }
            announce("\(frameSize) B \(name) search, repetition \(repetition + 1): \(Self.rate(guess))")
            let result = try trial(goal, rate: guess, passes: passes, into: &search)
            if passes(result) {
                low = guess
                best = max(best, min(result.txPPS, guess))
            } else {
                high = guess
            }
            guess = (low + high) / 2
        }
        return best
    }

    /// Latency (26.2) at fractions of the NDR and at a low rate; one trial per load and
    /// repetition.
    func latency(ndr: Double) throws -> [RFC2544Result.LatencyPoint] {
        guard ndr > 0 else { return [] }
        var loads: [(String, Double)] = settings.latencyLoads.map { ("\(Int(($0 * 100).rounded()))% NDR", $0 * ndr) }
        loads.insert(("low rate", min(settings.lowRatePPS, ndr * 0.01).rounded(.up)), at: 0)
        return try loads.map { try latencyPoint(label: $0.0, rate: $0.1) }
    }

    /// One latency point: a trial per repetition at `rate`.
    private func latencyPoint(label: String, rate: Double) throws -> RFC2544Result.LatencyPoint {
        var summaries: [LatencySummary] = []
        var losses: [Double] = []
        for repetition in 0..<settings.repetitions {
            announce("\(frameSize) B latency at \(label) (\(Self.rate(rate))), repetition \(repetition + 1)")
            let result = try measure(TrialSpec(frameSize: frameSize, ratePPS: rate, duration: settings.trialDuration))
            if let latency = result.latency { summaries.append(latency) }
            losses.append(max(0, result.lossRatio))
        }
        return RFC2544Result.LatencyPoint(
            label: label, targetPPS: rate,
            p50Ns: Spread(summaries.map { Double($0.p50Ns) }), p99Ns: Spread(summaries.map { Double($0.p99Ns) }),
            p999Ns: Spread(summaries.map { Double($0.p999Ns) }), maxNs: Spread(summaries.map { Double($0.maxNs) }),
            lossRatio: Spread(losses), sample: summaries.first)
    }

    /// Latency at the reference's load. The reference itself reuses its own point at that
    /// fraction of its NDR when it measured one. A DUT whose NDR is below the load is still
    /// measured: the loss shows in the point.
    func referenceLatency(ndr: Double, pdr: Double, measured: [RFC2544Result.LatencyPoint]) throws -> RFC2544Result.LatencyPoint? {
        guard let reference else { return nil }
        if let fixed = reference.fixed {
            return try latencyPoint(label: fixed.label, rate: fixed.ratePPS)
        }
        let (basis, base) = ndr > 0 ? ("NDR", ndr) : ("PDR", pdr)
        let rate = (base * reference.fraction).rounded()
        guard rate >= 1 else { return nil }
        let label = reference.label(basis: basis)
        if basis == "NDR", settings.latencyLoads.contains(reference.fraction),
           let point = measured.first(where: { $0.label == "\(Int((reference.fraction * 100).rounded()))% NDR" }) {
            var copy = point
            copy.label = label
            return copy
        }
        return try latencyPoint(label: label, rate: rate)
    }

    /// Frame loss rate (26.3) from 100% of the maximum down in 10% steps, until two
    /// successive loads lose nothing.
    func frameLoss(maximum: Double) throws -> [RFC2544Result.LossPoint] {
        guard maximum > 0 else { return [] }
        var points: [RFC2544Result.LossPoint] = []
        var losslessInARow = 0
        for load in settings.lossLoads {
            let rate: Double? = load >= 1 ? nil : load * maximum
            var ratios: [Double] = []
            for repetition in 0..<settings.repetitions {
                announce("\(frameSize) B frame loss at \(Int(load * 100))%, repetition \(repetition + 1)")
                let result = try measure(TrialSpec(frameSize: frameSize, ratePPS: rate, duration: settings.trialDuration))
                ratios.append(max(0, result.lossRatio))
            }
            points.append(RFC2544Result.LossPoint(loadPercent: Int((load * 100).rounded()), targetPPS: rate,
                                                  lossRatio: Spread(ratios)))
            losslessInARow = ratios.allSatisfy { $0 == 0 } ? losslessInARow + 1 : 0
            if losslessInARow == 2 { break }
        }
        return points
    }

    /// Back-to-back (26.4): the longest burst at the maximum rate that loses nothing,
    /// by binary search on the burst length.
    func backToBack(maximum: Double) throws -> RFC2544Result.BackToBack? {
        guard maximum > 0 else { return nil }
        let longest = UInt64(max(1000, min(maximum * settings.longestBurstSeconds, 50_000_000)))
        var lengths: [Double] = []
        var limited = true
        for repetition in 0..<settings.repetitions {
            func lossless(_ frames: UInt64) throws -> Bool {
                announce("\(frameSize) B back-to-back burst of \(frames), repetition \(repetition + 1)")
                let result = try measure(TrialSpec(frameSize: frameSize, count: frames,
                                                   duration: max(1, Double(frames) / maximum * 2)))
                return result.lost <= 0
            }
            if try lossless(longest) {
                lengths.append(Double(longest))
                continue
            }
            limited = false
            // Bursts a DUT absorbs range from a few hundred frames (a veth queue) to
            // millions: double up from 64 to bracket the answer, then bisect to 1%.
            var low: UInt64 = 0
            var high = longest
            var probe: UInt64 = 64
            while probe < high {
                if try lossless(probe) { low = probe } else { high = probe }
                if high == probe { break }
                probe *= 2
            }
            for _ in 0..<settings.maxSearchSteps where high - low > max(8, low / 100) {
                let mid = (low + high) / 2
                if try lossless(mid) { low = mid } else { high = mid }
            }
            lengths.append(Double(low))
        }
        return RFC2544Result.BackToBack(frames: Spread(lengths), longestTried: longest, limitedByLongestTried: limited)
    }

    static func rate(_ pps: Double) -> String {
        pps >= 1e6 ? String(format: "%.2f Mpps", pps / 1e6) : String(format: "%.0f kpps", pps / 1e3)
    }
}
