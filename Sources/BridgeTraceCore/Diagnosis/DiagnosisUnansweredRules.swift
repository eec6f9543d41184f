/// arp_unanswered, icmp_unanswered, dhcp_unanswered: requests that left the bridge and got
/// no answer, for long enough to mean it. They run last, and stay quiet when another
/// finding already explains the silence.
enum DiagnosisUnansweredRules {
    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet, claims: DiagnosisClaims) {
        arp(ctx, &findings, claims)
        icmp(ctx, &findings, claims)
        dhcp(ctx, &findings, claims)
    }

    static func enough(_ ctx: DiagnosisContext, _ journeys: [Journey], target: IPv4Address?, count: Int,
                       span: Double) -> Bool {
        if let target, target == ctx.probeTarget, journeys.count >= ctx.thresholds.probeRequests { return true }
        return journeys.count >= count
            && DiagnosisContext.seconds(journeys.first!.startNs, journeys.last!.startNs) >= span
    }

    /// Dropped where it left the bridge (the host's input path behind its own port): the
    /// drop rules explain the silence.
    static func droppedAfterLeaving(_ journey: Journey) -> Bool {
        journey.drops.contains { drop in journey.egress.contains { $0.port == drop.port } }
    }

    static func counted(_ values: [String]) -> [String] {
        var counts: [String: Int] = [:]
        for value in values { counts[value, default: 0] += 1 }
        return counts.sorted { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }.map(\.key)
    }

    /// Reports port_isolated instead when the silence is isolation's.
    static func report(_ verdict: DiagnosisClaims.Verdict, _ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet,
                       evidence: [String], _ finding: () -> Finding) {
        switch verdict {
        case .explained: return
        case .isolated(let asker, let peers):
            findings.add(DiagnosisDropRules.isolatedFinding(ctx, port: asker, isolatedPeers: peers, evidence: evidence))
        case .report: findings.add(finding())
        }
    }

    // MARK: ARP

    static func arp(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet, _ claims: DiagnosisClaims) {
        var answered = Set<IPv4Address>()
        for event in ctx.events {
            if let arp = event.decoded.arp, arp.op == .reply, let sender = arp.senderIP { answered.insert(sender) }
        }
        var requests: [IPv4Address: [Journey]] = [:]
        for journey in ctx.journeys where !journey.egress.isEmpty && !droppedAfterLeaving(journey) {
            guard let arp = journey.decoded.arp, arp.isEthernetIPv4, arp.op == .request, let target = arp.targetIP,
                  let sender = arp.senderIP, sender != .any, sender != target, !answered.contains(target),
                  !claims.isFiltered(journey.decoded.srcMAC, target), !claims.misaddressed.contains(sender),
                  !(journey.decoded.dstMAC.map(claims.floodOff.contains) ?? false) else { continue }
            requests[target, default: []].append(journey)
        }
        for target in requests.keys.sorted() {
            let journeys = requests[target]!
            let quiet = !enough(ctx, journeys, target: target, count: ctx.thresholds.unansweredARPRequests,
                                span: ctx.thresholds.unansweredARPMinSpanSeconds)
            // A quiet sender: a failed neighbour is asked again only every several seconds.
            guard !quiet || ctx.quietlyUnanswered(journeys) else { continue }
            let asker = counted(journeys.map { $0.ingress?.port ?? ctx.bridge })[0]
            // Asked from a LAN segment: the answer may stay on the LAN.
            if ctx.isSegment(asker), target != ctx.probeTarget { continue }
            let askers = Set(journeys.compactMap { $0.decoded.arp?.senderIP }).sorted().map(\.description)
            let outPorts = counted(journeys.flatMap { $0.egress.map(\.port) })
            let fromWhere = asker == ctx.bridge ? "sent by the bridge host" : "entering at \(asker)"
            var evidence = [
                "\(DiagnosisTraffic.count(journeys.count, "ARP request")) for \(target) from \(askers.joinedAsList) "
                    + "\(fromWhere) \(DiagnosisTraffic.span(journeys.first!.startNs, journeys.last!.startNs)), "
                    + "sent out of \(outPorts.joined(separator: ", "))",
                "no ARP reply from \(target) was seen" + (ctx.silence(after: journeys).map { " in the \($0) that followed" } ?? ""),
                ctx.whereIs(target),
            ]
            let own = ctx.bridgeAddresses
            if quiet, let probeFrom = own.sorted().first, !own.contains(target) {
                evidence.append("only \(DiagnosisTraffic.count(journeys.count, "request")) seen (a host that failed to "
                    + "resolve asks again only every few seconds); to ask \(target) from the bridge (\(probeFrom)): "
                    + "bridgetrace diagnose \(ctx.bridge) --host \(target) --probe")
            }
            let verdict = claims.judge(ctx, findings, asker: asker, target: target,
                                       vlan: journeys.first!.ingress?.vlans.first, outPorts: [])
            report(verdict, ctx, &findings, evidence: evidence) {
                if own.contains(target) {
                    // The host's own address: it got the requests (tx at its port) and said nothing.
                    return Finding(
                        cause: .arpUnanswered, port: ctx.bridge, severity: .error,
                        summary: "ARP requests for \(target), the host's own address on \(ctx.bridge), from "
                            + "\(askers.joinedAsList) (\(fromWhere)) get no reply: the host does not answer them",
                        evidence: evidence,
                        fix: "on the host: ip addr show \(ctx.bridge) (it should have \(target)); "
                            + "sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.\(ctx.bridge).arp_ignore (0 answers); "
                            + "sysctl net.ipv4.conf.\(ctx.bridge).arp_filter; nft list ruleset arp")
                }
                return Finding(
                    cause: .arpUnanswered, port: asker, severity: target == ctx.probeTarget ? .error : .warning,
                    summary: "ARP requests for \(target) from \(askers.joinedAsList) (\(fromWhere)) get no reply: "
                        + "no host on the bridge answers for \(target)"
                        + (quiet ? " (\(DiagnosisTraffic.count(journeys.count, "request")) seen)" : ""),
                    evidence: evidence,
                    fix: "check that the host meant to have \(target) is up and has that address (ip addr in it), "
                        + "and that it answers ARP (sysctl net.ipv4.conf.all.arp_ignore=0 there)")
            }
        }
    }

    // MARK: ICMP

    struct Flow: Hashable, Comparable {
        var source: IPAddress
        var destination: IPAddress
        static func < (a: Flow, b: Flow) -> Bool { (a.source.description, a.destination.description) < (b.source.description, b.destination.description) }
    }

    static func icmp(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet, _ claims: DiagnosisClaims) {
        var replied = Set<Flow>()
        var unreachable: [IPAddress: Int] = [:]
        for event in ctx.events {
            guard let icmp = event.decoded.icmp, let src = event.decoded.sourceIP, let dst = event.decoded.destinationIP
            else { continue }
            if ICMPEcho(type: icmp.type, v6: event.decoded.kind == .icmp6) == .reply {
                replied.insert(Flow(source: dst, destination: src))
            } else if event.decoded.kind == .icmp, icmp.type == 3 || icmp.type == 11 {
                unreachable[src, default: 0] += 1
            }
        }
        var requests: [Flow: [Journey]] = [:]
        for journey in ctx.journeys where !journey.egress.isEmpty && !droppedAfterLeaving(journey) {
            guard let icmp = journey.decoded.icmp, ICMPEcho(type: icmp.type, v6: journey.decoded.kind == .icmp6) == .request,
                  let src = journey.decoded.sourceIP, let dst = journey.decoded.destinationIP,
                  let dstMAC = journey.decoded.dstMAC, !dstMAC.isMulticast, !claims.floodOff.contains(dstMAC) else { continue }
            let flow = Flow(source: src, destination: dst)
            if case .v4(let target) = dst, claims.isFiltered(journey.decoded.srcMAC, target) { continue }
            if !replied.contains(flow) { requests[flow, default: []].append(journey) }
        }
        for flow in requests.keys.sorted() {
            let journeys = requests[flow]!
            var target4: IPv4Address?
            if case .v4(let address) = flow.destination { target4 = address }
            guard enough(ctx, journeys, target: target4, count: ctx.thresholds.unansweredEchoRequests,
                         span: ctx.thresholds.unansweredMinSpanSeconds) else { continue }
            // Sent to a spoofer's, a conflicting or a flapping MAC: those findings explain it.
            if journeys.contains(where: { $0.decoded.dstMAC.map { claims.misbound.contains($0) || claims.flapping.contains($0) } ?? false }) {
                continue
            }
            var outPorts = counted(journeys.flatMap { $0.egress.map(\.port) })
            let dstMAC = journeys.first!.decoded.dstMAC!
            let home = ctx.macHome[dstMAC]
            if let home, outPorts.contains(home) {
                outPorts = [home] + outPorts.filter { $0 != home }
            }
            // Unicast sent out of several ports was flooded: the bridge does not know where
            // the MAC is, and neither do we. Name the candidates, not a guess.
            let flooded = home == nil && journeys.contains { $0.egress.count > 1 }
            let port: String? = flooded ? nil : outPorts[0]
            let asker = counted(journeys.map { $0.ingress?.port ?? ctx.bridge })[0]
            var evidence = [
                "\(DiagnosisTraffic.count(journeys.count, "echo request")) from \(flow.source) to \(flow.destination) "
                    + "\(DiagnosisTraffic.span(journeys.first!.startNs, journeys.last!.startNs)), "
                    + (asker == ctx.bridge ? "sent by the bridge host" : "entering at \(asker)")
                    + (flooded ? ", flooded out of " : ", sent out of ") + outPorts.joined(separator: ", "),
                "no echo reply from \(flow.destination) was seen",
            ]
            if let errors = unreachable[flow.destination] {
                evidence.append("\(flow.destination) sent \(DiagnosisTraffic.count(errors, "ICMP error")) instead")
            }
            if flooded { evidence += floodEvidence(ctx, dstMAC, candidates: outPorts) }
            let verdict: DiagnosisClaims.Verdict = target4.map {
                claims.judge(ctx, findings, asker: asker, target: $0, vlan: journeys.first!.ingress?.vlans.first,
                             outPorts: outPorts, dstMAC: journeys.first!.decoded.dstMAC)
            } ?? (outPorts.contains(where: findings.isBlocking) ? .explained : .report)
            report(verdict, ctx, &findings, evidence: evidence) {
                if flooded {
                    return Finding(
                        cause: .icmpUnanswered, port: nil,
                        severity: target4 != nil && target4 == ctx.probeTarget ? .error : .warning,
                        summary: "Echo requests from \(flow.source) to \(flow.destination) get no reply; the bridge has not "
                            + "learned \(dstMAC), so it floods them out of \(outPorts.joinedAsList): the host is behind one "
                            + "of these ports (which one is unknown) and does not answer",
                        evidence: evidence,
                        fix: "find the host's port: bridge fdb show br \(ctx.bridge) | grep -i \(dstMAC) (empty: it has sent "
                            + "nothing the bridge could learn from; check learning on its port with bridge -d link show); "
                            + "then, in that host, check its firewall (nft list ruleset) and that it has \(flow.destination)")
                }
                if port == ctx.bridge {
                    // Handed up to the host itself, with no drop seen: it chose not to answer.
                    return Finding(
                        cause: .icmpUnanswered, port: ctx.bridge, severity: .error,
                        summary: "Echo requests from \(flow.source) to \(flow.destination) reach the host (\(ctx.bridge)) "
                            + "and get no reply, with no drop on the way: the host does not answer them",
                        evidence: evidence,
                        fix: "on the host: sysctl net.ipv4.icmp_echo_ignore_all (0 answers), "
                            + "sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.\(ctx.bridge).rp_filter (a reverse-path "
                            + "check drops silently), nft list ruleset (a reject or a rule in another hook)")
                }
                return Finding(
                    cause: .icmpUnanswered, port: port!, severity: target4 != nil && target4 == ctx.probeTarget ? .error : .warning,
                    summary: "Echo requests from \(flow.source) to \(flow.destination) leave the bridge at \(port!) "
                        + "and get no reply: the host behind \(port!) does not answer (a firewall in it?)",
                    evidence: evidence,
                    fix: "in the host behind \(port!): check its firewall (nft list ruleset; iptables -L INPUT -v) "
                        + "and sysctl net.ipv4.icmp_echo_ignore_all (should be 0)")
            }
        }
    }

    /// Why frames to `mac` were flooded, from the FDB snapshots and the ports' flags.
    static func floodEvidence(_ ctx: DiagnosisContext, _ mac: MACAddress, candidates: [String]) -> [String] {
        var lines = ["\(mac) is in neither FDB snapshot (before or after the watch) and sent nothing the bridge "
                     + "saw: the host's port is unknown; candidates: \(candidates.joined(separator: ", "))"]
        let notLearning = candidates.filter { port in ctx.snapshots(port).contains { !$0.learning } }
        if !notLearning.isEmpty {
            lines.append("learning is off on \(notLearning.joined(separator: ", ")): the bridge never learns the MACs behind "
                         + (notLearning.count == 1 ? "it" : "them"))
        }
        return lines
    }

    // MARK: DHCP

    static func dhcp(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet, _ claims: DiagnosisClaims) {
        var repliedPorts = Set<String>()
        var repliedClients = Set<MACAddress>()
        for event in ctx.events {
            guard let dhcp = event.decoded.dhcp, dhcp.op == 2 else { continue }
            if event.frame.direction == .tx { repliedPorts.insert(event.frame.port) }
            if let client = dhcp.clientMAC { repliedClients.insert(client) }
        }
        struct Client: Hashable, Comparable {
            var port: String
            var mac: MACAddress
            static func < (a: Client, b: Client) -> Bool { (a.port, a.mac) < (b.port, b.mac) }
        }
        var requests: [Client: [Journey]] = [:]
        for journey in ctx.journeys where journey.outcome != .dropped {
            guard let ingress = journey.ingress, let dhcp = journey.decoded.dhcp, dhcp.op == 1,
                  dhcp.messageType == nil || dhcp.messageType == .discover || dhcp.messageType == .request,
                  let mac = dhcp.clientMAC ?? journey.decoded.srcMAC,
                  !repliedPorts.contains(ingress.port), !repliedClients.contains(mac) else { continue }
            requests[Client(port: ingress.port, mac: mac), default: []].append(journey)
        }
        for client in requests.keys.sorted() {
            let journeys = requests[client]!
            guard enough(ctx, journeys, target: nil, count: ctx.thresholds.unansweredDHCPRequests,
                         span: ctx.thresholds.unansweredDHCPMinSpanSeconds) else { continue }
            // The server may sit behind a port that stops frames, or answer on the client's LAN.
            guard !findings.anyBlocking, !ctx.isSegment(client.port) else { continue }
            let kinds = counted(journeys.map { $0.decoded.dhcp!.messageType.map { "DHCP\($0.description.uppercased())" } ?? "BOOTREQUEST" })
            let outPorts = counted(journeys.flatMap { $0.egress.map(\.port) })
            findings.add(Finding(
                cause: .dhcpUnanswered, port: client.port, severity: .warning,
                summary: "DHCP requests from \(client.mac) enter at \(client.port) and no DHCP server answers: "
                    + "no offer is sent to \(client.port)",
                evidence: ["\(DiagnosisTraffic.count(journeys.count, "request")) (\(kinds.joined(separator: ", "))) "
                           + "from \(client.mac) at \(client.port) \(DiagnosisTraffic.span(journeys.first!.startNs, journeys.last!.startNs))"
                           + (outPorts.isEmpty ? ", forwarded nowhere" : ", forwarded to \(outPorts.joined(separator: ", "))"),
                           "no DHCP reply (BOOTREPLY) left at \(client.port) or named \(client.mac)"],
                fix: "make sure a DHCP server serves this segment: running, listening on \(ctx.bridge) or behind "
                    + "\(outPorts.first ?? "the uplink"), with a range for this subnet (on it: ss -ulpn 'sport = :67')"))
        }
    }
}
