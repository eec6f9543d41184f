/// Drops of a `bridgetrace switch`, with its own reasons (SwitchDropReason): the kernel's
/// rules know neither the reasons nor the locations. VLAN_NOT_ALLOWED is vlan_mismatch,
/// PORT_DOWN port_down, MTU_EXCEEDED mtu_mismatch; the rest (NO_PORT, HAIRPIN, FDB_FULL,
/// the AF_XDP rings) are unknown_drop, said in the switch's terms.
enum DiagnosisSwitchDropRule {
    /// The switch reason of a drop group, when it is one (name and location both match).
    static func reason(of group: DiagnosisDropRules.Group) -> SwitchDropReason? {
        guard let reason = SwitchDropReason.named(group.reason), reason.location == group.location else { return nil }
        return reason
    }

    static func apply(_ ctx: DiagnosisContext, _ group: DiagnosisDropRules.Group, _ reason: SwitchDropReason,
                      _ findings: inout DiagnosisFindingSet) {
        let traffic = DiagnosisTraffic.phrase(of: group.journeys.map(\.decoded))
        let total = group.drops.count + Int(group.counted)
        let evidence = ["\(DiagnosisTraffic.count(total, "drop")) \(reason.name) in \(reason.location) on \(group.port) "
                        + "during the watch"] + DiagnosisTraffic.examples(group.journeys)
        let vids = Set(group.journeys.compactMap { $0.decoded.vlans.first?.vid }).sorted()
        let carried = vids.isEmpty ? "untagged frames (no access VLAN or --native)"
            : "VLAN " + vids.map(String.init).joined(separator: ", ")
        switch reason {
        case .vlanNotAllowed:
            findings.add(Finding(
                cause: .vlanMismatch, port: group.port, severity: .error,
                summary: "\(traffic) are dropped at \(group.port): the switch port does not carry \(carried) (VLAN_NOT_ALLOWED)",
                evidence: evidence,
                fix: "restart the switch with the VLAN on \(group.port) (--trunk \(group.port)=VID,.. or --access \(group.port)=VID), "
                    + "or make the sender behind \(group.port) use a VLAN the port carries (`bridgetrace switch show \(ctx.bridge)`)"))
        case .portDown:
            findings.add(Finding(
                cause: .portDown, port: group.port, severity: .error,
                summary: "\(traffic) for \(group.port) are dropped by the switch: the port is down (PORT_DOWN)",
                evidence: evidence, fix: "ip link set dev \(group.port) up   # and check the device behind it (VM running? cable?)"))
        case .mtuExceeded:
            findings.add(Finding(
                cause: .mtuMismatch, port: group.port, severity: .error,
                summary: "\(traffic) are too large for the MTU of \(group.port): the switch drops them (MTU_EXCEEDED)",
                evidence: evidence, fix: "give \(group.port) the MTU of the other ports (ip link set dev \(group.port) mtu N), or lower the sender's"))
        default:
            findings.add(Finding(
                cause: .unknownDrop, port: group.port, severity: .warning,
                summary: "\(traffic) are dropped at \(group.port) by the switch (\(reason.name) in \(reason.location))",
                evidence: evidence,
                fix: "bridgetrace switch show \(ctx.bridge)   # ports, FDB and drop counts; \(hint(reason))"))
        }
    }

    static func hint(_ reason: SwitchDropReason) -> String {
        switch reason {
        case .hairpin: return "HAIRPIN: the destination MAC was learned on the port the frame came in on (a loop, or a MAC move not seen yet)"
        case .noPort: return "NO_PORT: the destination port left the switch or its AF_XDP socket is missing"
        case .fdbFull: return "FDB_FULL: raise --fdb-max; sources are not learned, so their frames are flooded"
        case .xskRxRingFull, .xskTxRingFull: return "\(reason.name): the switch's userspace falls behind (CPU?)"
        default: return reason.name
        }
    }
}
