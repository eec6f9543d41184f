/// DHCP: the BOOTP fixed header and the options after the magic cookie.
extension FrameDecoding {
    static let dhcpMagicCookie: UInt32 = 0x6382_5363

    mutating func decodeDHCP(at start: Int, limit: Int) {
        // op, htype, hlen, hops, xid
        guard has(start + 8, limit: limit) else { return }
        var dhcp = DHCPInfo(op: bytes.u8(start), transactionID: bytes.u32(start + 4))
        defer { frame.dhcp = dhcp }
        let ethernetChaddr = bytes.u8(start + 1) == 1 && bytes.u8(start + 2) == 6
        guard has(start + 16, limit: limit) else { return }
        dhcp.clientIP = nonzero(bytes.ipv4(start + 12))
        guard has(start + 20, limit: limit) else { return }
        dhcp.yourIP = nonzero(bytes.ipv4(start + 16))
        guard has(start + 34, limit: limit) else { return }
        if ethernetChaddr { dhcp.clientMAC = bytes.mac(start + 28) }
        // sname, file, then the cookie: without it this is plain BOOTP, with no options.
        guard has(start + 240, limit: limit), bytes.u32(start + 236) == Self.dhcpMagicCookie else { return }
        var offset = start + 240
        while has(offset + 1, limit: limit) {
            let code = bytes.u8(offset)
            if code == 0 { offset += 1; continue }  // pad
            if code == 255 { return }  // end
            guard has(offset + 2, limit: limit) else { return }
            let length = Int(bytes.u8(offset + 1))
            let value = offset + 2
            guard has(value + length, limit: limit) else { return }
            switch code {
            case 53 where length >= 1: dhcp.messageType = DHCPMessageType(rawValue: bytes.u8(value))
            case 50 where length == 4: dhcp.requestedIP = bytes.ipv4(value)
            case 54 where length == 4: dhcp.serverID = bytes.ipv4(value)
            default: break
            }
            offset = value + length
        }
    }

    private func nonzero(_ address: IPv4Address) -> IPv4Address? {
        address.rawValue == 0 ? nil : address
    }
}
