/// IPv4 and IPv6 headers, IPv6 extension headers.
extension FrameDecoding {
    mutating func decodeIPv4(at start: Int) {
        guard has(start + 20) else { return }
        let headerLength = Int(bytes.u8(start) & 0x0f) * 4
        let totalLength = bytes.u16(start + 2)
        let fragmentField = bytes.u16(start + 6)
        let ipProtocol = bytes.u8(start + 9)
        let info = IPv4Info(
            source: bytes.ipv4(start + 12), destination: bytes.ipv4(start + 16), protocol: ipProtocol,
            ttl: bytes.u8(start + 8), headerLength: headerLength, totalLength: totalLength,
            identification: bytes.u16(start + 4), dontFragment: fragmentField & 0x4000 != 0,
            moreFragments: fragmentField & 0x2000 != 0, fragmentOffset: Int(fragmentField & 0x1fff) * 8)
        frame.ipv4 = info
        // An IHL under 5 is malformed: nothing past the fixed header can be trusted.
        guard headerLength >= 20 else { return }
        // A total length shorter than the header (0 under TSO, or bogus) declares nothing.
        let declaredEnd = Int(totalLength) >= headerLength ? start + Int(totalLength) : Int.max
        let payloadStart = start + headerLength
        // The protocol is known from the fixed header even when the options are cut, as the
        // kernel's classifier sees it.
        frame.ipProtocol = ipProtocol
        if declaredEnd != .max {
            frame.ipPayloadLength = declaredEnd - payloadStart
        } else if payloadStart <= bytes.count {
            frame.ipPayloadLength = bytes.count - payloadStart
        }
        guard has(payloadStart, limit: declaredEnd) else { return }
        // Only the first fragment carries the transport header.
        guard info.fragmentOffset == 0 else { return }
        decodeTransport(ipProtocol, at: payloadStart, limit: declaredEnd, overIPv6: false)
    }

    mutating func decodeIPv6(at start: Int) {
        guard has(start + 40) else { return }
        let payloadLength = bytes.u16(start + 4)
        var info = IPv6Info(source: bytes.ipv6(start + 8), destination: bytes.ipv6(start + 24),
                            nextHeader: bytes.u8(start + 6), hopLimit: bytes.u8(start + 7),
                            payloadLength: payloadLength)
        // A zero payload length is a jumbogram (or GSO): it declares nothing.
        let declaredEnd = payloadLength > 0 ? start + 40 + Int(payloadLength) : Int.max
        var next = info.nextHeader
        var offset = start + 40
        var followed = 0
        defer { frame.ipv6 = info }
        while followed < FrameDecoder.maxIPv6ExtensionHeaders {
            let headerLength: Int
            switch next {
            case IPProtocolNumber.hopByHop, IPProtocolNumber.routing, IPProtocolNumber.destinationOptions:
                guard has(offset + 2, limit: declaredEnd) else { return }
                headerLength = (Int(bytes.u8(offset + 1)) + 1) * 8
            case IPProtocolNumber.ah:
                guard has(offset + 2, limit: declaredEnd) else { return }
                headerLength = (Int(bytes.u8(offset + 1)) + 2) * 4
            case IPProtocolNumber.fragment:
                guard has(offset + 8, limit: declaredEnd) else { return }
                headerLength = 8
                let field = bytes.u16(offset + 2)
                info.fragment = IPv6Fragment(identification: bytes.u32(offset + 4), offset: Int(field & 0xfff8),
                                             moreFragments: field & 1 != 0)
            default:
                headerLength = 0
            }
            if headerLength == 0 { break }
            guard has(offset + headerLength, limit: declaredEnd) else { return }
            next = bytes.u8(offset)
            offset += headerLength
            followed += 1
        }
        if followed == FrameDecoder.maxIPv6ExtensionHeaders && isIPv6ExtensionHeader(next) { return }
        frame.ipProtocol = next
        frame.ipPayloadLength = declaredEnd == .max ? bytes.count - offset : declaredEnd - offset
        if let fragment = info.fragment, fragment.offset != 0 { return }
        decodeTransport(next, at: offset, limit: declaredEnd, overIPv6: true)
    }

    private func isIPv6ExtensionHeader(_ next: UInt8) -> Bool {
        switch next {
        case IPProtocolNumber.hopByHop, IPProtocolNumber.routing, IPProtocolNumber.destinationOptions,
             IPProtocolNumber.ah, IPProtocolNumber.fragment:
            return true
        default:
            return false
        }
    }
}
