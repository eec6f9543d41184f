import BridgeTraceCore
import Foundation

/// `--report DIR`: one self-contained index.html (inline CSS and SVG, no scripts, no
/// network), for people: throughput per frame size, latency CDFs per DUT, tracer
/// overhead, then the tables.
public enum HTMLReport {
    /// Creates the directory (or checks it is writable) before the run, so a typo does
    /// not cost a whole benchmark.
    public static func prepare(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw UserError("cannot create the report directory \(directory): \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw UserError("the report directory \(directory) is not writable")
        }
    }

    /// Writes DIR/index.html and DIR/result.json; returns the HTML's path.
    @discardableResult
    public static func write(_ report: BenchReport, to directory: String) throws -> String {
        try prepare(directory: directory)
        let path = (directory as NSString).appendingPathComponent("index.html")
        let jsonPath = (directory as NSString).appendingPathComponent("result.json")
        do {
            try render(report).write(toFile: path, atomically: true, encoding: .utf8)
            try report.json(pretty: true).write(to: URL(fileURLWithPath: jsonPath))
        } catch {
            throw UserError("cannot write the report into \(directory): \(error.localizedDescription)")
        }
        return path
    }

    public static func render(_ report: BenchReport) -> String {
        var body: [String] = []
        body.append("<h1>bridgetrace bench</h1>")
        body.append("<p class=meta>\(escape(report.started)) · kernel \(escape(report.host.kernel)) · \(report.host.cpus) CPUs · load \(escape(report.host.loadAverage))<br>"
            + "\(escape(settingsLine(report.settings)))</p>")
        if let chart = throughputChart(report) {
            body.append("<section><h2>Throughput per frame size</h2>\(chart)"
                + "<p class=note>\(escape(throughputNote(report)))</p></section>")
        }
        if let chart = latencyChart(report) {
            body.append("<section><h2>Latency CDF per DUT</h2>\(chart)"
                + "<p class=note>One-way latency, generator stamp to sink, every frame of one representative trial; log scale.</p></section>")
        }
        if let chart = overheadChart(report) {
            body.append("<section><h2>Tracer overhead</h2>\(chart)"
                + "<p class=note>Receive rate with the tracer attached ÷ without, per alternating round (median, bars show the spread). 1.0 = free.</p></section>")
        }
        if let section = generatorSection(report) { body.append(section) }
        body.append("<section><h2>Tables</h2><pre>\(escape(SummaryTable.render(report)))</pre></section>")
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>bridgetrace bench</title>
        <style>
        body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}
        h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em}.meta,.note{color:#555}
        pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}
        svg{background:#fff;border:1px solid #ddd}svg text{font:12px system-ui,sans-serif;fill:#333}
        </style></head><body>
        \(body.joined(separator: "\n"))
        </body></html>

        """
    }

    static func settingsLine(_ s: BenchReport.Settings) -> String {
        var parts = ["frame sizes \(s.frameSizes.map(String.init).joined(separator: ", ")) B with FCS"]
        parts.append(s.ratePPS.map { Formatting.pps($0) } ?? "max rate")
        parts.append(s.count.map { "\($0) frames per trial" } ?? "\(s.durationSeconds) s per trial")
        parts.append("\(s.trials) \(s.rfc2544 ? "repetitions" : "trials")")
        parts.append("\(s.flows) flow(s)")
        if let vlan = s.vlan { parts.append("VLAN \(vlan)") }
        if s.rfc2544 { parts.append("RFC 2544") }
        parts.append(s.dutCPU == .own ? "DUT on its own CPU (open loop)" : "DUT on the generator's CPU (closed loop)")
        return parts.joined(separator: " · ")
    }

    static func throughputNote(_ report: BenchReport) -> String {
        report.settings.rfc2544
            ? "RFC 2544 NDR (no frame lost) per repetition: median, with the range of repetitions as a bar."
            : "Frames received per second of sending, tracer none: median of the trials, with their range."
    }

    /// Series per DUT: (frame size, median, min, max) in pps.
    static func throughputSeries(_ report: BenchReport) -> [(String, [(Int, Spread)])] {
        report.duts.compactMap { dut in
            var points: [(Int, Spread)] = []
            if !dut.rfc2544.isEmpty {
                points = dut.rfc2544.compactMap { r in r.throughput.ndrPPS.map { (r.frameSize, $0) } }
            } else {
                points = dut.measurements.filter { $0.tracer == .none }.compactMap { m in m.rxPPS.map { (m.frameSize, $0) } }
            }
            return points.isEmpty ? nil : (dut.name, points.sorted { $0.0 < $1.0 })
        }
    }

    static func throughputChart(_ report: BenchReport) -> String? {
        let series = throughputSeries(report)
        guard !series.isEmpty else { return nil }
        let sizes = Array(Set(series.flatMap { $0.1.map(\.0) })).sorted()
        let top = (series.flatMap { $0.1.map { $0.1.max } }.max() ?? 1) * 1.1
        var chart = SVGChart(width: 900, height: 360, title: "frames per second")
        chart.yAxis(max: top, format: { Formatting.pps($0) })
        let groups = sizes.count
        let barsPerGroup = series.count
        let groupWidth = chart.plotWidth / Double(max(groups, 1))
        let barWidth = min(60, groupWidth * 0.8 / Double(max(barsPerGroup, 1)))
        for (g, size) in sizes.enumerated() {
            let groupX = chart.left + groupWidth * Double(g)
            chart.text(x: groupX + groupWidth / 2, y: chart.bottom + 18, "\(size) B", anchor: "middle")
            for (s, (_, points)) in series.enumerated() {
                guard let spread = points.first(where: { $0.0 == size })?.1 else { continue }
                let x = groupX + (groupWidth - barWidth * Double(barsPerGroup)) / 2 + barWidth * Double(s)
                chart.bar(x: x, width: barWidth * 0.9, value: spread.median, color: SVGChart.color(s),
                          tooltip: "\(series[s].0), \(size) B: \(Formatting.pps(spread.median))")
                chart.whisker(x: x + barWidth * 0.45, low: spread.min, high: spread.max)
            }
        }
        chart.legend(series.map(\.0))
        return chart.svg
    }

    /// One CDF per DUT: RFC 2544's 50%-NDR trial, else the median trial without tracer.
    static func latencySeries(_ report: BenchReport) -> [(String, LatencySummary)] {
        report.duts.compactMap { dut in
            if let rfc = dut.rfc2544.first, let point = rfc.latency.first(where: { $0.label == "50% NDR" }) ?? rfc.latency.last,
               let sample = point.sample {
                return ("\(dut.name), \(rfc.frameSize) B at \(point.label)", sample)
            }
            guard let m = dut.measurements.first(where: { $0.tracer == .none }), let latency = m.medianTrial?.latency else { return nil }
            return ("\(dut.name), \(m.frameSize) B", latency)
        }
    }

    static func latencyChart(_ report: BenchReport) -> String? {
        let series = latencySeries(report)
        guard !series.isEmpty else { return nil }
        let low = max(10, Double(series.map { $0.1.minNs }.min() ?? 10))
        let high = max(low * 10, Double(series.map { $0.1.maxNs }.max() ?? 1000))
        var chart = SVGChart(width: 900, height: 360, title: "fraction of frames at or below")
        chart.yAxis(max: 1, format: { String(format: "%.2f", $0) })
        chart.logXAxis(low: low, high: high, format: Formatting.ns)
        for (i, (name, latency)) in series.enumerated() {
            chart.stepLine(latency.cdf.map { (Double(max($0.ns, 1)), $0.fraction) }, color: SVGChart.color(i), name: name)
        }
        chart.legend(series.map(\.0))
        return chart.svg
    }

    static func overheadChart(_ report: BenchReport) -> String? {
        let rows = report.duts.flatMap { dut in dut.tracerOverhead.compactMap { o in o.ratio.map { ("\(dut.name) \(o.frameSize) B \(o.tracer.rawValue)", $0) } } }
        guard !rows.isEmpty else { return nil }
        var chart = SVGChart(width: 900, height: max(160, 40 + 34 * rows.count), title: "")
        chart.horizontalBars(rows, format: Formatting.ratio)
        return chart.svg
    }

    /// What sent the frames, its ceiling, and the DUTs whose rate is the generator's.
    static func generatorSection(_ report: BenchReport) -> String? {
        guard report.generator != nil || report.generatorCeiling != nil else { return nil }
        var parts = ["<section><h2>Generator</h2>"]
        if let generator = report.generator { parts.append("<p>\(escape(generator.line))</p>") }
        if let ceiling = report.generatorCeiling {
            let lines = SummaryTable.ceilingLines(ceiling)
            parts.append("<p>\(escape(lines[0]))</p>")
            if lines.count > 1 { parts.append("<pre>\(escape(lines.dropFirst().joined(separator: "\n")))</pre>") }
        }
        parts.append("</section>")
        return parts.joined()
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
