/// Netfilter drops that are not a bridge-family rule: the host's own input path
/// (host_firewall_drop, at the port named like the bridge: its own interface) and
/// iptables, ip6tables or arptables reached through br_netfilter (br_netfilter_drop).
/// The bridge family's drops stay netfilter_drop (DiagnosisDropRules.netfilter).
enum DiagnosisNetfilterRules {
    /// Where iptables-legacy's tables drop: never the bridge family's.
    static let legacyTableLocations: [String: NetfilterState.Family] = [
        "ipt_do_table": .ipv4, "ip6t_do_table": .ipv6, "arpt_do_table": .arp,
    ]

    /// The protocol family of the dropped frames, when they agree.
    static func family(_ group: DiagnosisDropRules.Group) -> NetfilterState.Family? {
        if let legacy = legacyTableLocations[group.location] { return legacy }
        let families = Set(group.journeys.compactMap { journey -> NetfilterState.Family? in
            if journey.decoded.arp != nil { return .arp }
            if journey.decoded.ipv4 != nil { return .ipv4 }
            if journey.decoded.ipv6 != nil { return .ipv6 }
            return nil
        })
        return families.count == 1 ? families.first : nil
    }

    /// The snapshots' netfilter states, the later first.
    static func netfilterStates(_ ctx: DiagnosisContext) -> [NetfilterState] {
        [ctx.input.stateAfter.netfilter, ctx.input.stateBefore.netfilter].compactMap { $0 }
    }

    // MARK: host_firewall_drop

    static func hostFirewall(_ ctx: DiagnosisContext, _ group: DiagnosisDropRules.Group, _ findings: inout DiagnosisFindingSet) {
        let traffic = DiagnosisTraffic.phrase(of: group.journeys.map(\.decoded))
        let ingress = DiagnosisDropRules.ingressPorts(group).filter { $0 != group.port }
        let handedUp = group.journeys.filter { $0.egress.contains { $0.port == group.port } }.count
        let family = family(group)
        let chains = netfilterStates(ctx).first.map { $0.inputDroppers(family) } ?? []
        var evidence = [DiagnosisDropRules.countLine(group) + ": the host's own stack (skb->dev is the bridge's interface)"]
        if handedUp > 0 {
            evidence.append("\(handedUp) of these frames left the bridge at \(group.port) (tx): "
                            + "delivered to the host, then dropped in its input path")
        }
        evidence += chains.map { "can drop: " + $0.description }
        evidence += DiagnosisTraffic.examples(group.journeys)
        let from = ingress.isEmpty ? "" : " enter at \(ingress.joinedAsList),"
        let summary = "\(traffic)\(from) reach the host (\(ctx.bridge)) and are dropped by its own firewall "
            + "(\(group.reason) in \(group.location), input path)"
        findings.add(Finding(cause: .hostFirewallDrop, port: group.port, severity: .error, summary: summary,
                             evidence: evidence, fix: hostFirewallFix(ctx, group, family: family, chains: chains)))
    }

    static func hostFirewallFix(_ ctx: DiagnosisContext, _ group: DiagnosisDropRules.Group, family: NetfilterState.Family?,
                                chains: [NetfilterState.Chain]) -> String {
        let allow = allowMatch(group)
        let chosen = chains.first { $0.dropRules > 0 } ?? chains.first
        let legacy = chosen?.table.hasSuffix("(legacy)") ?? false
        guard let chain = chosen, !legacy, legacyTableLocations[group.location] == nil else {
            let tool = (family?.tool ?? "iptables") + (legacy ? "-legacy" : "")
            return "\(tool) -L INPUT -v -n --line-numbers   # find the rule that drops this traffic; delete it "
                + "(\(tool) -D INPUT <N>) or allow it first: \(tool) -I INPUT -i \(ctx.bridge)\(allow.iptables) -j ACCEPT"
        }
        return "nft -a list chain \(chain.family) \(chain.table) \(chain.name)   # find the rule that drops this traffic; "
            + "delete it (nft delete rule \(chain.family) \(chain.table) \(chain.name) handle <N>) or allow it first: "
            + "nft insert rule \(chain.family) \(chain.table) \(chain.name) iifname \(ctx.bridge)\(allow.nft) accept"
    }

