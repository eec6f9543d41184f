import Testing

@testable import BridgeTraceBench

/// Ratios to the reference, from a report built by hand.
@Suite struct BenchComparisonTests {
    func trial(_ dut: String, rx: Double) -> TrialResult {
        TrialResult(dut: dut, frameSize: 64, tracer: .none, generator: .xdpLiveFrames, batch: 64, targetPPS: nil,
                    sent: 100, received: 100, lost: 0, lossRatio: 0, reordered: 0, stale: 0, txPPS: rx, rxPPS: rx,
                    rxGbps: 0, activeSeconds: 1, wallSeconds: 1, latency: nil)
    }

    func plain(_ name: String, _ rates: [Double]) -> BenchReport.DUTReport {
        let trials = rates.map { trial(name, rx: $0) }
        let m = BenchReport.Measurement(frameSize: 64, tracer: .none, rxPPS: Spread(rates), txPPS: Spread(rates),
                                        lossRatio: Spread([0]), latencyP50Ns: nil, latencyP99Ns: nil,
                                        tracerEvidence: [], trials: trials)
        return BenchReport.DUTReport(name: name, summary: "", notes: [], error: nil, measurements: [m],
                                     tracerOverhead: [], rfc2544: [])
    }

    func rfc(_ name: String, forwarding: Double, ndr: Double, p99: Double, loss: Double) -> BenchReport.DUTReport {
        let point = RFC2544Result.LatencyPoint(label: "50% of lb NDR", targetPPS: 100_000, p50Ns: nil,
                                               p99Ns: Spread([p99]), p999Ns: nil, maxNs: nil, lossRatio: Spread([loss]),
                                               sample: nil)
        let throughput = RFC2544Result.Throughput(ndrPPS: Spread([ndr]), pdrPPS: Spread([ndr]), pdrLoss: 0.005,
                                                  ndrGbps: nil, limitedByGenerator: false, searches: [])
        let result = RFC2544Result(dut: name, frameSize: 64, maximumPPS: Spread([4e6]), forwardingPPS: Spread([forwarding]),
                                   throughput: throughput, latency: [point], referenceLatency: point, frameLoss: [],
                                   backToBack: nil)
        return BenchReport.DUTReport(name: name, summary: "", notes: [], error: nil, measurements: [],
                                     tracerOverhead: [], rfc2544: [result])
    }

    @Test func plainRatesAreMedianRatios() throws {
        let duts = [plain("lb", [100, 200, 300]), plain("switch", [500, 700, 600]),
                    BenchReport.DUTReport(name: "broken", summary: "", notes: [], error: "no", measurements: [],
                                          tracerOverhead: [], rfc2544: [])]
        let comparison = try #require(BenchComparison.make(duts, reference: "lb"))
        #expect(comparison.rows.map(\.dut) == ["lb", "switch"])
        #expect(comparison.rows[0].rxRatio == 1)
        #expect(comparison.rows[1].rxRatio == 3)
        #expect(comparison.rows[1].ndrRatio == nil)
    }

    @Test func rfc2544RatiosIncludeLatencyAtTheCommonLoad() throws {
        let duts = [rfc("lb", forwarding: 200_000, ndr: 200_000, p99: 40_000, loss: 0),
                    rfc("xdp", forwarding: 800_000, ndr: 700_000, p99: 20_000, loss: 0)]
        let comparison = try #require(BenchComparison.make(duts, reference: "lb"))
        let row = try #require(comparison.rows.last)
        #expect(row.forwardingRatio == 4)
        #expect(row.ndrRatio == 3.5)
        #expect(row.p99Ratio == 0.5)
        #expect(row.latencyLoadPPS == 100_000)
        #expect(SummaryTable.render(BenchReport(
            started: "", host: .init(kernel: "", cpus: 2, loadAverage: ""),
            settings: .init(frameSizes: [64], flows: 1, vlan: nil, ratePPS: nil, count: nil, durationSeconds: 1, trials: 1,
                            tracers: [.none], rfc2544: true, mtu: 1500, dutCPU: .own, tracerRxHook: "auto"),
            duts: duts, generatorComparison: nil, comparison: comparison)).contains("against lb"))
    }

    @Test func noReferenceNoComparison() {
        let broken = BenchReport.DUTReport(name: "lb", summary: "", notes: [], error: "no", measurements: [],
                                           tracerOverhead: [], rfc2544: [])
        #expect(BenchComparison.make([broken, plain("x", [1])], reference: "lb") == nil)
    }
}
