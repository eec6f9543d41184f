import BridgeTraceCore
import Foundation
import Testing

@testable import BridgeTraceBench

/// The generator-bound rule and where it shows, from reports built by hand.
@Suite struct GeneratorCeilingTests {
    func plain(_ name: String, _ rates: [Double], size: Int = 64) -> BenchReport.DUTReport {
        let m = BenchReport.Measurement(frameSize: size, tracer: .none, rxPPS: Spread(rates), txPPS: Spread(rates),
                                        lossRatio: Spread([0]), latencyP50Ns: nil, latencyP99Ns: nil,
                                        tracerEvidence: [], trials: [])
        return BenchReport.DUTReport(name: name, summary: "", notes: [], error: nil, measurements: [m],
                                     tracerOverhead: [], rfc2544: [])
    }

    func rfc(_ name: String, forwarding: Double, ndr: Double) -> BenchReport.DUTReport {
        let throughput = RFC2544Result.Throughput(ndrPPS: Spread([ndr]), pdrPPS: Spread([ndr]), pdrLoss: 0.005,
                                                  ndrGbps: nil, limitedByGenerator: false, searches: [])
        let result = RFC2544Result(dut: name, frameSize: 64, maximumPPS: Spread([1e6]), forwardingPPS: Spread([forwarding]),
                                   throughput: throughput, latency: [], referenceLatency: nil, frameLoss: [],
                                   backToBack: nil)
        return BenchReport.DUTReport(name: name, summary: "", notes: [], error: nil, measurements: [],
                                     tracerOverhead: [], rfc2544: [result])
    }

    func report(_ duts: [BenchReport.DUTReport], ceiling: GeneratorCeiling?) -> BenchReport {
        BenchReport(started: "", host: .init(kernel: "", cpus: 2, loadAverage: ""),
                    settings: .init(frameSizes: [64], flows: 1, vlan: nil, ratePPS: nil, count: nil, durationSeconds: 1,
                                    trials: 1, tracers: [.none], rfc2544: false, mtu: 1500, dutCPU: .shared,
                                    tracerRxHook: "auto"),
                    duts: duts, generatorCeiling: ceiling, generatorComparison: nil,
                    comparison: BenchComparison.make(duts, reference: duts[0].name, ceiling: ceiling))
    }

    /// 90 % of the ceiling and above is the generator's; below, the DUT's.
    @Test func withinTenPercentOfTheCeilingIsGeneratorBound() {
        #expect(GeneratorCeiling.isGeneratorBound(pps: 900_000, ceiling: 1_000_000))
        #expect(GeneratorCeiling.isGeneratorBound(pps: 1_000_000, ceiling: 1_000_000))
        // A DUT a little above the ceiling (the machine's drift between trials) still is.
        #expect(GeneratorCeiling.isGeneratorBound(pps: 1_050_000, ceiling: 1_000_000))
        #expect(!GeneratorCeiling.isGeneratorBound(pps: 899_999, ceiling: 1_000_000))
        #expect(!GeneratorCeiling.isGeneratorBound(pps: 500, ceiling: 0))
    }

    /// The direct DUT of the same run is the ceiling; every other DUT is judged against it.
    @Test func theDirectDUTOfTheRunIsTheCeiling() throws {
        let duts = [plain("linux-bridge nf-off", [300_000, 310_000, 320_000]), plain("xdp-switch", [590_000, 600_000, 610_000]),
                    plain("direct", [640_000, 650_000, 660_000])]
        let ceiling = GeneratorCeiling.make(duts)
        #expect(ceiling.source == "dut direct")
        #expect(ceiling.points.map(\.frameSize) == [64])
        #expect(ceiling.points.first?.pps.median == 650_000)
        #expect(ceiling.verdicts.map(\.dut) == ["linux-bridge nf-off", "xdp-switch"])
        #expect(ceiling.verdict(dut: "linux-bridge nf-off", frameSize: 64)?.generatorBound == false)
        let bound = try #require(ceiling.verdict(dut: "xdp-switch", frameSize: 64))
        #expect(bound.generatorBound == true)
        #expect(abs((bound.fractionOfCeiling ?? 0) - 600_000.0 / 650_000) < 1e-9)

        let whole = report(duts, ceiling: ceiling)
        let text = SummaryTable.render(whole)
        #expect(text.contains("generator ceiling (dut direct, same run): 64 B 650.0 kpps"), "\(text)")
        #expect(text.contains("generator-bound (within 10% of the generator's ceiling"), "\(text)")
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("xdp-switch") && $0.hasSuffix("generator-bound") }, "\(text)")
        let json = String(decoding: try whole.json(), as: UTF8.self)
        #expect(json.contains("\"generator_ceiling\":{"))
        #expect(json.contains("\"generator_bound\":true"))
        let html = HTMLReport.render(whole)
        #expect(html.contains("<h2>Generator</h2>"))
        #expect(html.contains("generator-bound"))
    }

    /// RFC 2544 judges the forwarding rate at the maximum offered load.
    @Test func rfc2544UsesTheForwardingRate() {
        let ceiling = GeneratorCeiling.make([rfc("linux-bridge nf-off", forwarding: 300_000, ndr: 250_000),
                                             rfc("xdp-switch", forwarding: 950_000, ndr: 500_000),
                                             rfc("direct", forwarding: 1_000_000, ndr: 1_000_000)])
        #expect(ceiling.verdict(dut: "xdp-switch", frameSize: 64)?.generatorBound == true)
        #expect(ceiling.verdict(dut: "linux-bridge nf-off", frameSize: 64)?.generatorBound == false)
    }

    /// A ceiling measured apart serves the same; none at all is said to be unknown, and no
    /// DUT is called generator-bound or not.
    @Test func measuredApartOrUnknown() {
        let duts = [plain("linux-bridge nf-off", [300_000]), plain("xdp-switch", [600_000])]
        let measured = GeneratorCeiling.make(duts, measured: [64: Spread([620_000])!])
        #expect(measured.source == "measured apart")
        #expect(measured.verdict(dut: "xdp-switch", frameSize: 64)?.generatorBound == true)

        let unknown = GeneratorCeiling.make(duts)
        #expect(unknown.source == nil)
        #expect(unknown.verdicts.allSatisfy { $0.generatorBound == nil && $0.ceilingPPS == nil })
        #expect(unknown.note?.contains("--dut direct") == true)
        let text = SummaryTable.render(report(duts, ceiling: unknown))
        #expect(text.contains("generator ceiling unknown"), "\(text)")
        #expect(!text.contains("generator-bound\n"))
    }
}