    /// A match for the dropped traffic, in nft's and iptables' words (" icmp type echo-request").
    static func allowMatch(_ group: DiagnosisDropRules.Group) -> (nft: String, iptables: String) {
        let decoded = group.journeys.map(\.decoded)
        if decoded.allSatisfy({ $0.icmp.map { $0.type == 8 } ?? false }) {
            return (" icmp type echo-request", " -p icmp --icmp-type echo-request")
        }
        if let port = decoded.first?.destinationPort, decoded.allSatisfy({ $0.destinationPort == port }) {
            let proto = decoded.first?.udp != nil ? "udp" : "tcp"
            return (" \(proto) dport \(port)", " -p \(proto) --dport \(port)")
        }
        return ("", "")
    }

    // MARK: br_netfilter_drop

    /// Why a netfilter drop at a port is iptables reached through br_netfilter, as evidence
    /// lines; nil when it is (or may be) the bridge family's.
    static func brNetfilterEvidence(_ ctx: DiagnosisContext, _ group: DiagnosisDropRules.Group) -> [String]? {
        guard let family = family(group) else { return nil }
        if legacyTableLocations[group.location] != nil {
            return ["the drop is in \(group.location): an \(family.tool)-legacy table; the bridge family never runs there"]
                + sysctlLines(ctx, family)
        }
        // nft_do_chain: nft or iptables-nft; nf_hook_slow: a legacy table's verdict.
        guard group.location.hasPrefix("nft_") || group.location == "nf_hook_slow",
              let state = netfilterStates(ctx).first(where: \.rulesetRead),
              state.brNetfilterCalls(family) == true else { return nil }
        let droppers = state.brNetfilterDroppers(family)
        // A bridge-family chain that could have dropped it too: not provable either way.
        guard !droppers.isEmpty, state.bridgeFamilyDroppers.isEmpty else { return nil }
        return sysctlLines(ctx, family) + droppers.map { "can drop: " + $0.description }
            + ["no bridge-family chain can drop forwarded frames: the drop is in the \(family.tool) "
               + "chain\(droppers.count == 1 ? "" : "s") above"]
    }

    static func sysctlLines(_ ctx: DiagnosisContext, _ family: NetfilterState.Family) -> [String] {
        guard let value = netfilterStates(ctx).first?.brNetfilterCalls(family) else { return [] }
        return ["\(family.sysctl) = \(value ? 1 : 0) in the bridge's namespace: bridged \(family.displayName) "
                + "frames \(value ? "go" : "do not go") through the \(family.tool) chains (br_netfilter)"]
    }

    static func brNetfilter(_ ctx: DiagnosisContext, _ group: DiagnosisDropRules.Group, evidence lines: [String],
                            _ findings: inout DiagnosisFindingSet) {
        let family = family(group) ?? .ipv4
        let traffic = DiagnosisTraffic.phrase(of: group.journeys.map(\.decoded))
        let ingress = DiagnosisDropRules.ingressPorts(group).filter { $0 != group.port }
        let how = "by \(family.tool) through br_netfilter (\(group.reason) in \(group.location))"
        let summary = ingress.isEmpty
            ? "\(traffic) are dropped at \(group.port) \(how)"
            : "\(traffic) enter at \(ingress.joinedAsList) and are dropped on the way to \(group.port) \(how)"
        // arptables has no physdev match: its way out is the policy or the rule.
        let accept = family == .arp
            ? "arptables -L FORWARD -n --line-numbers, then remove the rule or arptables -P FORWARD ACCEPT"
            : "\(family.tool) -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT"
        let fix = "sysctl -w \(family.sysctl)=0   # bridged frames skip \(family.tool) (persist it in /etc/sysctl.d); "
            + "or keep it and accept bridged traffic: " + accept
        findings.add(Finding(cause: .brNetfilterDrop, port: group.port, severity: .error, summary: summary,
                             evidence: [DiagnosisDropRules.countLine(group)] + lines + DiagnosisTraffic.examples(group.journeys),
                             fix: fix))
    }
}
