import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import BridgeTraceBench

/// A short real run through the runner, written out as the HTML report.
@Suite(.serialized) struct ReportIntegrationTests {
    @Test func reportDirectoryHoldsHTMLWithThePlots() throws {
        try requireRoot()
        var plan = BenchPlan(duts: [.linuxBridge(netfilter: false), .direct], frameSizes: [64, 256],
                             duration: 0.2, trials: 1)
        plan.tracers = [.none, .counters]
        let report = try BenchRunner(plan: plan).run()
        #expect(report.duts.count == 2)
        #expect(report.duts.allSatisfy { $0.error == nil })
        // The tracer needs a bridge: the direct DUT cannot have one, and says so.
        let bridge = try #require(report.duts.first)
        #expect(bridge.tracerOverhead.count == 2)
        #expect(bridge.measurements.first { $0.tracer == .counters }?.tracerEvidence.first?.contains("p-gen") == true)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bt-bench-report-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try HTMLReport.write(report, to: directory.path)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("</html>"))
        #expect(html.contains("Throughput per frame size"))
        #expect(html.contains("Latency CDF per DUT"))
        #expect(html.contains("Tracer overhead"))
        // Every plot is inline SVG that parses as XML.
        let svgs = html.components(separatedBy: "<svg").dropFirst().map { "<svg" + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
        #expect(svgs.count == 3)
        for svg in svgs {
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "SVG does not parse: \(parser.parserError.map { "\($0)" } ?? "")")
        }
        let json = try Data(contentsOf: directory.appendingPathComponent("result.json"))
        let object = try JSONSerialization.jsonObject(with: json) as? [String: Any]
        #expect((object?["duts"] as? [Any])?.count == 2)
    }
}
