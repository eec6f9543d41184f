/// `diagnose --json`: one object, DESIGN.md's contract field for field.
///
///     {"bridge": "br0", "healthy": false,
///      "findings": [{"cause": "netfilter_drop", "port": "eth0", "severity": "error",
///                    "summary": "...", "evidence": ["..."], "fix": "..."}],
///      "duration_s": 10.0, "frames": 120, "drops": 5,
///      "lost_events": 0, "collector_overflow": 0, "events_not_examined": 0, "degraded": []}
///
/// `port` is null when the evidence does not place the finding at one port.
/// `lost_events` are ring-buffer records the kernel could not reserve (the reader fell
/// behind), `collector_overflow` events the collector received past its limit; their sum,
/// `events_not_examined`, is how much the rules could not look at. `degraded` says what
/// ran another way than designed on this kernel (fallbacks), one line each.
public enum DiagnoseJSON {
    public static func value(bridge: String, findings: [Finding], durationSeconds: Double? = nil,
                             frames: Int? = nil, drops: Int? = nil, lostEvents: UInt64? = nil,
                             collectorOverflow: UInt64? = nil, degraded: [String]? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("bridge", .string(bridge)),
            ("healthy", .bool(findings.isEmpty)),
            ("findings", .array(findings.map(finding))),
        ]
        if let durationSeconds { members.append(("duration_s", .double(durationSeconds))) }
        if let frames { members.append(("frames", .int(Int64(frames)))) }
        if let drops { members.append(("drops", .int(Int64(drops)))) }
        if let lostEvents { members.append(("lost_events", .uint(lostEvents))) }
        if let collectorOverflow { members.append(("collector_overflow", .uint(collectorOverflow))) }
        if lostEvents != nil || collectorOverflow != nil {
            members.append(("events_not_examined", .uint((lostEvents ?? 0) &+ (collectorOverflow ?? 0))))
        }
        if let degraded { members.append(("degraded", .array(degraded.map(JSONValue.string)))) }
        return .object(members)
    }

    public static func finding(_ finding: Finding) -> JSONValue {
        .object([
            ("cause", .string(finding.cause.rawValue)),
            ("port", finding.port.map { .string($0) } ?? .null),
            ("severity", .string(finding.severity.rawValue)),
            ("summary", .string(finding.summary)),
            ("evidence", .array(finding.evidence.map { .string($0) })),
            ("fix", .string(finding.fix)),
        ])
    }
}
