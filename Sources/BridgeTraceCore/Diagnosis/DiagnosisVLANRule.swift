/// vlan_mismatch: frames tagged with VLAN v enter at a port and leave the bridge, but no
/// frame on VLAN v ever enters at another port: whoever receives them does not use that
/// VLAN (the uplink peer expects untagged frames, or another VID).
enum DiagnosisVLANRule {
    struct Key: Hashable, Comparable {
        var port: String
        var vid: UInt16
        static func < (a: Key, b: Key) -> Bool { (a.port, a.vid) < (b.port, b.vid) }
    }

    /// Returns the (port, VID) pairs it reported, for the unanswered rules to leave alone.
    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) -> Set<Key> {
        var tagged: [Key: [Journey]] = [:]
        var vidsByPort: [UInt16: Set<String>] = [:]
        var untaggedPorts = Set<String>()
        for journey in ctx.journeys {
            guard let ingress = journey.ingress else { continue }
            if let vid = ingress.vlans.first {
                tagged[Key(port: ingress.port, vid: vid), default: []].append(journey)
                vidsByPort[vid, default: []].insert(ingress.port)
            } else {
                untaggedPorts.insert(ingress.port)
            }
        }
        var claimed = Set<Key>()
        for key in tagged.keys.sorted() {
            let journeys = tagged[key]!
            guard journeys.count >= ctx.thresholds.taggedFrames,
                  vidsByPort[key.vid]!.subtracting([key.port]).isEmpty else { continue }
            let left = journeys.filter { !$0.egress.isEmpty }
            guard !left.isEmpty else { continue }
            // A trunk with a whole network behind it (many source MACs) may carry VLANs the
            // bridge's VMs do not use; that is no fault unless a tagged request asks for a
            // host seen on the bridge outside that VLAN.
            let asksKnownHost = journeys.contains { journey in
                guard let target = journey.decoded.arp?.targetIP ?? journey.decoded.ipv4?.destination,
                      let home = ctx.ipHome[target] else { return false }
                return home.port != key.port
            }
            guard asksKnownHost || !ctx.isSegment(key.port) else { continue }
            let outPorts = Set(left.flatMap { $0.egress.map(\.port) }).sorted()
            var otherUse: [String] = []
            let untagged = untaggedPorts.subtracting([key.port]).sorted()
            if !untagged.isEmpty { otherUse.append("untagged frames enter at \(untagged.joined(separator: ", "))") }
            for vid in vidsByPort.keys.sorted() where vid != key.vid {
                let ports = vidsByPort[vid]!.subtracting([key.port]).sorted()
                if !ports.isEmpty { otherUse.append("VLAN \(vid) enters at \(ports.joined(separator: ", "))") }
            }
            let others = otherUse.isEmpty ? "nothing else enters the bridge" : otherUse.joined(separator: "; ")
            claimed.insert(key)
            findings.add(Finding(
                cause: .vlanMismatch, port: key.port, severity: .error,
                summary: "Frames from \(key.port) are tagged with VLAN \(key.vid), but nothing on the other side uses "
                    + "VLAN \(key.vid): they leave at \(outPorts.joinedAsList) and no answer comes back on VLAN \(key.vid)",
                evidence: ["\(DiagnosisTraffic.count(journeys.count, "frame")) tagged VLAN \(key.vid) entered at \(key.port) "
                           + "\(DiagnosisTraffic.span(journeys.first!.startNs, journeys.last!.startNs)); "
                           + "\(left.count) left at \(outPorts.joined(separator: ", "))",
                           "no frame tagged VLAN \(key.vid) entered at any other port",
                           "other traffic: \(others)"]
                    + DiagnosisTraffic.examples(journeys),
                fix: "make both ends use the same VLAN: in the host behind \(key.port) drop the tag "
                    + "(ip link delete <if>.\(key.vid) and put its address on <if>), or carry VLAN \(key.vid) on the peer "
                    + "behind \(outPorts.first ?? "the uplink") (ip link add link <if> name <if>.\(key.vid) type vlan id \(key.vid))"))
        }
        return claimed
    }
}
