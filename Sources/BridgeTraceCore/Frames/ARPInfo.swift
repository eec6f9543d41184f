/// The ARP opcode.
public enum ARPOperation: Hashable, Sendable, CustomStringConvertible {
    case request
    case reply
    case other(UInt16)

    public init(rawValue: UInt16) {
        switch rawValue {
        case 1: self = .request
        case 2: self = .reply
        default: self = .other(rawValue)
        }
    }

    public var rawValue: UInt16 {
        switch self {
        case .request: return 1
        case .reply: return 2
        case .other(let value): return value
        }
    }

    /// `request`, `reply` or `op N`: the JSON `arp.op`.
    public var description: String {
        switch self {
        case .request: return "request"
        case .reply: return "reply"
        case .other(let value): return "op \(value)"
        }
    }
}

/// An ARP packet. Addresses are read for Ethernet/IPv4 ARP only (htype 1, ptype 0x0800,
/// hlen 6, plen 4), and only as far as the capture reaches.
public struct ARPInfo: Hashable, Sendable {
    public var op: ARPOperation
    public var hardwareType: UInt16
    public var protocolType: UInt16
    public var hardwareLength: UInt8
    public var protocolLength: UInt8
    public var senderMAC: MACAddress?
    public var senderIP: IPv4Address?
    public var targetMAC: MACAddress?
    public var targetIP: IPv4Address?

    public init(op: ARPOperation, hardwareType: UInt16 = 1, protocolType: UInt16 = 0x0800,
                hardwareLength: UInt8 = 6, protocolLength: UInt8 = 4,
                senderMAC: MACAddress? = nil, senderIP: IPv4Address? = nil,
                targetMAC: MACAddress? = nil, targetIP: IPv4Address? = nil) {
        self.op = op
        self.hardwareType = hardwareType
        self.protocolType = protocolType
        self.hardwareLength = hardwareLength
        self.protocolLength = protocolLength
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
    }

    /// Ethernet hardware, IPv4 protocol addresses.
    public var isEthernetIPv4: Bool {
        hardwareType == 1 && protocolType == 0x0800 && hardwareLength == 6 && protocolLength == 4
    }
}
