import BridgeTraceCore
/// The plain-text summary `bench` prints: one table per kind of result, medians with the
/// spread of repeated trials in brackets.
public enum SummaryTable {
    public static func render(_ report: BenchReport) -> String {
        var lines: [String] = []
        let s = report.settings
        var what = "frame sizes \(s.frameSizes.map(String.init).joined(separator: ", ")) B (with FCS)"
        what += s.ratePPS.map { ", \(Formatting.pps($0))" } ?? ", max rate"
        if let count = s.count { what += ", \(count) frames per trial" } else { what += ", \(s.durationSeconds) s per trial" }
        what += ", \(s.trials) \(s.rfc2544 ? "repetitions" : "trials"), \(s.flows) flow\(s.flows == 1 ? "" : "s")"
        if let vlan = s.vlan { what += ", VLAN \(vlan)" }
        what += s.dutCPU == .own ? ", each DUT on one CPU of its own (CPU \(NAPIThreads.dutCPU)), the generator on CPU \(NAPIThreads.generatorCPU)"
            : ", each DUT on the generator's CPU"
        lines.append("bridgetrace bench: \(what); kernel \(report.host.kernel), \(report.host.cpus) CPUs, load \(report.host.loadAverage)")
        if let generator = report.generator { lines.append(generator.line) }

        let measured = report.duts.flatMap { dut in dut.measurements.map { (dut.name, $0) } }
        if !measured.isEmpty {
            lines.append("")
            var rows = [["dut", "size", "tracer", "rx rate", "loss", "latency p50", "p99"]]
            for (name, m) in measured {
                rows.append([name, "\(m.frameSize)", m.tracer.rawValue, Formatting.spread(m.rxPPS, Formatting.pps),
                             Formatting.spread(m.lossRatio, Formatting.percent),
                             Formatting.spread(m.latencyP50Ns, Formatting.ns), Formatting.spread(m.latencyP99Ns, Formatting.ns)])
            }
            lines += TextTable.render(rows)
        }

        let overhead = report.duts.flatMap { dut in dut.tracerOverhead.map { (dut.name, $0) } }
        if !overhead.isEmpty {
            lines.append("")
            lines.append("tracer overhead (rx rate with the tracer ÷ without, per round; 1.000 = free; tracer rx hook \(report.settings.tracerRxHook)):")
            var rows = [["dut", "size", "tracer", "ratio", "ratio of medians", "added per frame", "= hook floor", "+ ours"]]
            for (name, o) in overhead {
                rows.append([name, "\(o.frameSize)", "\(o.tracer.rawValue)/none", Formatting.spread(o.ratio, Formatting.ratio),
                             o.ratioOfMedians.map(Formatting.ratio) ?? "-", Formatting.spread(o.addedNsPerFrame, Formatting.ns),
                             o.hookFloorNsPerFrame.map(Formatting.ns) ?? "-", o.ownNsPerFrame.map(Formatting.ns) ?? "-"])
            }
            lines += TextTable.render(rows)
        }

        let rfc = report.duts.flatMap(\.rfc2544)
        if !rfc.isEmpty {
            lines.append("")
            lines.append("RFC 2544 throughput (NDR: no loss; PDR: ≤ \(Formatting.percent(rfc[0].throughput.pdrLoss)) loss):")
            var rows = [["dut", "size", "max offered", "NDR", "PDR", "NDR Gbit/s", "back-to-back"]]
            for r in rfc {
                var ndr = Formatting.spread(r.throughput.ndrPPS, Formatting.pps)
                if r.throughput.limitedByGenerator { ndr += " (≥, generator-bound)" }
                var b2b = Formatting.spread(r.backToBack?.frames) { String(format: "%.0f", $0) }
                if r.backToBack?.limitedByLongestTried == true { b2b = "≥ " + b2b }
                rows.append([r.dut, "\(r.frameSize)", Formatting.spread(r.maximumPPS, Formatting.pps), ndr,
                             Formatting.spread(r.throughput.pdrPPS, Formatting.pps),
                             Formatting.spread(r.throughput.ndrGbps) { String(format: "%.2f", $0) }, b2b])
            }
            lines += TextTable.render(rows)
            lines.append("")
            lines.append("RFC 2544 latency (one-way, generator to sink):")
            rows = [["dut", "size", "load", "rate", "p50", "p99", "p99.9", "max"]]
            for r in rfc {
                for point in r.latency + [r.referenceLatency].compactMap({ $0 }) {
                    rows.append([r.dut, "\(r.frameSize)", point.label, Formatting.pps(point.targetPPS),
                                 Formatting.spread(point.p50Ns, Formatting.ns), Formatting.spread(point.p99Ns, Formatting.ns),
                                 Formatting.spread(point.p999Ns, Formatting.ns), Formatting.spread(point.maxNs, Formatting.ns)])
                }
            }
            lines += TextTable.render(rows)
            lines.append("")
            lines.append("RFC 2544 frame loss rate (load = % of the maximum offered):")
            let loads = Array(Set(rfc.flatMap { $0.frameLoss.map(\.loadPercent) })).sorted(by: >)
            rows = [["dut", "size"] + loads.map { "\($0)%" }]
            for r in rfc {
                rows.append([r.dut, "\(r.frameSize)"] + loads.map { load in
                    r.frameLoss.first { $0.loadPercent == load }.map { Formatting.percent($0.lossRatio?.median ?? 0) } ?? "-"
                })
            }
            lines += TextTable.render(rows)
        }

        if let c = report.comparison, c.rows.count > 1 {
            lines.append("")
            lines.append("against \(c.reference) (ratio = DUT ÷ \(c.reference), medians of this run; for p99, below 1 is better):")
            let rfc = c.rows.contains { $0.ndrPPS != nil }
            var rows = [["dut", "size"] + (rfc ? ["forwarding", "ratio", "NDR", "ratio", "p99 at", "p99", "ratio", "loss"]
                                                 : ["rx rate", "ratio"])]
            func text(_ value: Double?, _ format: (Double) -> String) -> String { value.map(format) ?? "-" }
            for row in c.rows {
                var cells = [row.dut, "\(row.frameSize)"]
                if rfc {
                    cells += [text(row.forwardingPPS, Formatting.pps), text(row.forwardingRatio, Formatting.ratio),
                              text(row.ndrPPS, Formatting.pps), text(row.ndrRatio, Formatting.ratio),
                              text(row.latencyLoadPPS, Formatting.pps), text(row.p99Ns, Formatting.ns),
                              text(row.p99Ratio, Formatting.ratio), text(row.latencyLossRatio, Formatting.percent)]
                } else {
                    cells += [text(row.rxPPS, Formatting.pps), text(row.rxRatio, Formatting.ratio)]
                }
                if row.generatorBound == true { cells.append("generator-bound") }
                rows.append(cells)
            }
            lines += TextTable.render(rows)
            if let load = c.rows.first(where: { $0.latencyLoad != nil })?.latencyLoad {
                lines.append("p99 at: one-way latency at \(load), the same rate for every DUT")
            }
        }

        if let ceiling = report.generatorCeiling {
            lines.append("")
            lines += ceilingLines(ceiling)
        }

        if let g = report.generatorComparison {
            lines.append("")
            lines.append("generator, \(g.frameSize) B on one veth pair, \(g.cpus) CPU each: bridgetrace "
                + "\(g.generator.map { "(\($0.rawValue)) " } ?? "")\(Formatting.spread(g.oursPPS, Formatting.pps)), "
                + "trafgen \(Formatting.spread(g.trafgenPPS, Formatting.pps)); ratio \(Formatting.spread(g.ratio, Formatting.ratio))")
            for note in g.notes { lines.append("note: generator comparison: \(note)") }
        }

        for dut in report.duts {
            if let error = dut.error { lines.append("\(dut.name): not measured: \(error)") }
            for note in dut.notes { lines.append("note: \(dut.name): \(note)") }
        }
        return lines.joined(separator: "\n")
    }
}

