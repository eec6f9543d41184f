/// `diagnose` for people:
///
///     bridgetrace diagnose br0: 1 problem in 10 s (120 frames, 5 drops)
///
///     ERROR netfilter_drop at uplink
///       ICMP echo requests from 198.18.0.11 to 198.18.0.1 enter at vm1 and are dropped ...
///       evidence:
///         - 5 drops NETFILTER_DROP in nft_do_chain on uplink (skb->dev) over 4.0 s
///       fix: nft -a list ruleset bridge ...
///
/// or `bridgetrace diagnose br0: healthy: no problems seen in 10 s (120 frames, 0 drops)`.
/// A finding the evidence does not place at one port reads `WARNING icmp_unanswered at
/// an unknown port`. Events the rules never saw are said on a line of their own. A VM's
/// port reads `at vnet3 (web-01)`.
public enum DiagnoseText {
    public static func render(bridge: String, findings: [Finding], durationSeconds: Double, frames: Int,
                              drops: Int, lostEvents: UInt64 = 0, collectorOverflow: UInt64 = 0,
                              vms: VMNames = .none) -> String {
        let seen = "in \(seconds(durationSeconds)) s (\(frames) frame\(frames == 1 ? "" : "s"), "
            + "\(drops) drop\(drops == 1 ? "" : "s"))"
        let notExamined = unexamined(lostEvents: lostEvents, collectorOverflow: collectorOverflow)
        if findings.isEmpty {
            return "bridgetrace diagnose \(bridge): healthy: no problems seen \(seen)\n" + notExamined
        }
        var out = "bridgetrace diagnose \(bridge): \(findings.count) problem\(findings.count == 1 ? "" : "s") \(seen)\n"
            + notExamined
        for finding in findings {
            out += "\n\(finding.severity.rawValue.uppercased()) \(finding.cause.rawValue) at "
                + "\(finding.port.map(vms.label) ?? "an unknown port")\n"
            out += "  \(finding.summary)\n"
            if !finding.evidence.isEmpty {
                out += "  evidence:\n"
                for line in finding.evidence { out += "    - \(line)\n" }
            }
            out += "  fix: \(finding.fix)\n"
        }
        return out
    }

    /// "N events not examined: ..." when the ring buffers or the collector lost some.
    static func unexamined(lostEvents: UInt64, collectorOverflow: UInt64) -> String {
        let total = lostEvents &+ collectorOverflow
        guard total > 0 else { return "" }
        var parts: [String] = []
        if lostEvents > 0 { parts.append("\(lostEvents) lost in the ring buffers (the reader fell behind)") }
        if collectorOverflow > 0 { parts.append("\(collectorOverflow) over the collector's limit") }
        return "\(total) event\(total == 1 ? "" : "s") not examined: \(parts.joined(separator: ", ")); "
            + "findings that rest on a missing frame are less certain\n"
    }

    /// `10`, `2.5`.
    static func seconds(_ value: Double) -> String {
        guard value.isFinite, value >= 0 else { return "?" }
        if value == value.rounded() { return String(Int(value)) }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
