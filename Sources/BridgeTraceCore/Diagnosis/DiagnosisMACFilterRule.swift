/// upstream_mac_filter: behind one port, a target answers some source MACs and not others
/// (port security or a MAC filter on the physical switch behind the uplink). Evidence:
/// requests from MAC A for target T (ARP who-has T, or echo requests to T) left the
/// bridge at T's port and got nothing back, while in the same watch T answered MAC B.
/// Reported at T's port; the unanswered rules leave (A, T) alone afterwards.
enum DiagnosisMACFilterRule {
    struct Key: Hashable, Comparable {
        var mac: MACAddress
        var target: IPv4Address
        static func < (a: Key, b: Key) -> Bool { (a.target, a.mac) < (b.target, b.mac) }
    }

    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet,
                      claims: DiagnosisClaims) -> Set<Key> {
        // What each target sent to each MAC: any frame from T (ARP reply, IPv4) to a unicast MAC.
        var answers: [IPv4Address: [MACAddress: Int]] = [:]
        for event in ctx.events where event.frame.direction == .rx {
            guard let dst = event.decoded.dstMAC, !dst.isMulticast else { continue }
            let from = event.decoded.arp.flatMap { $0.op == .reply ? $0.senderIP : nil } ?? event.decoded.ipv4?.source
            if let from { answers[from, default: [:]][dst, default: 0] += 1 }
        }
        // Requests for each target from each source MAC that left the bridge.
        var asked: [Key: [Journey]] = [:]
        for journey in ctx.journeys where !journey.egress.isEmpty {
            guard let src = journey.decoded.srcMAC, !src.isMulticast, !ctx.localMACs.contains(src),
                  let target = requestTarget(journey) else { continue }
            asked[Key(mac: src, target: target), default: []].append(journey)
        }
        var claimed = Set<Key>()
        var byPort: [String: [(key: Key, journeys: [Journey], answered: [MACAddress: Int])]] = [:]
        for key in asked.keys.sorted() {
            guard let home = ctx.ipHome[key.target], home.mac != key.mac,
                  answers[key.target]?[key.mac] == nil, !claims.misbound.contains(home.mac),
                  !claims.flapping.contains(key.mac), !claims.flapping.contains(home.mac) else { continue }
            let journeys = asked[key]!
            // They must have reached the target's port: two a retransmission apart, or a
            // quiet sender's one, unanswered for the rest of the watch (the target answering
            // others in the same watch makes one unambiguous).
            let reached = journeys.filter { $0.egress.contains { $0.port == home.port } }
            let repeated = reached.count >= ctx.thresholds.filteredRequests
                && DiagnosisContext.seconds(reached.first!.startNs, reached.last!.startNs) >= ctx.thresholds.unansweredARPMinSpanSeconds
            guard repeated || (!reached.isEmpty && ctx.quietlyUnanswered(reached)) else { continue }
            if let asker = reached.first?.ingress, let vid = asker.vlans.first,
               claims.vlans.contains(DiagnosisVLANRule.Key(port: asker.port, vid: vid)) { continue }
            if findings.isBlocking(home.port) { continue }
            // Others are answered, in the same watch, by the target from the same port.
            let others = (answers[key.target] ?? [:]).filter { $0.key != key.mac && !ctx.localMACs.contains($0.key) }
            guard !others.isEmpty else { continue }
            byPort[home.port, default: []].append((key, reached, others))
            claimed.insert(key)
        }
        for port in byPort.keys.sorted() {
            let cases = byPort[port]!
            var evidence: [String] = []
            var filteredMACs: [String] = []
            for item in cases {
                let asker = DiagnosisUnansweredRules.counted(item.journeys.map { $0.ingress?.port ?? ctx.bridge })[0]
                let kinds = DiagnosisTraffic.phrase(of: item.journeys.map(\.decoded))
                filteredMACs.append("\(item.key.mac)")
                evidence.append("\(DiagnosisTraffic.count(item.journeys.count, "request")) from \(item.key.mac) "
                    + "(entering at \(asker)) for \(item.key.target) \(DiagnosisTraffic.span(item.journeys.first!.startNs, item.journeys.last!.startNs)) "
                    + "left at \(port) and got no answer (\(kinds))")
                let answered = item.answered.keys.sorted().map { mac in
                    "\(mac)" + (ctx.macHome[mac].map { " behind \($0)" } ?? "") + " (\(DiagnosisTraffic.count(item.answered[mac]!, "frame")))"
                }
                evidence.append("in the same watch \(item.key.target) answered \(answered.joinedAsList)")
            }
            let targets = Array(Set(cases.map(\.key.target))).sorted().map(\.description)
            findings.add(Finding(
                cause: .upstreamMACFilter, port: port, severity: .error,
                summary: "\(targets.joinedAsList) behind \(port) answers other hosts but not \(filteredMACs.joinedAsList): "
                    + "something past \(port) filters by source MAC (port security on the switch behind it?)",
                evidence: evidence + ["nothing on the bridge dropped these requests (no drop event); they left at \(port)"]
                    + DiagnosisTraffic.examples(cases.flatMap(\.journeys), limit: 1),
                fix: "on the switch behind \(port): check port security / MAC limits for \(filteredMACs.joinedAsList) "
                    + "(e.g. show port-security address; raise the maximum or add the MAC); on a Linux peer: "
                    + "nft list ruleset netdev; ebtables -L"))
        }
        return claimed
    }

    /// The IPv4 address a request asks for: ARP who-has T, or an echo request to T.
    static func requestTarget(_ journey: Journey) -> IPv4Address? {
        if let arp = journey.decoded.arp {
            guard arp.isEthernetIPv4, arp.op == .request, let target = arp.targetIP, arp.senderIP != target,
                  arp.senderIP != .any else { return nil }
            return target
        }
        guard let icmp = journey.decoded.icmp, journey.decoded.kind == .icmp,
              ICMPEcho(type: icmp.type, v6: false) == .request, let ipv4 = journey.decoded.ipv4 else { return nil }
        return ipv4.destination
    }
}
