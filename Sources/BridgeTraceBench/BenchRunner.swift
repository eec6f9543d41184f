import BridgeTraceCore
import Foundation

/// Runs a plan: for every DUT a test bed, then plain measurements (with tracers, in
/// alternating rounds) or RFC 2544, then the optional generator comparison. Every test
/// bed is torn down before the next is built, and on every way out.
public final class BenchRunner {
    let plan: BenchPlan
    let progress: BenchProgress
    let shouldStop: () -> Bool
    private var unitsDone = 0.0
    private var unitsTotal = 1.0
    private var label = ""

    public init(plan: BenchPlan, progress: BenchProgress = SilentProgress(),
                shouldStop: @escaping () -> Bool = { false }) {
        self.plan = plan
        self.progress = progress
        self.shouldStop = shouldStop
    }

    /// Trials the plan runs, roughly: the unit of the progress bar.
    var estimatedTrials: Double {
        var perSize: Int
        if let settings = plan.rfc2544 {
            perSize = RFC2544Procedure.estimatedTrials(settings)
        } else {
            perSize = plan.trials * plan.tracers.count
        }
        var total = Double(plan.duts.count * plan.frameSizes.count * perSize)
        if plan.compareWithTrafgen { total += Double(2 * plan.trials) }
        if measuresCeilingApart { total += Double(plan.frameSizes.count * ceilingTrials) }
        return max(1, total)
    }

    /// Whether the DUTs' rates are the generator's full speed, which its ceiling bounds.
    var runsAtFullSpeed: Bool { plan.rfc2544 != nil || plan.ratePPS == nil }

    /// Full speed and no direct DUT in the plan: the ceiling is measured after the DUTs.
    var measuresCeilingApart: Bool { runsAtFullSpeed && !plan.duts.contains(.direct) }

    private var ceilingTrials: Int { plan.rfc2544?.repetitions ?? plan.trials }

    public func run() throws -> BenchReport {
        try plan.validate()
        unitsTotal = estimatedTrials
        let formatter = ISO8601DateFormatter()
        var report = BenchReport(
            started: formatter.string(from: Date()), host: .current(),
            settings: BenchReport.Settings(
                frameSizes: plan.frameSizes, flows: plan.flows, vlan: plan.vlan, ratePPS: plan.ratePPS,
                count: plan.count, durationSeconds: plan.rfc2544?.trialDuration ?? plan.duration,
                trials: plan.rfc2544?.repetitions ?? plan.trials, tracers: plan.tracers,
                rfc2544: plan.rfc2544 != nil, mtu: plan.mtu, dutCPU: plan.placement,
                tracerRxHook: plan.tracerRxHook.rawValue),
            duts: [], generatorComparison: nil)
        defer { progress.finish() }
        // Probed before the first DUT is built, once per process.
        let selection = try GeneratorSelection.probe(plan.generator)
        report.generator = selection
        progress.log(selection.line)
        var failures: [any OperatorError] = []
        // The reference is measured first: the others' latency is taken at its load.
        let referenceIndex = plan.duts.count > 1 ? DUTSelection.reference(in: plan.duts) : nil
        let order = referenceIndex.map { [$0] + plan.duts.indices.filter { $0 != referenceIndex } } ?? Array(plan.duts.indices)
        var reports = [BenchReport.DUTReport?](repeating: nil, count: plan.duts.count)
        var reference: Reference?
        for index in order {
            let dut = plan.duts[index].make()
            if index == referenceIndex { reference = Reference(name: dut.name, loads: [:]) }
            do {
                let measured = try measure(dut, reference: reference, isReference: index == referenceIndex)
                if index == referenceIndex {
                    for r in measured.rfc2544 {
                        reference?.loads[r.frameSize] = r.referenceLatency.map { .init(ratePPS: $0.targetPPS, label: $0.label) }
                    }
                }
                reports[index] = measured
                progress.log("\(dut.name): done")
            } catch let error as any OperatorError {
                failures.append(error)
                // Without the reference's NDR the others have no common load.
                if index == referenceIndex { reference = nil }
                reports[index] = BenchReport.DUTReport(name: dut.name, summary: dut.summary, notes: [],
                                                       error: error.message, measurements: [], tracerOverhead: [],
                                                       rfc2544: [])
                progress.log("\(dut.name): \(error.message)")
            }
        }
        report.duts = reports.compactMap { $0 }
        if failures.count == plan.duts.count, let first = failures.first { throw first }
        if runsAtFullSpeed { report.generatorCeiling = try generatorCeiling(report.duts) }
        if let referenceIndex {
            report.comparison = BenchComparison.make(report.duts, reference: report.duts[referenceIndex].name,
                                                     ceiling: report.generatorCeiling)
        }
        if plan.compareWithTrafgen {
            report.generatorComparison = try compareGenerators()
        }
        return report
    }

