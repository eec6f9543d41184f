/// The findings the rules have made so far, one per (cause, port): a second finding for
/// the same pair adds its evidence to the first. Later rules ask it what is already
/// explained.
struct DiagnosisFindingSet {
    private(set) var items: [Finding] = []

    /// Causes that stop all frames at a port: silence from behind that port is explained
    /// by them. (netfilter_drop, mtu_mismatch and vlan_mismatch stop some traffic only;
    /// the frames they stop never leave, so the unanswered rules do not count them.)
    static let blockingCauses: Set<CauseCode> = [.portDown, .noCarrier, .stpNotForwarding, .portIsolated]

    mutating func add(_ finding: Finding) {
        if let index = items.firstIndex(where: { $0.cause == finding.cause && $0.port == finding.port }) {
            items[index].severity = max(items[index].severity, finding.severity)
            for line in finding.evidence where !items[index].evidence.contains(line) {
                items[index].evidence.append(line)
            }
        } else {
            items.append(finding)
        }
    }

    /// Adds evidence lines to an existing finding; false when there is none.
    @discardableResult
    mutating func addEvidence(_ lines: [String], cause: CauseCode, port: String) -> Bool {
        guard let index = items.firstIndex(where: { $0.cause == cause && $0.port == port }) else { return false }
        for line in lines where !items[index].evidence.contains(line) { items[index].evidence.append(line) }
        return true
    }

    func has(_ cause: CauseCode, at port: String) -> Bool {
        items.contains { $0.cause == cause && $0.port == port }
    }

    func causes(at port: String) -> [CauseCode] {
        items.filter { $0.port == port }.map(\.cause)
    }

    /// Whether some finding stops frames at `port`.
    func isBlocking(_ port: String) -> Bool {
        items.contains { $0.port == port && Self.blockingCauses.contains($0.cause) }
    }

    var anyBlocking: Bool { items.contains { Self.blockingCauses.contains($0.cause) } }

    /// Errors first, then by port, then by cause code.
    var sorted: [Finding] {
        items.sorted { a, b in
            if a.severity != b.severity { return a.severity > b.severity }
            if a.port != b.port { return (a.port ?? "") < (b.port ?? "") }
            if a.cause != b.cause { return a.cause.rawValue < b.cause.rawValue }
            return a.summary < b.summary
        }
    }
}
