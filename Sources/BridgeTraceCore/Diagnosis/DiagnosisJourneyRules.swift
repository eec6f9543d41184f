/// Rules from journeys that entered and left no port without a drop event:
/// port_isolated (the sender's port is isolated), mtu_mismatch (too big for every other
/// port; some paths drop without an event), and not_forwarded for the rest.
enum DiagnosisJourneyRules {
    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) {
        var vanished: [String: [Journey]] = [:]
        for journey in ctx.journeys where journey.outcome == .vanished {
            guard let ingress = journey.ingress else { continue }
            // Unicast to a MAC that lives on the same port is filtered, rightly.
            if let dst = journey.decoded.dstMAC, !dst.isMulticast, ctx.macHome[dst] == ingress.port { continue }
            vanished[ingress.port, default: []].append(journey)
        }
        let lossy = ctx.input.lostEvents + ctx.input.collectorOverflow > 0 ? 2 : 1
        for port in vanished.keys.sorted() {
            let journeys = vanished[port]!
            let traffic = DiagnosisTraffic.phrase(of: journeys.map(\.decoded))
            let countLine = "\(DiagnosisTraffic.count(journeys.count, "frame")) (\(traffic)) entered at \(port) "
                + "\(DiagnosisTraffic.span(journeys.first!.startNs, journeys.last!.startNs)) and left no port, "
                + "with no drop event"
            if ctx.isIsolated(port) {
                guard journeys.count * 1 >= ctx.thresholds.vanishedFrames * lossy || involvesProbe(ctx, journeys) else { continue }
                let peers = ctx.portNames.filter { $0 != port && ctx.isIsolated($0) }
                findings.add(DiagnosisDropRules.isolatedFinding(
                    ctx, port: port, isolatedPeers: peers, evidence: [countLine] + DiagnosisTraffic.examples(journeys)))
                continue
            }
            if tooBig(ctx, port, journeys, countLine, &findings) { continue }
            // Explained elsewhere: a port that stops frames, or drops around the same time.
            guard !findings.anyBlocking else { continue }
            let unexplained = journeys.filter { journey in
                !ctx.drops.contains { drop in
                    let distance = drop.monotonicNs > journey.startNs ? drop.monotonicNs - journey.startNs
                        : journey.startNs - drop.monotonicNs
                    return distance <= ctx.thresholds.journeyWindowNs
                }
            }
            guard unexplained.count >= ctx.thresholds.notForwardedFrames * lossy else { continue }
            let forwarding = ctx.portNames.filter { other in
                other != port && ctx.after[other].map { $0.isUp && $0.hasCarrier && $0.stpState == .forwarding } == true
            }
            guard !forwarding.isEmpty else { continue }
            var evidence = [countLine]
            var fix = "bridge -d link show; bridge fdb show br \(ctx.bridge); nft list ruleset bridge   "
                + "# look for what keeps these frames from leaving"
            let broadcasts = unexplained.filter { $0.decoded.dstMAC?.isMulticast ?? false }
            let unicasts = unexplained.filter { !($0.decoded.dstMAC?.isMulticast ?? true) }
            let noBroadcastFlood = forwarding.filter { ctx.after[$0]?.broadcastFlood == false }
            let noUnicastFlood = forwarding.filter { ctx.after[$0]?.unicastFlood == false }
            if !broadcasts.isEmpty, noBroadcastFlood.count == forwarding.count {
                evidence.append("broadcast flooding is off on \(noBroadcastFlood.joined(separator: ", "))")
                fix = noBroadcastFlood.map { "bridge link set dev \($0) bcast_flood on" }.joined(separator: "; ")
            } else if !unicasts.isEmpty, noUnicastFlood.count == forwarding.count,
                      unicasts.contains(where: { $0.decoded.dstMAC.flatMap { ctx.macHome[$0] } == nil }) {
                evidence.append("unknown-unicast flooding is off on \(noUnicastFlood.joined(separator: ", "))")
                fix = noUnicastFlood.map { "bridge link set dev \($0) flood on" }.joined(separator: "; ")
            }
            findings.add(Finding(
                cause: .notForwarded, port: port, severity: .error,
                summary: "\(traffic) enter at \(port) and leave no port, with no drop event and no port state that explains it",
                evidence: evidence + DiagnosisTraffic.examples(unexplained),
                fix: fix))
        }
    }

    static func involvesProbe(_ ctx: DiagnosisContext, _ journeys: [Journey]) -> Bool {
        guard let target = ctx.probeTarget else { return false }
        return journeys.contains { $0.decoded.arp?.targetIP == target || $0.decoded.ipv4?.destination == target }
    }

    /// Packets bigger than the MTU of every other up port vanished: mtu_mismatch at those
    /// ports (the smallest first).
    static func tooBig(_ ctx: DiagnosisContext, _ port: String, _ journeys: [Journey], _ countLine: String,
                       _ findings: inout DiagnosisFindingSet) -> Bool {
        let others = ctx.portNames.filter { $0 != port && ctx.after[$0]?.isUp == true }
        let mtus = others.compactMap { ctx.mtu($0) }
        guard let smallest = mtus.min(), Set(mtus + [ctx.mtu(port) ?? smallest]).count > 1 else { return false }
        let big = journeys.filter { journey in
            let length = journey.decoded.ipv4.map { Int($0.totalLength) }
                ?? (journey.length - 14 - 4 * journey.decoded.vlans.count)
            return length > Int(smallest)
        }
        guard big.count >= ctx.thresholds.vanishedFrames, big.count * 2 >= journeys.count else { return false }
        let largest = big.map { $0.decoded.ipv4.map { Int($0.totalLength) } ?? $0.length }.max()!
        let homes = Set(big.compactMap { $0.decoded.dstMAC.flatMap { ctx.macHome[$0] } })
        var targets = others.filter { (ctx.mtu($0) ?? .max) < UInt32(largest) }
        if !homes.isDisjoint(with: targets) { targets = targets.filter(homes.contains) }
        for target in targets {
            let mtu = ctx.mtu(target)!
            findings.add(Finding(
                cause: .mtuMismatch, port: target, severity: .error,
                summary: "Packets of up to \(largest) bytes from \(port) (MTU \(ctx.mtu(port).map(String.init) ?? "?")) "
                    + "are too big for \(target) (MTU \(mtu)) and never leave the bridge",
                evidence: [countLine, "\(big.count) of them are bigger than \(target)'s MTU \(mtu)",
                           "port MTUs: " + ([port] + others).compactMap { p in ctx.mtu(p).map { "\(p) \($0)" } }
                    .joined(separator: ", ")] + DiagnosisTraffic.examples(big),
                fix: "make the MTUs agree: ip link set dev \(port) mtu \(mtu) (and the same inside the host behind it), "
                    + "or raise \(target) and everything behind it: ip link set dev \(target) mtu \(ctx.mtu(port).map(String.init) ?? "<mtu>")"))
        }
        return !targets.isEmpty
    }
}
