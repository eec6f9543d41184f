/// `trace --journey`: one line per journey.
///
///     12:00:01.123456 ICMP echo request 198.18.0.11 > 198.18.0.1 id 7 seq 3: vm1 rx -> uplink tx (+12.3us) delivered
///     12:00:01.123456 ICMP echo request 198.18.0.11 > 198.18.0.1 id 7 seq 3: vm1 rx -> dropped at uplink: NETFILTER_DROP in nft_do_chain (+20.1us)
///     12:00:01.123456 ARP who-has 198.18.0.12 tell 198.18.0.11: vm1 rx -> vanished (left no port, no drop event)
public enum JourneyText {
    public static func line(_ journey: Journey, wallClockOffsetNs: Int64) -> String {
        let time = ASCIIBuffer.string(capacity: 16) {
            WallClock.appendLocalTimeOfDay(Int64(bitPattern: journey.startNs) &+ wallClockOffsetNs, to: &$0)
        }
        return time + " " + body(journey)
    }

    /// The line without the time.
    public static func body(_ journey: Journey) -> String {
        describe(journey.decoded, length: journey.length) + ": " + path(journey)
    }

    /// `vm1 rx -> uplink tx (+12.3us), vm2 tx (+13.0us) delivered`, and the like.
    public static func path(_ journey: Journey) -> String {
        var out = journey.ingress.map { "\($0.port) rx" } ?? "(not seen entering)"
        // Identical frames (a flood of one template) can pile many drops onto one
        // journey: each (port, reason, location) once, with how many more there were.
        var order: [String] = []
        var first: [String: DropRecord] = [:]
        var copies: [String: Int] = [:]
        for drop in journey.drops {
            let key = "dropped at \(drop.port): \(drop.reason) in \(drop.location)"
            if first[key] == nil { first[key] = drop; order.append(key) }
            copies[key, default: 0] += 1
        }
        let drops = order.map { key in
            key + latency(journey.latencyNs(of: first[key]!))
                + (copies[key]! > 1 ? " (and \(copies[key]! - 1) more of identical frames)" : "")
        }
        switch journey.outcome {
        case .delivered, .unseenIngress where !journey.egress.isEmpty:
            out += " -> " + journey.egress.map { "\($0.port) tx" + latency($0.latencyNs) }.joined(separator: ", ")
            out += journey.ingress == nil ? " (sent by the bridge host, or its ingress was not traced)" : " delivered"
            if !drops.isEmpty { out += "; " + drops.joined(separator: "; ") }
        case .dropped:
            out += " -> " + drops.joined(separator: "; ")
        case .vanished:
            out += " -> vanished (left no port, no drop event)"
        case .local:
            out += " -> to the bridge host (its own MAC)"
        case .unseenIngress:
            out += " -> left no port"
        }
        return out
    }

    /// ` (+12.3us)`, or nothing.
    static func latency(_ ns: UInt64?) -> String {
        guard let ns else { return "" }
        return " (+\(duration(ns)))"
    }

    /// `850ns`, `12.3us`, `1.25ms`, `2.0s`.
    public static func duration(_ ns: UInt64) -> String {
        func oneDecimal(_ value: Double) -> String {
            let tenths = Int((value * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)"
        }
        switch ns {
        case ..<1_000: return "\(ns)ns"
        case ..<1_000_000: return oneDecimal(Double(ns) / 1e3) + "us"
        case ..<1_000_000_000:
            let hundredths = Int((Double(ns) / 1e4).rounded())
            let fraction = hundredths % 100
            return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)ms"
        default: return oneDecimal(Double(ns) / 1e9) + "s"
        }
    }

    /// What the frame is, short: `ICMP echo request 198.18.0.11 > 198.18.0.1 id 7 seq 3`,
    /// `ARP who-has 198.18.0.1 tell 198.18.0.11`, `DHCP discover xid 0x1234abcd from 52:54:00:12:34:56`.
    public static func describe(_ decoded: DecodedFrame, length: Int) -> String {
        let tags = decoded.vlans.map { "vlan \($0.vid) " }.joined()
        return tags + describeUntagged(decoded, length: length)
    }

    static func describeUntagged(_ decoded: DecodedFrame, length: Int) -> String {
        if let arp = decoded.arp {
            let target = arp.targetIP?.description ?? "?"
            let sender = arp.senderIP?.description ?? "?"
            switch arp.op {
            case .request:
                return arp.senderIP == arp.targetIP ? "ARP announcement \(sender)" : "ARP who-has \(target) tell \(sender)"
            case .reply: return "ARP reply \(sender) is-at \(arp.senderMAC?.description ?? "?")"
            case .other(let op): return "ARP op \(op) \(sender) > \(target)"
            }
        }
        if let dhcp = decoded.dhcp {
            let name = dhcp.messageType.map { "DHCP \($0)" } ?? "BOOTP \(dhcp.op == 2 ? "reply" : "request")"
            let client = dhcp.clientMAC.map { " for \($0)" } ?? ""
            return name + " xid 0x" + hex32(dhcp.transactionID) + client
        }
        if let src = decoded.sourceIP, let dst = decoded.destinationIP {
            if let icmp = decoded.icmp {
                let family = decoded.kind == .icmp6 ? "ICMP6" : "ICMP"
                let echo = ICMPEcho(type: icmp.type, v6: decoded.kind == .icmp6)
                if let echo {
                    var text = "\(family) echo \(echo == .request ? "request" : "reply") \(src) > \(dst)"
                    if let id = icmp.id { text += " id \(id)" }
                    if let seq = icmp.seq { text += " seq \(seq)" }
                    return text
                }
                return "\(family) type \(icmp.type) code \(icmp.code) \(src) > \(dst)"
            }
            if let udp = decoded.udp { return "UDP \(src).\(udp.sourcePort) > \(dst).\(udp.destinationPort), length \(length)" }
            if let tcp = decoded.tcp { return "TCP \(src).\(tcp.sourcePort) > \(dst).\(tcp.destinationPort), length \(length)" }
            return "IP \(src) > \(dst) proto \(decoded.ipProtocol.map(String.init) ?? "?"), length \(length)"
        }
        let macs = "\(decoded.srcMAC?.description ?? "?") > \(decoded.dstMAC?.description ?? "?")"
        if let etherType = decoded.etherType { return "ethertype 0x" + hex16(etherType) + " " + macs + ", length \(length)" }
        return "ethernet " + macs + ", length \(length)"
    }

    static func hex32(_ value: UInt32) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - text.count)) + text
    }

    static func hex16(_ value: UInt16) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}

/// ICMP echo request/reply, v4 (8/0) or v6 (128/129).
enum ICMPEcho {
    case request, reply

    init?(type: UInt8, v6: Bool) {
        switch (type, v6) {
        case (8, false), (128, true): self = .request
        case (0, false), (129, true): self = .reply
        default: return nil
        }
    }
}
