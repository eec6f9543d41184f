/// DHCP option 53.
public struct DHCPMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let discover = DHCPMessageType(rawValue: 1)
    public static let offer = DHCPMessageType(rawValue: 2)
    public static let request = DHCPMessageType(rawValue: 3)
    public static let decline = DHCPMessageType(rawValue: 4)
    public static let ack = DHCPMessageType(rawValue: 5)
    public static let nak = DHCPMessageType(rawValue: 6)
    public static let release = DHCPMessageType(rawValue: 7)
    public static let inform = DHCPMessageType(rawValue: 8)

    /// `discover`, `offer`, ... or `type N`: the JSON `dhcp.message_type`.
    public var description: String {
        if let name = staticName { return name.description }
        return "type \(rawValue)"
    }

    var staticName: StaticString? {
        switch rawValue {
        case 1: return "discover"
        case 2: return "offer"
        case 3: return "request"
        case 4: return "decline"
        case 5: return "ack"
        case 6: return "nak"
        case 7: return "release"
        case 8: return "inform"
        case 9: return "forcerenew"
        case 10: return "leasequery"
        default: return nil
        }
    }
}

/// A DHCP (BOOTP) message, as far as the capture reaches. With the default snap length
/// the options (from byte 240 of the message) are usually not captured, and
/// `messageType` is nil.
public struct DHCPInfo: Hashable, Sendable {
    /// 1 BOOTREQUEST, 2 BOOTREPLY.
    public var op: UInt8
    /// xid.
    public var transactionID: UInt32
    /// chaddr, when htype is Ethernet (1) and hlen 6.
    public var clientMAC: MACAddress?
    /// ciaddr, when nonzero.
    public var clientIP: IPv4Address?
    /// yiaddr, when nonzero: the address an offer or ack gives.
    public var yourIP: IPv4Address?
    public var messageType: DHCPMessageType?
    /// Option 50.
    public var requestedIP: IPv4Address?
    /// Option 54.
    public var serverID: IPv4Address?

    public init(op: UInt8, transactionID: UInt32, clientMAC: MACAddress? = nil, clientIP: IPv4Address? = nil,
                yourIP: IPv4Address? = nil, messageType: DHCPMessageType? = nil,
                requestedIP: IPv4Address? = nil, serverID: IPv4Address? = nil) {
        self.op = op
        self.transactionID = transactionID
        self.clientMAC = clientMAC
        self.clientIP = clientIP
        self.yourIP = yourIP
        self.messageType = messageType
        self.requestedIP = requestedIP
        self.serverID = serverID
    }

    /// `BOOTREQUEST`, `BOOTREPLY` or `op N`.
    public var opName: String {
        switch op {
        case 1: return "BOOTREQUEST"
        case 2: return "BOOTREPLY"
        default: return "op \(op)"
        }
    }
}
