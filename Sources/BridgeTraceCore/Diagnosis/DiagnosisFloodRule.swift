/// port_flood_off: unicast to a MAC the bridge has not learned is unknown unicast, flooded
/// out of every port that floods it; a port with flooding off (`bridge link set dev P flood
/// off`, what libvirt's macTableManager sets on every tap) never gets it. When that MAC
/// lives behind such a port (its frames enter there, and learning is off there too, so the
/// FDB never learns it), the frames never arrive. The ports they were flooded to are never
/// blamed.
enum DiagnosisFloodRule {
    /// The MACs it explains (the unanswered rules leave unicast to them alone).
    @discardableResult
    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) -> Set<MACAddress> {
        let floodOff = ctx.portNames.filter { port in ctx.snapshots(port).contains { !$0.unicastFlood } }
        guard !floodOff.isEmpty else { return [] }
        var learned = Set<MACAddress>()
        for entry in ctx.input.stateBefore.fdb + ctx.input.stateAfter.fdb {
            if let mac = MACAddress(parsing: entry.mac) { learned.insert(mac) }
        }
        var flooded: [MACAddress: [Journey]] = [:]
        for journey in ctx.journeys where journey.ingress != nil {
            guard let dst = journey.decoded.dstMAC, !dst.isMulticast, !ctx.localMACs.contains(dst), !learned.contains(dst)
            else { continue }
            flooded[dst, default: []].append(journey)
        }
        var claimed = Set<MACAddress>()
        for mac in flooded.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            let journeys = flooded[mac]!
            let ingress = Set(journeys.compactMap { $0.ingress?.port })
            // Where the MAC's own frames entered: its port, though the FDB does not know it.
            let homes = floodOff.filter { ctx.sourceMACs[$0]?.contains(mac) ?? false }
            let never = floodOff.filter { port in !ingress.contains(port) && !journeys.contains { $0.egress.contains { $0.port == port } } }
            let port: String
            if homes.count == 1, never.contains(homes[0]) {
                port = homes[0]
            } else if homes.isEmpty, never.count == 1, ctx.macHome[mac] == nil,
                      journeys.count >= ctx.thresholds.floodedFrames {
                port = never[0]  // the only port the flood never reaches, and the MAC is nowhere else
            } else {
                continue
            }
            claimed.insert(mac)
            let out = DiagnosisUnansweredRules.counted(journeys.flatMap { $0.egress.map(\.port) })
            let flags = ctx.snapshots(port).last.map { snapshot in
                "\(port): flood \(snapshot.unicastFlood ? "on" : "off"), learning \(snapshot.learning ? "on" : "off") "
                    + "(bridge -d link show dev \(port))"
            } ?? "\(port): flood off"
            var evidence = [
                "\(DiagnosisTraffic.count(journeys.count, "frame")) to \(mac) (\(DiagnosisTraffic.phrase(of: journeys.map(\.decoded)))) "
                    + "entering at \(ingress.sorted().joinedAsList) "
                    + (out.isEmpty ? "went nowhere" : "were flooded out of \(out.joinedAsList)") + "; none left at \(port)",
                flags,
                "\(mac) is in neither FDB snapshot (before or after the watch): it is unknown unicast to the bridge",
            ]
            if homes.count == 1 {
                let count = ctx.events.filter { $0.frame.direction == .rx && $0.frame.port == port && $0.decoded.srcMAC == mac }.count
                evidence.append("\(mac) is behind \(port): \(DiagnosisTraffic.count(count, "frame")) from it entered there")
            } else {
                evidence.append("\(port) is the only port with flooding off, and the only one the flood never reached")
            }
            findings.add(Finding(
                cause: .portFloodOff, port: port, severity: .error,
                summary: "Unicast to \(mac) is flooded out of every other port and never reaches \(port): \(port) has "
                    + "flooding off, and the bridge has no FDB entry for \(mac) (a guest that changed its MAC?)",
                evidence: evidence,
                fix: "bridge fdb add \(mac) dev \(port) master static   # or let the port flood unknown unicast: "
                    + "bridge link set dev \(port) flood on"))
        }
        return claimed
    }
}
