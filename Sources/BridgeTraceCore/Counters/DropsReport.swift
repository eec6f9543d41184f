/// One reading of `bridgetrace drops`: drop totals since attach per (port, reason,
/// location).
public struct DropsSnapshot: Equatable, Sendable {
    public var time: Double  // seconds since 1970
    public var bridge: String
    public var netns: String?
    public var drops: [DropCount]
    /// Drop events the kernel could not queue (ring buffer full).
    public var lostEvents: UInt64
    /// The kernel hook drops are traced at: "tp_btf" or "raw_tp".
    public var hook: String?
    /// The VM of each port that is a VM's NIC.
    public var vms: VMNames

    public init(time: Double, bridge: String, netns: String?, drops: [DropCount], lostEvents: UInt64 = 0,
                hook: String? = nil, vms: VMNames = .none) {
        self.time = time
        self.bridge = bridge
        self.netns = netns
        self.drops = drops
        self.lostEvents = lostEvents
        self.hook = hook
        self.vms = vms
    }
}

/// Renderers of `drops`: JSON lines and the terminal table. The rate of a row is over the
/// last interval: (count now - count in `previous`) / elapsed, a row new since then
/// counting from zero.
public enum DropsReport {
    struct RowKey: Hashable {
        var port: String
        var reason: String
        var location: String
    }

    static func rates(_ snapshot: DropsSnapshot, previous: DropsSnapshot?, elapsed: Double) -> [Double] {
        var before: [RowKey: UInt64] = [:]
        for drop in previous?.drops ?? [] { before[RowKey(port: drop.port, reason: drop.reason, location: drop.location)] = drop.count }
        return snapshot.drops.map { drop in
            let earlier = before[RowKey(port: drop.port, reason: drop.reason, location: drop.location)] ?? 0
            guard elapsed > 0, drop.count >= earlier else { return 0 }
            return Double(drop.count - earlier) / elapsed
        }
    }

    /// `{"time":…, "bridge":…, "netns":…, "drops":[{"port", "ifindex", "reason", "location",
    /// "count", "rate"}], "lost_events":…}`.
    public static func jsonLine(_ snapshot: DropsSnapshot, previous: DropsSnapshot?, elapsed: Double) -> String {
        let rates = rates(snapshot, previous: previous, elapsed: elapsed)
        let drops: [JSONValue] = zip(snapshot.drops, rates).map { drop, rate in
            .object([("port", .string(drop.port))] + (snapshot.vms[drop.port].map { [("vm", .string($0))] } ?? []) + [
                ("ifindex", .int(Int64(drop.ifindex))),
                ("reason", .string(drop.reason)),
                ("location", .string(drop.location)),
                ("count", .uint(drop.count)),
                ("rate", .double((rate * 100).rounded() / 100)),
            ])
        }
        var members: [(String, JSONValue)] = [
            ("time", .string(rfc3339Milliseconds(snapshot.time))),
            ("bridge", .string(snapshot.bridge)),
            ("netns", snapshot.netns.map(JSONValue.string) ?? .null),
            ("drops", .array(drops)),
            ("lost_events", .uint(snapshot.lostEvents)),
        ]
        if let hook = snapshot.hook { members.append(("hook", .string(hook))) }
        return JSONValue.object(members).rendered()
    }

    /// Columns: port, reason, location, count, rate per second. Sorted by port, then the
    /// largest count first.
    public static func table(_ snapshot: DropsSnapshot, previous: DropsSnapshot?, elapsed: Double) -> String {
        let rates = rates(snapshot, previous: previous, elapsed: elapsed)
        let rows = zip(snapshot.drops, rates).sorted { a, b in
            a.0.port != b.0.port ? a.0.port < b.0.port : a.0.count > b.0.count
        }
        var out = "bridge \(snapshot.bridge)"
        if let netns = snapshot.netns { out += " (netns \(netns))" }
        out += "  \(rfc3339Milliseconds(snapshot.time))  lost events: \(snapshot.lostEvents)\n"
        if rows.isEmpty {
            return out + "no drops on the watched ports since attach\n"
        }
        var cells: [[String]] = [["port", "reason", "location", "count", "rate/s"]]
        for (drop, rate) in rows {
            cells.append([snapshot.vms.label(drop.port), drop.reason, drop.location, String(drop.count), CountersTable.formatRate(rate)])
        }
        var widths = Array(repeating: 0, count: 5)
        for row in cells { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        for row in cells {
            let line = row.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return index < 3 ? cell + padding : padding + cell
            }.joined(separator: "  ")
            out += line + "\n"
        }
        return out
    }
}
