/// The cause codes of `diagnose --json` (DESIGN.md): one per fault class of FAULTS.md,
/// plus `not_forwarded` and `unknown_drop`. Stable contract: add, never rename.
public enum CauseCode: String, Sendable, CaseIterable, Equatable {
    case arpUnanswered = "arp_unanswered"
    case icmpUnanswered = "icmp_unanswered"
    case netfilterDrop = "netfilter_drop"
    case stpNotForwarding = "stp_not_forwarding"
    case portDown = "port_down"
    case noCarrier = "no_carrier"
    case mtuMismatch = "mtu_mismatch"
    case vlanMismatch = "vlan_mismatch"
    case ipConflict = "ip_conflict"
    case macFlapping = "mac_flapping"
    case arpSpoofing = "arp_spoofing"
    case portIsolated = "port_isolated"
    case dhcpUnanswered = "dhcp_unanswered"
    case upstreamMACFilter = "upstream_mac_filter"
    case dhcpMultipleServers = "dhcp_multiple_servers"
    case hostFirewallDrop = "host_firewall_drop"
    case brNetfilterDrop = "br_netfilter_drop"
    case portFloodOff = "port_flood_off"
    case subnetMismatch = "subnet_mismatch"
    case notForwarded = "not_forwarded"
    case unknownDrop = "unknown_drop"
}

public enum Severity: String, Sendable, Equatable, Comparable {
    case info, warning, error

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        let order: [Severity] = [.info, .warning, .error]
        return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
    }
}

/// One diagnosis: what is wrong, where, the evidence that shows it, and the command that
/// fixes it.
public struct Finding: Sendable, Equatable {
    public var cause: CauseCode
    /// The port the cause sits at (the bridge's name when it is bridge-wide); nil when the
    /// evidence does not place it at one port (the evidence then names the candidates).
    public var port: String?
    public var severity: Severity
    public var summary: String
    public var evidence: [String]
    public var fix: String

    public init(cause: CauseCode, port: String?, severity: Severity, summary: String, evidence: [String], fix: String) {
        self.cause = cause
        self.port = port
        self.severity = severity
        self.summary = summary
        self.evidence = evidence
        self.fix = fix
    }
}
