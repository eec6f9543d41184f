/// port_isolated when isolation does not make frames vanish: the sender's port and another
/// port are isolated, a third is not, so broadcasts from the sender are flooded to the
/// third port only and never reach the isolated one. Nothing is dropped and nothing
/// vanishes; what shows it is the port flags (netlink) together with requests that went
/// everywhere except to the isolated ports, and got no answer. That is unambiguous from
/// little traffic: one unanswered request is enough when the target is known to sit
/// behind an isolated port, two otherwise.
enum DiagnosisIsolationRule {
    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) {
        let answeredARP = Set(ctx.events.compactMap { event -> IPv4Address? in
            guard let arp = event.decoded.arp, arp.op == .reply else { return nil }
            return arp.senderIP
        })
        let dhcpRepliedPorts = Set(ctx.events.filter { $0.decoded.dhcp?.op == 2 && $0.frame.direction == .tx }
            .map(\.frame.port))
        for port in ctx.portNames where ctx.isIsolated(port) && !findings.isBlocking(port) {
            let peers = ctx.portNames.filter { other in
                other != port && ctx.isIsolated(other) && ctx.after[other].map { $0.isUp && $0.hasCarrier } != false
            }
            guard !peers.isEmpty else { continue }
            var unanswered: [Journey] = []
            var behindPeer: [IPv4Address] = []
            for journey in ctx.journeys where journey.ingress?.port == port && !journey.egress.isEmpty {
                guard let dst = journey.decoded.dstMAC, dst.isMulticast,
                      !journey.egress.contains(where: { peers.contains($0.port) }) else { continue }
                if let arp = journey.decoded.arp, arp.op == .request, let target = arp.targetIP,
                   let sender = arp.senderIP, sender != target, !answeredARP.contains(target) {
                    unanswered.append(journey)
                    if let home = ctx.ipHome[target], peers.contains(home.port) { behindPeer.append(target) }
                } else if let dhcp = journey.decoded.dhcp, dhcp.op == 1, !dhcpRepliedPorts.contains(port) {
                    unanswered.append(journey)
                }
            }
            // A quiet sender's one request is enough when the FDB shows hosts behind the
            // isolated peers: the only places the answer could come from that it never reached.
            let peersHaveHosts = (ctx.input.stateBefore.fdb + ctx.input.stateAfter.fdb)
                .contains { !$0.isLocal && peers.contains($0.port) }
            guard !unanswered.isEmpty,
                  !behindPeer.isEmpty || unanswered.count >= ctx.thresholds.isolatedUnanswered
                    || (peersHaveHosts && ctx.quietlyUnanswered(unanswered)) else { continue }
            let outPorts = DiagnosisUnansweredRules.counted(unanswered.flatMap { $0.egress.map(\.port) })
            let traffic = DiagnosisTraffic.phrase(of: unanswered.map(\.decoded))
            var evidence = [
                "\(DiagnosisTraffic.count(unanswered.count, "broadcast")) (\(traffic)) entered at \(port) "
                    + "\(DiagnosisTraffic.span(unanswered.first!.startNs, unanswered.last!.startNs)) and were flooded to "
                    + "\(outPorts.joinedAsList) only, never to \(peers.joinedAsList) (isolated like \(port))",
                "no answer came back",
            ]
            for target in Set(behindPeer).sorted() {
                evidence.append("\(target) lives behind \(ctx.ipHome[target]!.port), an isolated port")
            }
            findings.add(DiagnosisDropRules.isolatedFinding(
                ctx, port: port, isolatedPeers: peers, evidence: evidence + DiagnosisTraffic.examples(unanswered, limit: 1)))
        }
    }
}