    private func bed(for dut: DeviceUnderTest) throws -> TestBed {
        let bed = try TestBed(dut: dut, mtu: plan.mtu, flows: plan.flows, vlan: plan.vlan, generator: plan.generator,
                              placement: plan.placement, shouldStop: shouldStop)
        bed.tracerRxHook = plan.tracerRxHook
        return bed
    }

    /// The run's reference DUT, and per frame size the load its latency was measured at.
    struct Reference {
        var name: String
        var loads: [Int: RFC2544Procedure.ReferenceLoad.Fixed]
    }

    private func measure(_ dut: DeviceUnderTest, reference: Reference?, isReference: Bool) throws -> BenchReport.DUTReport {
        let bed = try bed(for: dut)
        defer { bed.close() }
        var report = BenchReport.DUTReport(name: dut.name, summary: dut.summary, notes: [], error: nil,
                                           measurements: [], tracerOverhead: [], rfc2544: [])
        let hold = plan.holdFile.map { BenchHold(path: $0, shouldStop: shouldStop) }
        if let hold {
            // The path checks send frames too: done before the script starts counting.
            for size in plan.frameSizes { try bed.checkPath(size: size) }
            try hold.handOver(bed, state: "ready")
        }
        for size in plan.frameSizes {
            if let settings = plan.rfc2544 {
                let load = reference.flatMap { reference -> RFC2544Procedure.ReferenceLoad? in
                    let fixed = reference.loads[size]
                    guard isReference || fixed != nil else { return nil }
                    return .init(dut: reference.name, fraction: settings.referenceLatencyLoad, fixed: isReference ? nil : fixed)
                }
                let procedure = RFC2544Procedure(settings: settings, frameSize: size, reference: load,
                                                 announce: { [unowned self] in announce("\(dut.name): \($0)") },
                                                 measure: { [unowned self] spec in try trial(bed, spec, .none) })
                report.rfc2544.append(try procedure.run(dut: dut.name))
            } else {
                let (measurements, overhead) = try plainRounds(bed, size: size)
                report.measurements += measurements
                report.tracerOverhead += overhead
            }
        }
        try hold?.handOver(bed, state: "done")
        // Closed here, not only deferred: what its teardown reports belongs in the notes.
        bed.close()
        report.notes = bed.notes + Self.rateShortfalls(report.measurements)
        if bed.wiring.bridge == nil && plan.tracers != [.none] {
            report.notes.append("no bridge to attach a tracer to: measured without one")
        }
        return report
    }

    /// `trials` rounds; each runs every tracer mode once, in ABBA order across rounds so
    /// that the machine's drift does not favour one mode.
    private func plainRounds(_ bed: TestBed, size: Int) throws
        -> ([BenchReport.Measurement], [BenchReport.TracerOverhead]) {
        var trials: [TracerMode: [TrialResult]] = [:]
        var evidence: [TracerMode: [String]] = [:]
        // A tracer attaches to a bridge's ports; a DUT without any is measured bare.
        let tracers = bed.wiring.bridge == nil ? plan.tracers.filter { $0 == .none } : plan.tracers
        let spec = TrialSpec(frameSize: size, ratePPS: plan.ratePPS, count: plan.count, duration: plan.duration,
                             batch: plan.batch, pacing: plan.pacing)
        for round in 0..<plan.trials {
            for mode in round % 2 == 0 ? tracers : tracers.reversed() {
                announce("\(bed.dut.name): \(size) B, tracer \(mode.rawValue), round \(round + 1) of \(plan.trials)")
                let (result, seen) = try trialWithEvidence(bed, spec, mode)
                trials[mode, default: []].append(result)
                if !seen.isEmpty { evidence[mode, default: []].append(seen) }
            }
        }
        let measurements = tracers.map { mode -> BenchReport.Measurement in
            let results = trials[mode] ?? []
            return BenchReport.Measurement(
                frameSize: size, tracer: mode, rxPPS: Spread(results.map(\.rxPPS)), txPPS: Spread(results.map(\.txPPS)),
                lossRatio: Spread(results.map(\.lossRatio)),
                latencyP50Ns: Spread(results.compactMap { $0.latency.map { Double($0.p50Ns) } }),
                latencyP99Ns: Spread(results.compactMap { $0.latency.map { Double($0.p99Ns) } }),
                tracerEvidence: evidence[mode] ?? [], trials: results)
        }
        var overhead: [BenchReport.TracerOverhead] = []
        if let reference = trials[.none] {
            for mode in tracers where mode != .none {
                let results = trials[mode] ?? []
                let ratios = zip(results, reference).compactMap { $1.rxPPS > 0 ? $0.rxPPS / $1.rxPPS : nil }
                let added = zip(results, reference).compactMap { with, without in
                    with.rxPPS > 0 && without.rxPPS > 0 ? 1e9 / with.rxPPS - 1e9 / without.rxPPS : nil
                }
                let withTracer = Spread(results.map(\.rxPPS))?.median
                let without = Spread(reference.map(\.rxPPS))?.median
                overhead.append(BenchReport.TracerOverhead(
                    frameSize: size, tracer: mode, ratio: Spread(ratios),
                    ratioOfMedians: withTracer.flatMap { w in without.map { $0 > 0 ? w / $0 : 0 } },
                    addedNsPerFrame: Spread(added)))
            }
            // Each of our tracers as hook floor + our own cost (tcpdump hooks elsewhere).
            if let floor = overhead.first(where: { $0.tracer == .floor })?.addedNsPerFrame?.median {
                for index in overhead.indices where [.counters, .full].contains(overhead[index].tracer) {
                    overhead[index].hookFloorNsPerFrame = floor
                    overhead[index].ownNsPerFrame = overhead[index].addedNsPerFrame.map { $0.median - floor }
                }
            }
        }
        return (measurements, overhead)
    }

