/// `diagnose --json`: one object, DESIGN.md's contract field for field.
///
///     {"bridge": "br0", "healthy": false,
///      "findings": [{"cause": "netfilter_drop", "port": "eth0", "severity": "error",
///                    "summary": "...", "evidence": ["..."], "fix": "..."}],
///      "duration_s": 10.0, "frames": 120, "drops": 5}
public enum DiagnoseJSON {
    public static func value(bridge: String, findings: [Finding], durationSeconds: Double? = nil,
                             frames: Int? = nil, drops: Int? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("bridge", .string(bridge)),
            ("healthy", .bool(findings.isEmpty)),
            ("findings", .array(findings.map(finding))),
        ]
        if let durationSeconds { members.append(("duration_s", .double(durationSeconds))) }
        if let frames { members.append(("frames", .int(Int64(frames)))) }
        if let drops { members.append(("drops", .int(Int64(drops)))) }
        return .object(members)
    }

    public static func finding(_ finding: Finding) -> JSONValue {
        .object([
            ("cause", .string(finding.cause.rawValue)),
            ("port", .string(finding.port)),
            ("severity", .string(finding.severity.rawValue)),
            ("summary", .string(finding.summary)),
            ("evidence", .array(finding.evidence.map { .string($0) })),
            ("fix", .string(finding.fix)),
        ])
    }
}
