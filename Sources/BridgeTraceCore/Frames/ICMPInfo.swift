/// The IPv4 header and first transport bytes that an ICMPv4 error quotes: which datagram
/// could not be delivered.
public struct ICMPQuotedDatagram: Hashable, Sendable {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var `protocol`: UInt8
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?

    public init(source: IPv4Address, destination: IPv4Address, protocol: UInt8,
                sourcePort: UInt16? = nil, destinationPort: UInt16? = nil) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }
}

/// An ICMP or ICMPv6 message (`DecodedFrame.kind` tells which).
public struct ICMPInfo: Hashable, Sendable {
    public var type: UInt8
    public var code: UInt8
    /// Echo request and reply only (v4 types 8/0, v6 types 128/129).
    public var id: UInt16?
    public var seq: UInt16?
    /// v4 "fragmentation needed" (type 3 code 4) and v6 "packet too big" (type 2).
    public var mtu: UInt32?
    /// v6 neighbor solicitation and advertisement (types 135/136): the target address.
    public var target: IPv6Address?
    /// v4 destination unreachable (type 3): the datagram it is about.
    public var quoted: ICMPQuotedDatagram?

    public init(type: UInt8, code: UInt8, id: UInt16? = nil, seq: UInt16? = nil, mtu: UInt32? = nil,
                target: IPv6Address? = nil, quoted: ICMPQuotedDatagram? = nil) {
        self.type = type
        self.code = code
        self.id = id
        self.seq = seq
        self.mtu = mtu
        self.target = target
        self.quoted = quoted
    }
}
