import Foundation

/// Number formats shared by the table and the HTML report.
enum Formatting {
    static func pps(_ value: Double) -> String {
        if value >= 1e6 { return String(format: "%.3f Mpps", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f kpps", value / 1e3) }
        return String(format: "%.0f pps", value)
    }

    static func ns(_ value: Double) -> String {
        if value >= 1e6 { return String(format: "%.2f ms", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1f µs", value / 1e3) }
        return String(format: "%.0f ns", value)
    }

    static func percent(_ ratio: Double) -> String {
        if ratio == 0 { return "0%" }
        if abs(ratio) < 0.0001 { return String(format: "%.4f%%", ratio * 100) }
        return String(format: "%.2f%%", ratio * 100)
    }

    static func ratio(_ value: Double) -> String { String(format: "%.3f", value) }

    /// "1.234 Mpps (1.1–1.3)": the median and the spread of repeated trials.
    static func spread(_ spread: Spread?, _ format: (Double) -> String) -> String {
        guard let spread else { return "-" }
        if spread.count < 2 { return format(spread.median) }
        return "\(format(spread.median)) [\(format(spread.min))–\(format(spread.max))]"
    }
}
