/// ICMP, ICMPv6, UDP and TCP headers.
extension FrameDecoding {
    mutating func decodeTransport(_ ipProtocol: UInt8, at start: Int, limit: Int, overIPv6: Bool) {
        switch ipProtocol {
        case IPProtocolNumber.icmp where !overIPv6: decodeICMPv4(at: start, limit: limit)
        case IPProtocolNumber.icmp6 where overIPv6: decodeICMPv6(at: start, limit: limit)
        case IPProtocolNumber.udp: decodeUDP(at: start, limit: limit, overIPv6: overIPv6)
        case IPProtocolNumber.tcp: decodeTCP(at: start, limit: limit)
        default: break
        }
    }

    mutating func decodeICMPv4(at start: Int, limit: Int) {
        guard has(start + 4, limit: limit) else { return }
        var icmp = ICMPInfo(type: bytes.u8(start), code: bytes.u8(start + 1))
        defer { frame.icmp = icmp }
        switch icmp.type {
        case 0, 8:
            guard has(start + 8, limit: limit) else { return }
            icmp.id = bytes.u16(start + 4)
            icmp.seq = bytes.u16(start + 6)
        case 3:
            guard has(start + 8, limit: limit) else { return }
            if icmp.code == 4 { icmp.mtu = UInt32(bytes.u16(start + 6)) }
            icmp.quoted = quotedDatagram(at: start + 8, limit: limit)
        default:
            break
        }
    }

    /// The IPv4 header (and ports) an ICMP error quotes.
    private mutating func quotedDatagram(at start: Int, limit: Int) -> ICMPQuotedDatagram? {
        guard has(start + 20, limit: limit) else { return nil }
        var quoted = ICMPQuotedDatagram(source: bytes.ipv4(start + 12), destination: bytes.ipv4(start + 16),
                                        protocol: bytes.u8(start + 9))
        let headerLength = Int(bytes.u8(start) & 0x0f) * 4
        let firstFragment = bytes.u16(start + 6) & 0x1fff == 0
        if headerLength >= 20, firstFragment,
           quoted.protocol == IPProtocolNumber.udp || quoted.protocol == IPProtocolNumber.tcp,
           has(start + headerLength + 4, limit: limit) {
            quoted.sourcePort = bytes.u16(start + headerLength)
            quoted.destinationPort = bytes.u16(start + headerLength + 2)
        }
        return quoted
    }

    mutating func decodeICMPv6(at start: Int, limit: Int) {
        guard has(start + 4, limit: limit) else { return }
        var icmp = ICMPInfo(type: bytes.u8(start), code: bytes.u8(start + 1))
        defer { frame.icmp = icmp }
        switch icmp.type {
        case 128, 129:
            guard has(start + 8, limit: limit) else { return }
            icmp.id = bytes.u16(start + 4)
            icmp.seq = bytes.u16(start + 6)
        case 2:
            guard has(start + 8, limit: limit) else { return }
            icmp.mtu = bytes.u32(start + 4)
        case 135, 136:
            guard has(start + 24, limit: limit) else { return }
            icmp.target = bytes.ipv6(start + 8)
        default:
            break
        }
    }

    mutating func decodeUDP(at start: Int, limit: Int, overIPv6: Bool) {
        guard has(start + 8, limit: limit) else { return }
        let udp = UDPInfo(sourcePort: bytes.u16(start), destinationPort: bytes.u16(start + 2),
                          length: bytes.u16(start + 4))
        frame.udp = udp
        guard !overIPv6,
              (udp.sourcePort == 68 && udp.destinationPort == 67) || (udp.sourcePort == 67 && udp.destinationPort == 68)
        else { return }
        // The UDP length bounds the message unless it is bogus.
        let udpEnd = udp.length >= 8 ? start + Int(udp.length) : Int.max
        decodeDHCP(at: start + 8, limit: min(limit, udpEnd))
    }

    mutating func decodeTCP(at start: Int, limit: Int) {
        guard has(start + 20, limit: limit) else { return }
        let offsetAndFlags = bytes.u16(start + 12)
        frame.tcp = TCPInfo(sourcePort: bytes.u16(start), destinationPort: bytes.u16(start + 2),
                            flags: offsetAndFlags & 0x01ff, headerLength: Int(offsetAndFlags >> 12) * 4)
    }
}
