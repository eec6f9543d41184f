/// A 48-bit Ethernet address. Printed as `52:54:00:12:34:56`.
public struct MACAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The six octets, first octet in bits 40..47.
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue & 0xffff_ffff_ffff
    }

    /// Exactly six octets, as on the wire.
    public init?(_ octets: some Collection<UInt8>) {
        guard octets.count == 6 else { return nil }
        var value: UInt64 = 0
        for octet in octets { value = value << 8 | UInt64(octet) }
        self.rawValue = value
    }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, _ f: UInt8) {
        self.rawValue = UInt64(a) << 40 | UInt64(b) << 32 | UInt64(c) << 24
            | UInt64(d) << 16 | UInt64(e) << 8 | UInt64(f)
    }

    public static let broadcast = MACAddress(rawValue: 0xffff_ffff_ffff)
    public static let zero = MACAddress(rawValue: 0)

    public var octets: [UInt8] {
        (0..<6).map { UInt8(truncatingIfNeeded: rawValue >> UInt64(40 - 8 * $0)) }
    }

    public var isBroadcast: Bool { rawValue == 0xffff_ffff_ffff }
    /// The group bit: broadcast and multicast.
    public var isMulticast: Bool { rawValue & (1 << 40) != 0 }

    public var description: String {
        ASCIIBuffer.string(capacity: 17) { $0.appendMAC(self) }
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension ASCIIBuffer {
    mutating func appendMAC(_ address: MACAddress) {
        appendMAC48(address.rawValue)
    }
}
