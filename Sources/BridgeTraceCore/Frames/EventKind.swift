import CBridgeTraceABI

/// What a trace event is about: the `kind` of `trace --json` (DESIGN.md), and
/// `enum bt_kind` on the kernel side.
public enum EventKind: String, CaseIterable, Sendable {
    case arp, icmp, icmp6, dhcp, vlan, drop, other

    /// The `enum bt_kind` value.
    public var abiValue: UInt32 {
        switch self {
        case .arp: return BT_KIND_ARP.rawValue
        case .icmp: return BT_KIND_ICMP.rawValue
        case .icmp6: return BT_KIND_ICMP6.rawValue
        case .dhcp: return BT_KIND_DHCP.rawValue
        case .vlan: return BT_KIND_VLAN.rawValue
        case .drop: return BT_KIND_DROP.rawValue
        case .other: return BT_KIND_OTHER.rawValue
        }
    }

    /// From `bt_frame_event.kind`; nil for BT_KIND_NONE and unknown values. Runs per
    /// event, so a switch rather than a search through allCases.
    public init?(abiValue: UInt32) {
        switch abiValue {
        case BT_KIND_ARP.rawValue: self = .arp
        case BT_KIND_ICMP.rawValue: self = .icmp
        case BT_KIND_ICMP6.rawValue: self = .icmp6
        case BT_KIND_DHCP.rawValue: self = .dhcp
        case BT_KIND_VLAN.rawValue: self = .vlan
        case BT_KIND_DROP.rawValue: self = .drop
        case BT_KIND_OTHER.rawValue: self = .other
        default: return nil
        }
    }

    /// One more than the largest `abiValue`: the size of a table indexed by it.
    public static let abiValueCount = Int(BT_KIND_DROP.rawValue) + 1

    /// This kind's bit in `bt_trace_config.kinds` (BT_KIND_BIT).
    public var abiBit: UInt32 { 1 << abiValue }
}
