/// Rules from the kernel's drops, grouped by (port, reason, location): netfilter_drop,
/// mtu_mismatch, the drop evidence of stp_not_forwarding / port_down / no_carrier /
/// port_isolated, and unknown_drop for the rest.
enum DiagnosisDropRules {
    struct Group {
        var port: String
        var reason: String
        var location: String
        var drops: [DropRecord] = []
        var journeys: [Journey] = []
        /// Drops with this key that were counted, not kept (`DiagnosisInput.countedDrops`).
        var counted: UInt64 = 0
    }

    /// Reasons that are no fault on a bridge port: frames the bridge passed up to the port
    /// device on purpose (link-local groups such as LLDP) that no protocol handler wants.
    static let benignReasons: Set<String> = ["UNHANDLED_PROTO"]

    static let forwardingLocations: Set<String> = ["br_handle_frame_finish", "br_forward", "br_flood", "br_handle_frame"]
    static let mtuLocations: Set<String> = ["br_dev_queue_push_xmit", "br_nf_dev_queue_xmit", "is_skb_forwardable",
                                            "__dev_forward_skb", "__dev_forward_skb2"]

    static func groups(_ ctx: DiagnosisContext) -> [Group] {
        var groups: [String: Group] = [:]
        var order: [String] = []
        for journey in ctx.journeys {
            for drop in journey.drops {
                let key = drop.port + "\u{0}" + drop.reason + "\u{0}" + drop.location
                if groups[key] == nil {
                    groups[key] = Group(port: drop.port, reason: drop.reason, location: drop.location)
                    order.append(key)
                }
                groups[key]!.drops.append(drop)
                if groups[key]!.journeys.last != journey { groups[key]!.journeys.append(journey) }
            }
        }
        for count in ctx.input.countedDrops {
            let key = count.port + "\u{0}" + count.reason + "\u{0}" + count.location
            groups[key]?.counted += count.count
        }
        return order.map { groups[$0]! }
    }

    /// Reasons of congestion: a queue that was full. Of bulk traffic (frames the rules do
    /// not follow: background UDP or TCP), that is load, not why a VM cannot reach its
    /// peers; of ARP, ICMP or DHCP it is reported.
    static let congestionReasons: Set<String> = ["QDISC_DROP", "TC_EGRESS", "FULL_RING", "CPU_BACKLOG"]

