/// ip_conflict and arp_spoofing: one IPv4 address claimed by two MACs (ARP sender
/// fields, and IPv4 sources). When one claimant pushes unsolicited replies or
/// announcements at a rate, it is spoofing; when they merely both answer, the address is
/// in conflict.
enum DiagnosisARPBindingRules {
    struct Claimant {
        var mac: MACAddress
        var ports: [String: Int] = [:]
        var firstNs: UInt64
        /// Replies that follow a request for the address.
        var solicited = 0
        /// Replies nobody asked for, and announcements (sender IP = target IP).
        var unsolicited = 0
        /// Requests it sent, and IPv4 packets from the address: signs of life.
        var other = 0
        /// ARP frames of any kind with the address as sender.
        var arp = 0
        var victims: Set<IPv4Address> = []
        var lastNs: UInt64 = 0

        var total: Int { solicited + unsolicited + other }
        var port: String { DiagnosisContext.most(ports) }
    }

    static let requestMemoryNs: UInt64 = 3_000_000_000

    /// Returns the MACs it reported (spoofers, second claimants): frames sent to them went
    /// to the wrong host, which the unanswered rules must not report again.
    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet,
                      flapping: Set<MACAddress>) -> Set<MACAddress> {
        var bound = Set<MACAddress>()
        var claims: [IPv4Address: [MACAddress: Claimant]] = [:]
        // Open questions: (address asked for, asker's address) → when, and who answered.
        struct Question: Hashable { var ip: IPv4Address; var asker: IPv4Address }
        var asked: [Question: (ns: UInt64, answeredBy: Set<MACAddress>)] = [:]
        for event in ctx.events {
            let ns = event.frame.monotonicNs
            if let arp = event.decoded.arp, arp.isEthernetIPv4, arp.op == .request, let target = arp.targetIP,
               let asker = arp.senderIP, asker != target {
                asked[Question(ip: target, asker: asker)] = (ns, [])
            }
            guard event.frame.direction == .rx, let src = event.decoded.srcMAC, !src.isMulticast,
                  !ctx.localMACs.contains(src) else { continue }
            var ip: IPv4Address?
            var kind = 0  // 0 other, 1 solicited, 2 unsolicited
            var victim: IPv4Address?
            if let arp = event.decoded.arp, arp.isEthernetIPv4, let sender = arp.senderIP {
                ip = sender
                let gratuitous = arp.targetIP == sender
                if arp.op == .reply {
                    kind = 2
                    if !gratuitous, let asker = arp.targetIP {
                        let question = Question(ip: sender, asker: asker)
                        // The first answer of each claimant to a recent question is solicited.
                        if let open = asked[question], ns >= open.ns, ns - open.ns <= requestMemoryNs,
                           !open.answeredBy.contains(src) {
                            asked[question]!.answeredBy.insert(src)
                            kind = 1
                        } else {
                            victim = asker
                        }
                    }
                } else if gratuitous {
                    kind = 2
                }
            } else if let ipv4 = event.decoded.ipv4, event.decoded.dhcp == nil {
                ip = ipv4.source
            }
            guard let ip, ip != .any, ip != .broadcast else { continue }
            var claimant = claims[ip]?[src] ?? Claimant(mac: src, firstNs: ns)
            claimant.ports[event.frame.port, default: 0] += 1
            claimant.lastNs = ns
            switch kind {
            case 1: claimant.solicited += 1
            case 2: claimant.unsolicited += 1
            default: claimant.other += 1
            }
            if let victim { claimant.victims.insert(victim) }
            if event.decoded.arp != nil { claimant.arp += 1 }
            claims[ip, default: [:]][src] = claimant
        }
        for ip in claims.keys.sorted() {
            let claimants = claims[ip]!.values.filter { !flapping.contains($0.mac) }
                .sorted { ($0.firstNs, $0.mac) < ($1.firstNs, $1.mac) }
            guard claimants.count >= 2 else { continue }
            // Spoofers push unsolicited replies or announcements; the owner is the first
            // claimant that does not.
            let spoofers = claimants.filter {
                $0.unsolicited >= ctx.thresholds.unsolicitedReplies && $0.unsolicited > $0.solicited
            }
            let honest = claimants.filter { claimant in !spoofers.contains { $0.mac == claimant.mac } }
            let owner = honest.first ?? claimants[0]
            let others = claimants.filter { $0.mac != owner.mac }
            let ownerLine = "\(ip) belongs to \(owner.mac) behind \(owner.port) "
                + "(\(DiagnosisTraffic.count(owner.solicited, "answer")), \(DiagnosisTraffic.count(owner.other, "other frame")))"
            if !spoofers.isEmpty, !honest.isEmpty {
                for spoofer in spoofers {
                    bound.insert(spoofer.mac)
                    let duration = DiagnosisContext.seconds(spoofer.firstNs, spoofer.lastNs)
                    let tenths = duration > 0 ? Int((Double(spoofer.unsolicited) / duration * 10).rounded()) : 0
                    let rate = duration > 0 ? " (\(tenths / 10).\(tenths % 10)/s)" : ""
                    let victims = spoofer.victims.sorted().map(\.description)
                    findings.add(Finding(
                        cause: .arpSpoofing, port: spoofer.port, severity: .error,
                        summary: "\(spoofer.mac) behind \(spoofer.port) claims \(ip), the address of \(owner.mac) "
                            + "behind \(owner.port), with \(spoofer.unsolicited) unsolicited ARP replies: ARP spoofing",
                        evidence: ["\(spoofer.mac): \(spoofer.unsolicited) unsolicited ARP replies/announcements for \(ip)"
                                   + " \(DiagnosisTraffic.span(spoofer.firstNs, spoofer.lastNs))\(rate)",
                                   ownerLine]
                            + (victims.isEmpty ? [] : ["replies sent to: " + victims.joined(separator: ", ")]),
                        fix: "stop the sender behind \(spoofer.port) (\(spoofer.mac)); to block it now: "
                            + "nft add table bridge bt_guard; nft add chain bridge bt_guard pre "
                            + "'{ type filter hook prerouting priority -200; }'; "
                            + "nft add rule bridge bt_guard pre iifname \"\(spoofer.port)\" arp saddr ip \(ip) drop"))
                }
                continue
            }
            // Both merely answer or talk: two hosts have the same address.
            let named = claimants.map { "\($0.mac) behind \($0.port)" }
            for other in others where other.arp > 0 {
                bound.insert(other.mac)
                findings.add(Finding(
                    cause: .ipConflict, port: other.port, severity: .error,
                    summary: "\(ip) is used by two hosts: \(named.joinedAsList); "
                        + "frames for \(ip) reach one or the other",
                    evidence: claimants.map { c in
                        "\(c.mac) behind \(c.port) claims \(ip): \(DiagnosisTraffic.count(c.solicited, "ARP answer")), "
                            + "\(c.unsolicited) unsolicited/announcements, \(DiagnosisTraffic.count(c.other, "other frame"))"
                    },
                    fix: "give the host behind \(other.port) (\(other.mac)) another address: in it, "
                        + "ip addr del \(ip)/<prefix> dev <if> and add a free one"))
            }
        }
        return bound
    }
}
