/// One network interface as rtnetlink reports it (an RTM_NEWLINK message).
public struct NetLink: Sendable, Equatable {
    /// RFC 2863 operational state (IFLA_OPERSTATE, the kernel's IF_OPER_* values).
    public enum OperState: UInt8, Sendable, Equatable {
        case unknown = 0
        case notPresent = 1
        case down = 2
        case lowerLayerDown = 3
        case testing = 4
        case dormant = 5
        case up = 6
    }

    public var ifindex: Int32
    public var name: String
    /// IFLA_INFO_KIND ("bridge", "veth", "tun"...); nil for links without a driver kind,
    /// such as `lo` or a physical NIC.
    public var kind: String?
    /// The ifindex of the master (a bridge, for a bridge port); nil when there is none.
    public var masterIndex: Int32?
    public var mtu: UInt32
    /// IFF_UP: administratively up. Says nothing about carrier; see `operState`.
    public var isUp: Bool
    public var operState: OperState
    /// IFLA_CARRIER; nil when the kernel did not report it.
    public var hasCarrier: Bool?
    /// Hardware address; empty when the link has none.
    public var mac: [UInt8]

    public init(
        ifindex: Int32, name: String, kind: String? = nil, masterIndex: Int32? = nil,
        mtu: UInt32, isUp: Bool, operState: OperState, hasCarrier: Bool? = nil, mac: [UInt8] = []
    ) {
        self.ifindex = ifindex
        self.name = name
        self.kind = kind
        self.masterIndex = masterIndex
        self.mtu = mtu
        self.isUp = isUp
        self.operState = operState
        self.hasCarrier = hasCarrier
        self.mac = mac
    }

    public var isBridge: Bool { kind == "bridge" }
}
