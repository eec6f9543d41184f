/// Either family: the source or destination of an IP datagram.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public var description: String {
        switch self {
        case .v4(let address): return address.description
        case .v6(let address): return address.description
        }
    }
}

extension ASCIIBuffer {
    mutating func appendIP(_ address: IPAddress) {
        switch address {
        case .v4(let address): appendIPv4(address)
        case .v6(let address): appendIPv6(address)
        }
    }
}