extension SummaryTable {
    /// The generator's ceiling and the DUTs that reached it, or why it is unknown.
    static func ceilingLines(_ ceiling: GeneratorCeiling) -> [String] {
        let percent = Int(GeneratorCeiling.margin * 100)
        guard let source = ceiling.source else {
            return ["generator ceiling unknown (\(ceiling.note ?? "not measured")): a DUT within \(percent)% of it "
                + "would show the generator's limit, not its own"]
        }
        var lines = ["generator ceiling (\(source), same run): "
            + ceiling.points.map { "\($0.frameSize) B \(Formatting.spread($0.pps, Formatting.pps))" }.joined(separator: ", ")]
        let bound = ceiling.verdicts.filter { $0.generatorBound == true }
        if bound.isEmpty {
            if !ceiling.verdicts.isEmpty { lines.append("no DUT is generator-bound (within \(percent)% of the ceiling)") }
            return lines
        }
        lines.append("generator-bound (within \(percent)% of the generator's ceiling: the rate is the generator's limit, "
            + "the DUT may be faster):")
        var rows = [["dut", "size", "rate", "of ceiling"]]
        for v in bound {
            rows.append([v.dut, "\(v.frameSize)", Formatting.pps(v.pps), v.fractionOfCeiling.map(Formatting.ratio) ?? "-"])
        }
        return lines + TextTable.render(rows)
    }
}
