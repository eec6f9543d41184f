/// What the earlier rules already explain, so that the "unanswered" rules do not report
/// the echo of a fault as a second fault.
struct DiagnosisClaims {
    /// (port, VID) pairs reported as vlan_mismatch.
    var vlans: Set<DiagnosisVLANRule.Key> = []
    /// MACs reported as mac_flapping.
    var flapping: Set<MACAddress> = []
    /// MACs reported as arp_spoofing or ip_conflict claimants.
    var misbound: Set<MACAddress> = []
    /// (source MAC, target IP) pairs reported as upstream_mac_filter.
    var filtered: Set<DiagnosisMACFilterRule.Key> = []
    /// MACs whose unicast never reaches their port (port_flood_off).
    var floodOff: Set<MACAddress> = []
    /// Hosts reported as subnet_mismatch (their sender IPs).
    var misaddressed: Set<IPv4Address> = []

    func isFiltered(_ mac: MACAddress?, _ target: IPv4Address) -> Bool {
        guard let mac else { return false }
        return filtered.contains(DiagnosisMACFilterRule.Key(mac: mac, target: target))
    }

    enum Verdict { case report, explained, isolated(askerPort: String, peers: [String]) }

    /// Whether unanswered requests from `asker` (a port, or the bridge) for `target`,
    /// which left through `outPorts`, are explained by another finding.
    func judge(_ ctx: DiagnosisContext, _ findings: DiagnosisFindingSet, asker: String, target: IPv4Address,
               vlan: UInt16?, outPorts: [String], dstMAC: MACAddress? = nil) -> Verdict {
        if let dstMAC, misbound.contains(dstMAC) || flapping.contains(dstMAC) { return .explained }
        if let vlan, vlans.contains(DiagnosisVLANRule.Key(port: asker, vid: vlan)) { return .explained }
        if findings.isBlocking(asker) { return .explained }
        if outPorts.contains(where: findings.isBlocking) { return .explained }
        let home = ctx.ipHome[target]
        if let home {
            if findings.isBlocking(home.port) || flapping.contains(home.mac) { return .explained }
        } else if findings.anyBlocking {
            return .explained  // not seen at all: likely behind the port that stops frames
        }
        if ctx.isIsolated(asker) {
            let peers = ctx.portNames.filter { $0 != asker && ctx.isIsolated($0) }
            if let home, peers.contains(home.port) { return .isolated(askerPort: asker, peers: peers) }
            if home == nil, !peers.isEmpty { return .isolated(askerPort: asker, peers: peers) }
        }
        return .report
    }
}
