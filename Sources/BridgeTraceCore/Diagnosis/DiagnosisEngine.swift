/// The diagnosis: a pure, deterministic function from what `diagnose` watched to findings.
/// No clock, no kernel, no randomness: the same input gives the same findings, in the
/// same order (errors first, then by port).
///
/// The rules run in order, and later rules leave alone what earlier ones explain:
/// 1. port state: port_down, no_carrier (also a tap's growing tx_dropped), stp_not_forwarding;
/// 2. drops: netfilter_drop, mtu_mismatch, drop evidence for 1, port_isolated, unknown_drop;
/// 3. mac_flapping; 4. ip_conflict / arp_spoofing; 5. vlan_mismatch;
/// 6. journeys that vanished: port_isolated, mtu_mismatch, not_forwarded;
/// 7. broadcasts from an isolated port that reached no isolated port: port_isolated;
/// 8. dhcp_multiple_servers; 9. upstream_mac_filter (some MACs answered, others not);
/// 10. port_flood_off (unknown unicast that never reaches a port with flooding off);
/// 11. subnet_mismatch (a host alone in another subnet, asking unanswered);
/// 12. unanswered requests: arp_unanswered, icmp_unanswered, dhcp_unanswered.
/// Drops (2) include host_firewall_drop (at the bridge's own interface) and
/// br_netfilter_drop (iptables reached through br_netfilter).
///
/// Pure and cheap enough to call again and again over a sliding window (the exporter does).
public enum DiagnosisEngine {
    public static func diagnose(_ input: DiagnosisInput) -> [Finding] {
        let ctx = DiagnosisContext(input)
        var findings = DiagnosisFindingSet()
        DiagnosisPortStateRules.apply(ctx, &findings)
        DiagnosisDropRules.apply(ctx, &findings)
        var claims = DiagnosisClaims()
        claims.flapping = DiagnosisMACFlappingRule.apply(ctx, &findings)
        claims.misbound = DiagnosisARPBindingRules.apply(ctx, &findings, flapping: claims.flapping)
        claims.vlans = DiagnosisVLANRule.apply(ctx, &findings)
        DiagnosisJourneyRules.apply(ctx, &findings)
        DiagnosisIsolationRule.apply(ctx, &findings)
        DiagnosisDHCPServersRule.apply(ctx, &findings)
        claims.filtered = DiagnosisMACFilterRule.apply(ctx, &findings, claims: claims)
        claims.floodOff = DiagnosisFloodRule.apply(ctx, &findings)
        claims.misaddressed = DiagnosisSubnetRule.apply(ctx, &findings)
        DiagnosisUnansweredRules.apply(ctx, &findings, claims: claims)
        return findings.sorted
    }

    /// The journeys the engine builds from the input (for `diagnose --journey`-style output
    /// and for tests).
    public static func journeys(_ input: DiagnosisInput) -> [Journey] {
        DiagnosisContext(input).journeys
    }
}
