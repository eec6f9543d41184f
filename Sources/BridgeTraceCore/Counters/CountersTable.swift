/// The terminal view of `counters`: one row per port and direction, with totals and the
/// frame rate over the last interval.
public enum CountersTable {
    static let kinds: [CounterKind] = [
        .frames, .bytes, .arpRequest, .arpReply, .icmpEchoRequest, .icmpEchoReply,
        .icmpUnreachable, .icmpOther, .icmp6, .dhcp, .vlanTagged, .ipv4Other, .ipv6Other, .other,
    ]

    /// - Parameters:
    ///   - previous: the reading one interval ago, for rates; nil on the first one.
    ///   - elapsed: seconds between `previous` and `snapshot`.
    public static func render(_ snapshot: CountersSnapshot, previous: CountersSnapshot?, elapsed: Double) -> String {
        let header = ["port", "dir", "fps"] + kinds.map(\.columnTitle) + ["drops"]
        var rows: [[String]] = []
        var totals: [Direction: DirectionCounters] = [.rx: .init(), .tx: .init()]
        var totalRates: [Direction: Double] = [.rx: 0, .tx: 0]
        var totalDrops: UInt64 = 0

        for port in snapshot.ports {
            let before = previous?.ports.first { $0.ifindex == port.ifindex && $0.port == port.port }
            for direction in Direction.allCases {
                let counters = port[direction]
                let rate = before.map { rateOf(counters[.frames], $0[direction][.frames], elapsed) } ?? 0
                let hookMark = direction == .rx && port.rxHook == .tc ? " (tc)" : ""
                let drops = direction == .rx ? String(port.drops.total) : ""
                rows.append([snapshot.vms.label(port.port), direction.rawValue + hookMark, formatRate(rate)]
                            + kinds.map { String(counters[$0]) } + [drops])
                totals[direction]!.slots = zip(totals[direction]!.slots, counters.slots).map { $0 &+ $1 }
                totalRates[direction]! += rate
            }
            totalDrops &+= port.drops.total
        }
        for direction in Direction.allCases {
            rows.append(["total", direction.rawValue, formatRate(totalRates[direction]!)]
                        + kinds.map { String(totals[direction]![$0]) } + [direction == .rx ? String(totalDrops) : ""])
        }

        var out = "bridge \(snapshot.bridge)"
        if let netns = snapshot.netns { out += " (netns \(netns))" }
        out += "  \(rfc3339Milliseconds(snapshot.time))  lost events: \(snapshot.lostEvents)\n"
        out += layout([header] + rows, separatorBefore: rows.count - 2 + 1)
        let notes = snapshot.ports.compactMap { port in port.rxHookNote.map { "note: \(port.port) rx is counted at tc ingress: \($0)" } }
        for note in notes { out += note + "\n" }
        return out
    }

    static func rateOf(_ now: UInt64, _ before: UInt64, _ elapsed: Double) -> Double {
        guard elapsed > 0, now >= before else { return 0 }
        return Double(now - before) / elapsed
    }

    static func formatRate(_ rate: Double) -> String {
        if rate >= 1_000_000 { return String(format1(rate / 1_000_000)) + "M" }
        if rate >= 10_000 { return String(format1(rate / 1_000)) + "k" }
        return String(Int(rate.rounded()))
    }

    static func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// Right-aligned numeric columns, left-aligned first column, a rule above the totals.
    static func layout(_ table: [[String]], separatorBefore totalsRow: Int) -> String {
        guard let columns = table.first?.count else { return "" }
        var widths = Array(repeating: 0, count: columns)
        for row in table {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var out = ""
        for (rowIndex, row) in table.enumerated() {
            if rowIndex == totalsRow {
                out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
            }
            let cells = row.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return index < 2 ? cell + padding : padding + cell
            }
            out += cells.joined(separator: "  ").replacingTrailingSpaces() + "\n"
        }
        return out
    }
}

extension String {
    fileprivate func replacingTrailingSpaces() -> String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
