/// An IPv4 address, printed dotted: `198.18.0.11`.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Host order: `10.0.0.1` is 0x0a000001.
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Exactly four octets, as on the wire.
    public init?(_ octets: some Collection<UInt8>) {
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets { value = value << 8 | UInt32(octet) }
        rawValue = value
    }

    /// Dotted quad, e.g. `"10.0.0.1"`; nil for anything else.
    public init?(_ text: String) {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if byte >= 0x30 && byte <= 0x39 {
                octet = octet * 10 + UInt32(byte - 0x30)
                digits += 1
                guard octet <= 255, digits <= 3 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        rawValue = value << 8 | octet
    }

    public static let any = IPv4Address(rawValue: 0)
    public static let broadcast = IPv4Address(rawValue: 0xffff_ffff)

    public var octets: [UInt8] {
        [UInt8(truncatingIfNeeded: rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16),
         UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue)]
    }

    public var description: String {
        ASCIIBuffer.string(capacity: 15) { $0.appendIPv4(self) }
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension ASCIIBuffer {
    mutating func appendIPv4(_ address: IPv4Address) {
        appendDecimal(UInt64(address.rawValue >> 24))
        append(UInt8(ascii: "."))
        appendDecimal(UInt64((address.rawValue >> 16) & 0xff))
        append(UInt8(ascii: "."))
        appendDecimal(UInt64((address.rawValue >> 8) & 0xff))
        append(UInt8(ascii: "."))
        appendDecimal(UInt64(address.rawValue & 0xff))
    }
}
