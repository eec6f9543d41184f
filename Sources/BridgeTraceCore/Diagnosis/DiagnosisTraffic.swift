/// Words for the traffic a finding is about: "ICMP echo requests from 198.18.0.11 to
/// 198.18.0.1", "ARP requests from 198.18.0.11 for 198.18.0.12".
enum DiagnosisTraffic {
    static func phrase(_ decoded: DecodedFrame) -> String {
        let vlan = decoded.outerVLAN.map { " on VLAN \($0)" } ?? ""
        if let arp = decoded.arp {
            let sender = arp.senderIP.map { " from \($0)" } ?? ""
            switch arp.op {
            case .request: return "ARP requests\(sender)" + (arp.targetIP.map { " for \($0)" } ?? "") + vlan
            case .reply: return "ARP replies\(sender)" + vlan
            case .other: return "ARP frames\(sender)" + vlan
            }
        }
        if let dhcp = decoded.dhcp {
            let client = dhcp.clientMAC.map { " for \($0)" } ?? ""
            return (dhcp.op == 2 ? "DHCP replies" : "DHCP requests") + client + vlan
        }
        if let src = decoded.sourceIP, let dst = decoded.destinationIP {
            let ends = " from \(src) to \(dst)"
            if let icmp = decoded.icmp {
                let family = decoded.kind == .icmp6 ? "ICMPv6" : "ICMP"
                switch ICMPEcho(type: icmp.type, v6: decoded.kind == .icmp6) {
                case .request: return "\(family) echo requests" + ends + vlan
                case .reply: return "\(family) echo replies" + ends + vlan
                case nil: return "\(family) type \(icmp.type) messages" + ends + vlan
                }
            }
            if decoded.udp != nil { return "UDP datagrams" + ends + vlan }
            if decoded.tcp != nil { return "TCP segments" + ends + vlan }
            return "IP packets" + ends + vlan
        }
        if let src = decoded.srcMAC { return "frames from \(src)" + vlan }
        return "frames" + vlan
    }

    /// The most common phrase of some frames, with "and N other frames" when they differ.
    static func phrase(of frames: [DecodedFrame]) -> String {
        guard !frames.isEmpty else { return "frames" }
        var counts: [String: Int] = [:]
        for frame in frames { counts[phrase(frame), default: 0] += 1 }
        let top = DiagnosisContext.most(counts)
        let others = frames.count - counts[top]!
        return others > 0 ? "\(top) (and \(others) other frame\(others == 1 ? "" : "s"))" : top
    }

    /// Up to `limit` example lines: `ICMP echo request ... seq 3: vm1 rx -> dropped at ...`.
    /// Identical lines are shown once, with their count.
    static func examples(_ journeys: [Journey], limit: Int = 3) -> [String] {
        var lines: [String] = []
        var counts: [String: Int] = [:]
        for journey in journeys {
            let line = JourneyText.body(journey)
            if counts[line] == nil {
                if lines.count == limit { continue }
                lines.append(line)
            }
            counts[line, default: 0] += 1
        }
        return lines.map { line in "e.g. " + line + (counts[line]! > 1 ? " (x\(counts[line]!))" : "") }
    }

    /// "3 frames" / "1 frame".
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// "over 4.0 s".
    static func span(_ from: UInt64, _ to: UInt64) -> String {
        let seconds = DiagnosisContext.seconds(from, to)
        let tenths = Int((seconds * 10).rounded())
        return "over \(tenths / 10).\(tenths % 10) s"
    }
}
