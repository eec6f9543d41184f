/// mac_flapping: one source MAC enters at two ports, back and forth (a cloned VM, a
/// loop). Reported at the port where the MAC showed up second.
enum DiagnosisMACFlappingRule {
    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) -> Set<MACAddress> {
        var sequence: [MACAddress: [String]] = [:]
        var counts: [MACAddress: [String: Int]] = [:]
        for event in ctx.events where event.frame.direction == .rx {
            guard let src = event.decoded.srcMAC, !src.isMulticast, src != .zero, !ctx.localMACs.contains(src) else { continue }
            let port = event.frame.port
            counts[src, default: [:]][port, default: 0] += 1
            if sequence[src]?.last != port { sequence[src, default: []].append(port) }
        }
        var flapping = Set<MACAddress>()
        for mac in sequence.keys.sorted() {
            let ports = sequence[mac]!
            let changes = ports.count - 1
            guard changes >= ctx.thresholds.macPortChanges else { continue }
            var firstSeen: [String] = []
            for port in ports where !firstSeen.contains(port) { firstSeen.append(port) }
            let perPort = firstSeen.map { "\($0) (\(DiagnosisTraffic.count(counts[mac]![$0]!, "frame")))" }
            var evidence = ["\(mac) entered at \(perPort.joinedAsList), changing port \(changes) times"]
            let fdbBefore = ctx.input.stateBefore.fdb.first { MACAddress(parsing: $0.mac) == mac }?.port
            let fdbAfter = ctx.input.stateAfter.fdb.first { MACAddress(parsing: $0.mac) == mac }?.port
            if let fdbBefore, let fdbAfter, fdbBefore != fdbAfter {
                evidence.append("FDB: \(mac) on \(fdbBefore) before the watch, on \(fdbAfter) after")
            }
            flapping.insert(mac)
            for port in firstSeen.dropFirst() {
                findings.add(Finding(
                    cause: .macFlapping, port: port, severity: .error,
                    summary: "The MAC \(mac) is used behind both \(firstSeen[0]) and \(port) (a cloned VM?): "
                        + "the bridge's FDB flaps between them and frames for it go to the wrong host",
                    evidence: evidence,
                    fix: "give the host behind \(port) a MAC of its own: in it, ip link set dev <if> address <new unique MAC> "
                        + "(or change the MAC in its VM definition)"))
            }
        }
        return flapping
    }
}
