/// The IPv4 header fields a trace shows.
public struct IPv4Info: Hashable, Sendable {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var `protocol`: UInt8
    public var ttl: UInt8
    /// IHL in bytes: 20, or more with options.
    public var headerLength: Int
    /// The total length field (header and payload).
    public var totalLength: UInt16
    public var identification: UInt16
    public var dontFragment: Bool
    public var moreFragments: Bool
    /// Fragment offset in bytes.
    public var fragmentOffset: Int

    public init(source: IPv4Address, destination: IPv4Address, protocol: UInt8, ttl: UInt8 = 64,
                headerLength: Int = 20, totalLength: UInt16 = 20, identification: UInt16 = 0,
                dontFragment: Bool = false, moreFragments: Bool = false, fragmentOffset: Int = 0) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.ttl = ttl
        self.headerLength = headerLength
        self.totalLength = totalLength
        self.identification = identification
        self.dontFragment = dontFragment
        self.moreFragments = moreFragments
        self.fragmentOffset = fragmentOffset
    }

    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
}

/// An IPv6 fragment extension header.
public struct IPv6Fragment: Hashable, Sendable {
    public var identification: UInt32
    /// Fragment offset in bytes.
    public var offset: Int
    public var moreFragments: Bool

    public init(identification: UInt32, offset: Int, moreFragments: Bool) {
        self.identification = identification
        self.offset = offset
        self.moreFragments = moreFragments
    }
}

/// The IPv6 header fields a trace shows.
public struct IPv6Info: Hashable, Sendable {
    public var source: IPv6Address
    public var destination: IPv6Address
    /// The next header field of the fixed header; `DecodedFrame.ipProtocol` is the one
    /// after any extension headers.
    public var nextHeader: UInt8
    public var hopLimit: UInt8
    public var payloadLength: UInt16
    public var fragment: IPv6Fragment?

    public init(source: IPv6Address, destination: IPv6Address, nextHeader: UInt8, hopLimit: UInt8 = 64,
                payloadLength: UInt16 = 0, fragment: IPv6Fragment? = nil) {
        self.source = source
        self.destination = destination
        self.nextHeader = nextHeader
        self.hopLimit = hopLimit
        self.payloadLength = payloadLength
        self.fragment = fragment
    }
}

/// IP protocol numbers the decoder and formatters name.
public enum IPProtocolNumber {
    public static let hopByHop: UInt8 = 0
    public static let icmp: UInt8 = 1
    public static let igmp: UInt8 = 2
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let routing: UInt8 = 43
    public static let fragment: UInt8 = 44
    public static let gre: UInt8 = 47
    public static let esp: UInt8 = 50
    public static let ah: UInt8 = 51
    public static let icmp6: UInt8 = 58
    public static let noNextHeader: UInt8 = 59
    public static let destinationOptions: UInt8 = 60
    public static let ospf: UInt8 = 89
    public static let vrrp: UInt8 = 112
    public static let sctp: UInt8 = 132

    /// Lowercase name as tcpdump prints it, or nil.
    static func name(_ number: UInt8) -> StaticString? {
        switch number {
        case icmp: return "icmp"
        case igmp: return "igmp"
        case tcp: return "tcp"
        case udp: return "udp"
        case gre: return "gre"
        case esp: return "esp"
        case ah: return "ah"
        case icmp6: return "icmp6"
        case ospf: return "ospf"
        case vrrp: return "vrrp"
        case sctp: return "sctp"
        default: return nil
        }
    }
}
