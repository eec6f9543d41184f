/// dhcp_multiple_servers: DHCP replies (OFFER, ACK, NAK) from more than one server, each
/// entering at its port. Clients take whichever answers first, so some get a wrong address,
/// gateway or DNS. Which server is the rogue is not in the frames: the finding names the
/// port of the server that sits behind a VM-like port when exactly one other sits behind
/// the uplink-like one (a physical NIC, or a port with a whole segment behind it), and
/// no port otherwise, listing every server with its port.
enum DiagnosisDHCPServersRule {
    struct Server {
        var mac: MACAddress
        var ips: [IPv4Address: Int] = [:]
        var ports: [String: Int] = [:]
        var types: [String: Int] = [:]
        var clients: Set<MACAddress> = []
        var offered: Set<IPv4Address> = []
        var firstNs: UInt64
        var count = 0

        var port: String { DiagnosisContext.most(ports) }
        var ip: String {
            ips.max { a, b in (a.value, b.key) < (b.value, a.key) }.map { "\($0.key)" } ?? "?"
        }
    }

    static func apply(_ ctx: DiagnosisContext, _ findings: inout DiagnosisFindingSet) {
        var servers: [MACAddress: Server] = [:]
        for journey in ctx.journeys {
            guard let dhcp = journey.decoded.dhcp, dhcp.op == 2,
                  dhcp.messageType == nil || [.offer, .ack, .nak].contains(dhcp.messageType!),
                  let mac = journey.decoded.srcMAC, !mac.isMulticast else { continue }
            // Entering at a port, or sent by the bridge host itself (a server on the bridge).
            let port = journey.ingress?.port ?? (ctx.localMACs.contains(mac) ? ctx.bridge : nil)
            guard let port else { continue }
            var server = servers[mac] ?? Server(mac: mac, firstNs: journey.startNs)
            server.count += 1
            server.ports[port, default: 0] += 1
            if let ip = dhcp.serverID ?? journey.decoded.ipv4?.source, ip != .any { server.ips[ip, default: 0] += 1 }
            server.types[dhcp.messageType.map { "DHCP\($0.description.uppercased())" } ?? "BOOTREPLY", default: 0] += 1
            if let client = dhcp.clientMAC { server.clients.insert(client) }
            if let offered = dhcp.yourIP, offered != .any { server.offered.insert(offered) }
            servers[mac] = server
        }
        guard servers.count >= 2 else { return }
        let list = servers.values.sorted { ($0.firstNs, $0.mac) < ($1.firstNs, $1.mac) }
        let ports = Set(list.map(\.port))
        let uplinkLike = ports.filter { port in
            ctx.isSegment(port) || (ctx.after[port] ?? ctx.before[port]).map { $0.kind == nil } == true
        }
        var port: String?
        if uplinkLike.count == 1, ports.count == 2 { port = ports.subtracting(uplinkLike).first }
        let shared = list.dropFirst().reduce(list[0].clients) { $0.intersection($1.clients) }
        var evidence = list.map { server in
            let types = server.types.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            let offered = server.offered.sorted().map(\.description)
            return "server \(server.ip) (\(server.mac)) entering at \(server.port): \(types)"
                + " to \(DiagnosisTraffic.count(server.clients.count, "client"))"
                + (offered.isEmpty ? "" : ", offering \(offered.joined(separator: ", "))")
        }
        if !shared.isEmpty {
            evidence.append("both answered the same client\(shared.count == 1 ? "" : "s"): "
                + shared.sorted().map(\.description).joined(separator: ", "))
        }
        if port == nil {
            evidence.append("which server is the rogue one is not in the frames; candidates: "
                + list.map(\.port).joined(separator: ", "))
        }
        let named = list.map { "\($0.ip) behind \($0.port)" }
        let rogue = port.flatMap { p in list.first { $0.port == p } }
        findings.add(Finding(
            cause: .dhcpMultipleServers, port: port, severity: .error,
            summary: "\(list.count) DHCP servers answer on \(ctx.bridge): \(named.joinedAsList); "
                + "clients take whichever answers first, so some get the wrong address, gateway or DNS",
            evidence: evidence,
            fix: rogue.map { "stop the DHCP server behind \($0.port) (\($0.ip), \($0.mac)); to block it now: "
                + "nft add table bridge bt_guard; nft add chain bridge bt_guard fwd '{ type filter hook forward priority 0; }'; "
                + "nft add rule bridge bt_guard fwd iifname \"\($0.port)\" udp sport 67 drop" }
                ?? "keep the one meant to serve this segment and stop the others (in each host: ss -ulpn 'sport = :67'); "
                + "to block one now: nft add table bridge bt_guard; nft add chain bridge bt_guard fwd "
                + "'{ type filter hook forward priority 0; }'; nft add rule bridge bt_guard fwd iifname \"<its port>\" udp sport 67 drop"))
    }
}
