/// What netlink says about a bridge and its ports at one moment: the facts the diagnosis
/// rules need besides traffic (STP state, isolation, carrier, MTU, the FDB).
public struct BridgeState: Sendable, Equatable {
    public struct Bridge: Sendable, Equatable {
        public var name: String
        public var ifindex: Int32
        public var isUp: Bool
        public var mtu: UInt32
        public var mac: String
        /// IFLA_BR_STP_STATE != 0.
        public var stpEnabled: Bool
        /// IFLA_BR_VLAN_FILTERING != 0.
        public var vlanFiltering: Bool
        /// Seconds (IFLA_BR_AGEING_TIME is in centiseconds).
        public var ageingTime: Double
        /// The bridge's own IPv4 addresses, "198.18.0.2/24": the host's side of the segment.
        public var addresses: [String]

        public init(name: String, ifindex: Int32, isUp: Bool = true, mtu: UInt32 = 1500, mac: String = "",
                    stpEnabled: Bool = false, vlanFiltering: Bool = false, ageingTime: Double = 300,
                    addresses: [String] = []) {
            self.name = name
            self.ifindex = ifindex
            self.isUp = isUp
            self.mtu = mtu
            self.mac = mac
            self.stpEnabled = stpEnabled
            self.vlanFiltering = vlanFiltering
            self.ageingTime = ageingTime
            self.addresses = addresses
        }

        /// The addresses parsed: (address, prefix length).
        public var subnets: [(address: IPv4Address, prefix: Int)] {
            addresses.compactMap { text in
                let parts = text.split(separator: "/")
                guard parts.count == 2, let address = IPv4Address(String(parts[0])), let prefix = Int(parts[1]),
                      (0...32).contains(prefix) else { return nil }
                return (address, prefix)
            }
        }
    }

    /// BR_STATE_* (IFLA_BRPORT_STATE).
    public enum STPState: UInt8, Sendable, Equatable {
        case disabled = 0, listening = 1, learning = 2, forwarding = 3, blocking = 4

        public var name: String {
            switch self {
            case .disabled: return "disabled"
            case .listening: return "listening"
            case .learning: return "learning"
            case .forwarding: return "forwarding"
            case .blocking: return "blocking"
            }
        }
    }

    public struct Port: Sendable, Equatable {
        public var name: String
        public var ifindex: Int32
        /// IFLA_INFO_KIND: "veth", "tun" (taps), nil for a physical NIC.
        public var kind: String?
        public var mac: String
        public var mtu: UInt32
        /// IFF_UP.
        public var isUp: Bool
        /// IFLA_CARRIER.
        public var hasCarrier: Bool
        /// IFLA_OPERSTATE name: "up", "down", "lowerlayerdown", "unknown"...
        public var operState: String
        public var stpState: STPState
        public var isolated: Bool
        public var learning: Bool
        public var unicastFlood: Bool
        public var broadcastFlood: Bool

        public init(name: String, ifindex: Int32, kind: String? = "veth", mac: String = "", mtu: UInt32 = 1500,
                    isUp: Bool = true, hasCarrier: Bool = true, operState: String = "up",
                    stpState: STPState = .forwarding, isolated: Bool = false, learning: Bool = true,
                    unicastFlood: Bool = true, broadcastFlood: Bool = true) {
            self.name = name
            self.ifindex = ifindex
            self.kind = kind
            self.mac = mac
            self.mtu = mtu
            self.isUp = isUp
            self.hasCarrier = hasCarrier
            self.operState = operState
            self.stpState = stpState
            self.isolated = isolated
            self.learning = learning
            self.unicastFlood = unicastFlood
            self.broadcastFlood = broadcastFlood
        }
    }

    public struct FDBEntry: Sendable, Equatable {
        public var mac: String
        public var ifindex: Int32
        public var port: String
        /// The bridge's own addresses (NUD_PERMANENT, "self"/local entries).
        public var isLocal: Bool
        public var isStatic: Bool
        public var vlan: UInt16?

        public init(mac: String, ifindex: Int32, port: String, isLocal: Bool = false, isStatic: Bool = false,
                    vlan: UInt16? = nil) {
            self.mac = mac
            self.ifindex = ifindex
            self.port = port
            self.isLocal = isLocal
            self.isStatic = isStatic
            self.vlan = vlan
        }
    }

    /// Device statistics of a port (ip -s link), for drops that free no skb.
    public struct DeviceCounters: Sendable, Equatable {
        public var rxPackets: UInt64 = 0
        public var txPackets: UInt64 = 0
        public var rxDropped: UInt64 = 0
        public var txDropped: UInt64 = 0
        public var rxMissedErrors: UInt64 = 0
        public var txErrors: UInt64 = 0

        public init(rxPackets: UInt64 = 0, txPackets: UInt64 = 0, rxDropped: UInt64 = 0, txDropped: UInt64 = 0,
                    rxMissedErrors: UInt64 = 0, txErrors: UInt64 = 0) {
            self.rxPackets = rxPackets
            self.txPackets = txPackets
            self.rxDropped = rxDropped
            self.txDropped = txDropped
            self.rxMissedErrors = rxMissedErrors
            self.txErrors = txErrors
        }
    }

    public var bridge: Bridge
    public var ports: [Port]
    public var fdb: [FDBEntry]
    /// By port name.
    public var deviceCounters: [String: DeviceCounters]
    /// Netfilter in the bridge's namespace; nil when it could not be read.
    public var netfilter: NetfilterState?

    public init(bridge: Bridge, ports: [Port], fdb: [FDBEntry] = [], deviceCounters: [String: DeviceCounters] = [:],
                netfilter: NetfilterState? = nil) {
        self.bridge = bridge
        self.ports = ports
        self.fdb = fdb
        self.deviceCounters = deviceCounters
        self.netfilter = netfilter
    }

    public func port(named name: String) -> Port? { ports.first { $0.name == name } }
    public func port(ifindex: Int32) -> Port? { ports.first { $0.ifindex == ifindex } }
}
