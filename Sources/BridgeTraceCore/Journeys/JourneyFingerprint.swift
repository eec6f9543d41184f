/// The identity of one frame as it crosses the bridge: a hash of the bytes the bridge does
/// not change between ports. VLAN tags are left out (they may be added, removed or
/// offloaded between ports), and so are IPv4's TTL and header checksum and IPv6's hop
/// limit. The hash covers the MAC addresses, the EtherType, then:
/// - ARP: the 28-byte ARP body;
/// - IPv4: the header (options included) and the first 8 bytes of its payload (ICMP type,
///   code, id and sequence; UDP/TCP ports);
/// - IPv6: the 40-byte header and the first 8 bytes after it;
/// - anything else: up to 32 bytes after the EtherType.
///
/// It is computed only when the captured bytes reach everything it covers, so a short
/// capture (a drop record's first bytes) hashes the same as a long one, or not at all.
/// FNV-1a, 64 bits: stable across runs, unlike `Hasher`.
public enum JourneyFingerprint {
    public static func of(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count >= 14 else { return nil }
        var hash = FNV1a()
        hash.add(bytes[0..<12])
        var offset = 12
        var etherType = UInt16(bytes[12]) << 8 | UInt16(bytes[13])
        while VLANTag.isTPID(etherType) {
            guard bytes.count >= offset + 6 else { return nil }
            offset += 4
            etherType = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        }
        hash.add(bytes[offset..<offset + 2])
        let start = offset + 2
        switch etherType {
        case 0x0806:
            guard bytes.count >= start + 28 else { return nil }
            hash.add(bytes[start..<start + 28])
        case 0x0800:
            guard bytes.count >= start + 20 else { return nil }
            let headerLength = Int(bytes[start] & 0x0f) * 4
            let totalLength = Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])
            guard headerLength >= 20, bytes.count >= start + headerLength else { return nil }
            hash.add(bytes[start..<start + 8])
            hash.add(bytes[start + 9..<start + 10])  // protocol; TTL (8) and checksum (10, 11) left out
            hash.add(bytes[start + 12..<start + headerLength])
            let payload = min(8, max(0, totalLength - headerLength))
            guard bytes.count >= start + headerLength + payload else { return nil }
            hash.add(bytes[start + headerLength..<start + headerLength + payload])
        case 0x86dd:
            guard bytes.count >= start + 40 else { return nil }
            hash.add(bytes[start..<start + 7])  // hop limit (7) left out
            hash.add(bytes[start + 8..<start + 40])
            let payloadLength = Int(bytes[start + 4]) << 8 | Int(bytes[start + 5])
            let payload = min(8, payloadLength)
            guard bytes.count >= start + 40 + payload else { return nil }
            hash.add(bytes[start + 40..<start + 40 + payload])
        default:
            let end = min(bytes.count, start + 32)
            hash.add(bytes[start..<end])
        }
        return hash.value
    }
}

struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: ArraySlice<UInt8>) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
    }
}
