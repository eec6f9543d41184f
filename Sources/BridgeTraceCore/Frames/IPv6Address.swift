/// An IPv6 address. Printed in RFC 5952 form: lowercase, no leading zeros, the longest
/// run of two or more zero groups (the first, on a tie) as `::`, and IPv4-mapped addresses
/// as `::ffff:192.0.2.1`.
public struct IPv6Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Groups 0...3, first group in the top 16 bits.
    public let high: UInt64
    /// Groups 4...7.
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Eight 16-bit groups.
    public init(groups g: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16)) {
        high = UInt64(g.0) << 48 | UInt64(g.1) << 32 | UInt64(g.2) << 16 | UInt64(g.3)
        low = UInt64(g.4) << 48 | UInt64(g.5) << 32 | UInt64(g.6) << 16 | UInt64(g.7)
    }

    /// Exactly sixteen octets, as on the wire.
    public init?(_ octets: some Collection<UInt8>) {
        guard octets.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, octet) in octets.enumerated() {
            if index < 8 { high = high << 8 | UInt64(octet) } else { low = low << 8 | UInt64(octet) }
        }
        self.high = high
        self.low = low
    }

    public func group(_ index: Int) -> UInt16 {
        let word = index < 4 ? high : low
        return UInt16(truncatingIfNeeded: word >> UInt64(48 - 16 * (index & 3)))
    }

    public var isLinkLocal: Bool { high >> 54 == 0x3fa }  // fe80::/10
    public var isMulticast: Bool { high >> 56 == 0xff }

    public var description: String {
        ASCIIBuffer.string(capacity: 39) { $0.appendIPv6(self) }
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

extension ASCIIBuffer {
    mutating func appendIPv6(_ address: IPv6Address) {
        // ::ffff:a.b.c.d
        if address.high == 0 && address.low >> 32 == 0xffff {
            appendASCII("::ffff:")
            appendIPv4(IPv4Address(rawValue: UInt32(truncatingIfNeeded: address.low)))
            return
        }
        // The longest run of zero groups, at least two long; the first one on a tie.
        var bestStart = -1
        var bestLength = 1
        var runStart = -1
        for index in 0..<8 {
            if address.group(index) == 0 {
                if runStart < 0 { runStart = index }
                let length = index - runStart + 1
                if length > bestLength {
                    bestLength = length
                    bestStart = runStart
                }
            } else {
                runStart = -1
            }
        }
        var index = 0
        while index < 8 {
            if index == bestStart {
                appendASCII("::")
                index += bestLength
                continue
            }
            if index > 0 && index != bestStart + bestLength { append(UInt8(ascii: ":")) }
            appendHex(address.group(index))
            index += 1
        }
    }
}