    static func isCongestionOfBulk(_ group: Group) -> Bool {
        congestionReasons.contains(group.reason) && group.journeys.allSatisfy { journey in
            let kind = journey.decoded.kind
            return kind != .arp && kind != .icmp && kind != .icmp6 && kind != .dhcp && !journey.decoded.isTagged
        }
    }

    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) {
        for group in groups(ctx) where !benignReasons.contains(group.reason) && !isCongestionOfBulk(group)
            && !isHostNoise(ctx, group) {
            if let reason = DiagnosisSwitchDropRule.reason(of: group) {
                DiagnosisSwitchDropRule.apply(ctx, group, reason, &findings)
            } else if isNetfilter(group) {
                if group.port == ctx.bridge {
                    DiagnosisNetfilterRules.hostFirewall(ctx, group, &findings)
                } else if let evidence = DiagnosisNetfilterRules.brNetfilterEvidence(ctx, group) {
                    DiagnosisNetfilterRules.brNetfilter(ctx, group, evidence: evidence, &findings)
                } else {
                    netfilter(ctx, group, &findings)
                }
            } else if group.reason == "BRIDGE_INGRESS_STP_STATE" {
                stpIngress(ctx, group, &findings)
            } else if group.reason == "DEV_READY" || group.location == "tun_net_xmit" {
                deviceNotReady(ctx, group, &findings)
            } else if mtuLocations.contains(group.location) || group.reason == "PKT_TOO_BIG",
                      mtu(ctx, group, &findings) {
                continue
            } else if forwardingLocations.contains(group.location),
                      group.reason == "NO_TX_TARGET" || group.reason == "NOT_SPECIFIED",
                      noTarget(ctx, group, &findings) {
                continue
            } else {
                unknown(ctx, group, &findings)
            }
        }
    }

    /// The host's stack freeing what it does not want, at its own port: broadcasts and
    /// multicast handed up that no socket listens for (a DHCP discover reaches the host
    /// too), frames for another host, datagrams to a port nobody listens on. Netfilter
    /// drops there are host_firewall_drop, never noise.
    static let hostNoiseReasons: Set<String> = ["NO_SOCKET", "OTHERHOST", "UNHANDLED_PROTO", "SOCKET_FILTER"]

    static func isHostNoise(_ ctx: DiagnosisContext, _ group: Group) -> Bool {
        guard group.port == ctx.bridge, !isNetfilter(group) else { return false }
        if hostNoiseReasons.contains(group.reason) { return true }
        return !group.journeys.isEmpty && group.journeys.allSatisfy { $0.decoded.dstMAC?.isMulticast ?? false }
    }

    static func isNetfilter(_ group: Group) -> Bool {
        group.reason.hasPrefix("NETFILTER") || group.location.hasPrefix("nft_") || group.location.hasPrefix("ebt_")
            || group.location == "nf_hook_slow" || DiagnosisNetfilterRules.legacyTableLocations[group.location] != nil
    }

    static func countLine(_ group: Group) -> String {
        let first = group.drops.first!.monotonicNs, last = group.drops.last!.monotonicNs
        let total = group.drops.count + Int(group.counted)
        let span = group.counted > 0 ? "during the watch (\(group.drops.count) kept one by one)" : DiagnosisTraffic.span(first, last)
        return "\(DiagnosisTraffic.count(total, "drop")) \(group.reason) in \(group.location) on \(group.port) "
            + "(skb->dev) \(span)"
    }

    /// The ports where the dropped frames entered, most frequent first.
    static func ingressPorts(_ group: Group) -> [String] {
        var counts: [String: Int] = [:]
        for journey in group.journeys { if let port = journey.ingress?.port { counts[port, default: 0] += 1 } }
        return counts.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }.map(\.key)
    }

    static func netfilter(_ ctx: DiagnosisContext, _ group: Group, _ findings: inout DiagnosisFindingSet) {
        let traffic = DiagnosisTraffic.phrase(of: group.journeys.map(\.decoded))
        let ingress = ingressPorts(group).filter { $0 != group.port }
        let how = "by netfilter (\(group.reason) in \(group.location))"
        let summary = ingress.isEmpty
            ? "\(traffic) are dropped at \(group.port) \(how)"
            : "\(traffic) enter at \(ingress.joinedAsList) and are dropped on the way to \(group.port) \(how)"
        let fix: String
        if group.location.hasPrefix("ebt_") {
            fix = "ebtables -L --Lc   # find the rule that drops this traffic, then remove it with ebtables -D"
        } else {
            fix = "nft -a list ruleset bridge   # find the rule that drops this traffic, then: "
                + "nft delete rule bridge <table> <chain> handle <N>"
        }
        findings.add(Finding(cause: .netfilterDrop, port: group.port, severity: .error, summary: summary,
                             evidence: [countLine(group)] + DiagnosisTraffic.examples(group.journeys), fix: fix))
    }

    static func stpIngress(_ ctx: DiagnosisContext, _ group: Group, _ findings: inout DiagnosisFindingSet) {
        // With STP on, a blocking port dropping what enters is STP cutting a loop.
        if ctx.stpEnabled, ctx.after[group.port]?.stpState == .blocking { return }
        let line = countLine(group) + ": frames entering at \(group.port) are dropped by its STP state"
        for cause in [CauseCode.stpNotForwarding, .portDown, .noCarrier]
        where findings.addEvidence([line], cause: cause, port: group.port) { return }
        let state = ctx.after[group.port]?.stpState.name ?? "unknown"
        findings.add(Finding(
            cause: .stpNotForwarding, port: group.port, severity: .error,
            summary: "Frames entering at \(group.port) are dropped because of its STP state (now \(state))",
            evidence: [line] + DiagnosisTraffic.examples(group.journeys),
            fix: DiagnosisPortStateRules.stpFix(ctx, group.port)))
    }

    static func deviceNotReady(_ ctx: DiagnosisContext, _ group: Group, _ findings: inout DiagnosisFindingSet) {
        let line = countLine(group) + ": \(group.port) could not take the frames sent to it"
        if findings.addEvidence([line], cause: .noCarrier, port: group.port)
            || findings.addEvidence([line], cause: .portDown, port: group.port) { return }
        let kind = (ctx.after[group.port] ?? ctx.before[group.port])?.kind
        findings.add(Finding(
            cause: .noCarrier, port: group.port, severity: .error,
            summary: "Frames sent out of \(group.port) are dropped because nothing reads its other end "
                + "(\(group.reason) in \(group.location))",
            evidence: [line] + DiagnosisPortStateRules.txDroppedEvidence(ctx, group.port)
                + DiagnosisTraffic.examples(group.journeys),
            fix: DiagnosisPortStateRules.noCarrierFix(group.port, kind: kind)))
    }

    /// The L3 length of a dropped frame: the IPv4/IPv6 length fields when the bytes have
    /// them, else the longest length seen less the Ethernet header.
    static func l3Length(_ journey: Journey, _ drop: DropRecord) -> Int {
        if let ipv4 = journey.decoded.ipv4 { return Int(ipv4.totalLength) }
        if let ipv6 = journey.decoded.ipv6 { return Int(ipv6.payloadLength) + 40 }
        return max(journey.length, drop.length) - 14 - 4 * journey.decoded.vlans.count
    }

    static func mtu(_ ctx: DiagnosisContext, _ group: Group, _ findings: inout DiagnosisFindingSet) -> Bool {
        guard let mtu = ctx.mtu(group.port) else { return false }
        var biggest = 0
        for journey in group.journeys {
            for drop in journey.drops where drop.port == group.port && drop.location == group.location {
                biggest = max(biggest, l3Length(journey, drop))
            }
        }
        guard biggest > Int(mtu) else { return false }
        let senders = ingressPorts(group)
        let senderMTUs = senders.compactMap { port in ctx.mtu(port).map { "\(port) MTU \($0)" } }
        let from = senders.isEmpty ? "" : " from \(senders.joinedAsList)"
        let firstSender = senders.first ?? "<sender port>"
        let senderMTU = senders.first.flatMap(ctx.mtu).map(String.init) ?? "<its MTU>"
        findings.add(Finding(
            cause: .mtuMismatch, port: group.port, severity: .error,
            summary: "Packets of up to \(biggest) bytes\(from) are too big for \(group.port) (MTU \(mtu)) "
                + "and are dropped there",
            evidence: [countLine(group), "largest packet \(biggest) bytes > \(group.port) MTU \(mtu)"]
                + (senderMTUs.isEmpty ? [] : ["sender side: " + senderMTUs.joined(separator: ", ")])
                + DiagnosisTraffic.examples(group.journeys),
            fix: "make the MTUs agree: ip link set dev \(firstSender) mtu \(mtu) (and the same inside the host behind it), "
                + "or raise \(group.port) and everything behind it: ip link set dev \(group.port) mtu \(senderMTU)"))
        return true
    }

    /// NO_TX_TARGET / NOT_SPECIFIED in the forwarding path on the sender's port: the
    /// frames had nowhere to go, because the port they were for is down, has no carrier,
    /// does not forward, or is isolated.
    static func noTarget(_ ctx: DiagnosisContext, _ group: Group, _ findings: inout DiagnosisFindingSet) -> Bool {
        let stopping: [CauseCode] = [.portDown, .noCarrier, .stpNotForwarding]
        // Frames for a MAC that lives behind the port they came in on are dropped rightly
        // (two hosts on the uplink's segment talking): no fault.
        let elsewhere = group.journeys.filter { journey in
            guard let dst = journey.decoded.dstMAC, !dst.isMulticast else { return true }
            return ctx.macHome[dst] != group.port
        }
        if elsewhere.isEmpty { return true }
        // A port in STP learning drops what enters at it in br_handle_frame_finish.
        if findings.has(.stpNotForwarding, at: group.port), ctx.snapshots(group.port).contains(where: { $0.stpState == .learning }) {
            findings.addEvidence([countLine(group) + ": frames entering at \(group.port) are learned, not forwarded"],
                                 cause: .stpNotForwarding, port: group.port)
            return true
        }
        var targets = ctx.portNames.filter { port in
            port != group.port && stopping.contains { findings.has($0, at: port) }
        }
        // The dropped frames' destination MACs, where the FDB or the traffic put them.
        let homes = Set(group.journeys.compactMap { $0.decoded.dstMAC }.compactMap { ctx.macHome[$0] })
        if targets.count > 1, !homes.isDisjoint(with: targets) { targets = targets.filter(homes.contains) }
        let traffic = DiagnosisTraffic.phrase(of: group.journeys.map(\.decoded))
        if !targets.isEmpty {
            let line = countLine(group) + ": \(traffic) entering at \(group.port) had no port to go to"
            for target in targets {
                for cause in stopping where findings.addEvidence([line], cause: cause, port: target) { break }
            }
            return true
        }
        if ctx.isIsolated(group.port) {
            let others = ctx.portNames.filter { $0 != group.port && ctx.isIsolated($0) }
            findings.add(isolatedFinding(ctx, port: group.port, isolatedPeers: others,
                                         evidence: [countLine(group) + ": \(traffic) entering at \(group.port) "
                                                    + "were not forwarded to isolated ports"]
                                                    + DiagnosisTraffic.examples(group.journeys)))
            return true
        }
        return false
    }

    static func isolatedFinding(_ ctx: DiagnosisContext, port: String, isolatedPeers: [String],
                                evidence: [String]) -> Finding {
        let peers = isolatedPeers.isEmpty ? "" : " (so \(isolatedPeers.count == 1 ? "is" : "are") \(isolatedPeers.joinedAsList))"
        return Finding(
            cause: .portIsolated, port: port, severity: .error,
            summary: "Port \(port) is isolated\(peers): frames entering at \(port) may not leave through another "
                + "isolated port, so they never get there, without a drop event",
            evidence: ["\(port): isolated on" + (isolatedPeers.isEmpty ? "" : "; also isolated: \(isolatedPeers.joined(separator: ", "))")]
                + evidence,
            fix: "bridge link set dev \(port) isolated off"
                + (isolatedPeers.isEmpty ? "" : "   # or, if \(port) must stay apart from the other isolated ports: "
                    + isolatedPeers.map { "bridge link set dev \($0) isolated off" }.joined(separator: "; ")))
    }

    static func unknown(_ ctx: DiagnosisContext, _ group: Group, _ findings: inout DiagnosisFindingSet) {
        let traffic = DiagnosisTraffic.phrase(of: group.journeys.map(\.decoded))
        var fix = "bridgetrace trace \(ctx.bridge) --journey   # to follow these frames; "
            + "the reason is the kernel's (enum skb_drop_reason), the location the function that dropped them"
        if group.reason == "MAC_INVALID_SOURCE" {
            fix = "fix the sender behind \(group.port): its frames carry an all-zero or multicast source MAC "
                + "(a packet tool that does not set the source?)"
        }
        findings.add(Finding(
            cause: .unknownDrop, port: group.port, severity: .warning,
            summary: "\(traffic) are dropped at \(group.port) by the kernel (\(group.reason) in \(group.location)), "
                + "for a reason no rule explains",
            evidence: [countLine(group)] + DiagnosisTraffic.examples(group.journeys),
            fix: fix))
    }
}