    /// The rate asked for is checked, not assumed: say where the generator fell short.
    static func rateShortfalls(_ measurements: [BenchReport.Measurement]) -> [String] {
        measurements.compactMap { m in
            guard let target = m.trials.first?.targetPPS, let achieved = m.txPPS?.median, achieved < target * 0.95 else {
                return nil
            }
            return "\(m.frameSize) B, tracer \(m.tracer.rawValue): asked for \(Formatting.pps(target)), the generator "
                + "reached \(Formatting.pps(achieved)) (median); the rates above are what was reached"
        }
    }

    private func trial(_ bed: TestBed, _ spec: TrialSpec, _ mode: TracerMode) throws -> TrialResult {
        try trialWithEvidence(bed, spec, mode).0
    }

    private func trialWithEvidence(_ bed: TestBed, _ spec: TrialSpec, _ mode: TracerMode) throws -> (TrialResult, String) {
        var spec = spec
        if spec.batch == nil { spec.batch = plan.batch }
        let base = unitsDone
        let (result, evidence) = try bed.runWithEvidence(spec, tracer: mode) { [unowned self] fraction in
            report(base + min(1, max(0, fraction)))
        }
        unitsDone = base + 1
        report(unitsDone)
        return (result, evidence)
    }

    private func announce(_ text: String) {
        label = text
        report(unitsDone)
    }

    private func report(_ units: Double) {
        progress.update(fraction: min(0.99, units / unitsTotal), label: label)
    }

    /// The generator's ceiling: the direct DUT's rates when it was in the run, else a
    /// direct bed measured now, as the DUTs were (same placement, trial length, trials).
    private func generatorCeiling(_ duts: [BenchReport.DUTReport]) throws -> GeneratorCeiling {
        guard measuresCeilingApart else { return GeneratorCeiling.make(duts) }
        do {
            let bed = try bed(for: DirectDUT())
            defer { bed.close() }
            var measured: [Int: Spread] = [:]
            for size in plan.frameSizes {
                var rates: [Double] = []
                for round in 0..<ceilingTrials {
                    announce("generator ceiling (direct): \(size) B, trial \(round + 1) of \(ceilingTrials)")
                    let spec = TrialSpec(frameSize: size, duration: plan.rfc2544?.trialDuration ?? plan.duration)
                    rates.append(try trial(bed, spec, .none).rxPPS)
                }
                measured[size] = Spread(rates)
            }
            return GeneratorCeiling.make(duts, measured: measured)
        } catch let error as any OperatorError {
            progress.log("generator ceiling: \(error.message)")
            return GeneratorCeiling.make(duts, unknownBecause: "could not be measured: \(error.message)")
        }
    }

    private func compareGenerators() throws -> BenchReport.GeneratorComparison {
        let bed = try bed(for: DirectDUT())
        defer { bed.close() }
        let size = plan.frameSizes.first ?? 64
        let comparison = TrafgenComparison(frameSize: size, duration: plan.duration, rounds: max(2, plan.trials),
                                           announce: { [unowned self] in announce($0); unitsDone += 0.5 })
        return try comparison.run(on: bed)
    }
}
