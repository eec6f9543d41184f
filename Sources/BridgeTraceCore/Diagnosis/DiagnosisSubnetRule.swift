/// subnet_mismatch: a host announces itself (ARP sender, IP source) in a subnet that no
/// other host on the bridge uses, and asks for addresses there that nobody answers: a VM
/// configured for another segment. The segment's subnet comes from the bridge's own
/// addresses (their prefix), the other hosts seen, and DHCP offers.
enum DiagnosisSubnetRule {
    /// The sender IPs it explains: the unanswered rules leave their requests alone.
    @discardableResult
    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) -> Set<IPv4Address> {
        var own: [(address: IPv4Address, prefix: Int)] = []
        for subnet in ctx.input.stateAfter.bridge.subnets + ctx.input.stateBefore.bridge.subnets
        where !own.contains(where: { $0.address == subnet.address }) {
            own.append(subnet)
        }
        let prefix = own.first?.prefix ?? 24
        func network(_ ip: IPv4Address) -> IPv4Address {
            IPv4Address(rawValue: prefix == 0 ? 0 : ip.rawValue & (UInt32.max << UInt32(32 - prefix)))
        }
        // Every address the segment shows: who has it, and where.
        var members: [IPv4Address: [(ip: IPv4Address, where: String)]] = [:]
        for (address, _) in own {
            members[network(address), default: []].append((address, "the bridge's own address, \(ctx.bridge)"))
        }
        for (ip, home) in ctx.ipHome.sorted(by: { $0.key < $1.key }) where !own.contains(where: { $0.address == ip }) {
            members[network(ip), default: []].append((ip, "behind \(home.port)"))
        }
        for event in ctx.events {
            guard let dhcp = event.decoded.dhcp, dhcp.op == 2, let offered = dhcp.yourIP, offered != .any else { continue }
            members[network(offered), default: []].append((offered, "offered by DHCP"))
        }
        var answered = Set<IPv4Address>()
        for event in ctx.events {
            if let arp = event.decoded.arp, arp.op == .reply, let sender = arp.senderIP { answered.insert(sender) }
        }
        var claimed = Set<IPv4Address>()
        for (ip, home) in ctx.ipHome.sorted(by: { $0.key < $1.key }) {
            let net = network(ip)
            let mine = members[net] ?? []
            guard mine.allSatisfy({ $0.ip == ip }) else { continue }  // not alone in its subnet
            let others = members.filter { $0.key != net && $0.value.contains { $0.ip != ip } }
            guard let segment = others.max(by: { a, b in (a.value.count, b.key) < (b.value.count, a.key) }) else { continue }
            // What it asked for and never got an answer to.
            let asked = ctx.journeys.filter { journey in
                journey.ingress?.port == home.port && journey.decoded.arp?.op == .request
                    && journey.decoded.arp?.senderIP == ip && journey.decoded.arp?.targetIP.map { !answered.contains($0) } == true
            }
            guard !asked.isEmpty else { continue }
            claimed.insert(ip)
            let targets = DiagnosisUnansweredRules.counted(asked.compactMap { $0.decoded.arp?.targetIP?.description })
            let segmentText = "\(segment.key)/\(prefix)"
            let peers = segment.value.prefix(6).map { "\($0.ip) (\($0.where))" }
            findings.add(Finding(
                cause: .subnetMismatch, port: home.port, severity: .error,
                summary: "The host behind \(home.port) uses \(ip), in \(net)/\(prefix), a subnet no other host on the bridge "
                    + "uses (they are in \(segmentText)): its ARP requests for \(targets.joinedAsList) get no answer",
                evidence: [
                    "\(DiagnosisTraffic.count(asked.count, "ARP request")) from \(ip) (\(home.mac)) entering at \(home.port) "
                        + "for \(targets.joinedAsList) \(DiagnosisTraffic.span(asked.first!.startNs, asked.last!.startNs)), "
                        + "no reply",
                    "no other address seen on the bridge is in \(net)/\(prefix)",
                    "the segment is \(segmentText): " + peers.joined(separator: ", "),
                ],
                fix: "give the host behind \(home.port) an address in \(segmentText) and that segment's gateway (in it: "
                    + "ip addr replace <address>/\(prefix) dev <its interface>; ip route replace default via <gateway>), "
                    + "or correct the static or DHCP configuration that gave it \(ip)"))
        }
        return claimed
    }
}
