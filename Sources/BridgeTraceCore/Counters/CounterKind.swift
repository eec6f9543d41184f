import CBridgeTraceABI

/// One slot of `struct bt_counters`, named as in the `counters --json` contract.
public enum CounterKind: CaseIterable, Sendable {
    case frames, bytes
    case arpRequest, arpReply, arpOther
    case icmpEchoRequest, icmpEchoReply, icmpUnreachable, icmpOther
    case icmp6, dhcp, vlanTagged, ipv4Other, ipv6Other, other

    /// Number of u64 slots in `struct bt_counters`.
    public static let slotCount = Int(BT_CTR_MAX.rawValue)

    /// Index into `struct bt_counters.c`.
    public var slot: Int {
        let value: bt_counter
        switch self {
        case .frames: value = BT_CTR_FRAMES
        case .bytes: value = BT_CTR_BYTES
        case .arpRequest: value = BT_CTR_ARP_REQUEST
        case .arpReply: value = BT_CTR_ARP_REPLY
        case .arpOther: value = BT_CTR_ARP_OTHER
        case .icmpEchoRequest: value = BT_CTR_ICMP_ECHO_REQUEST
        case .icmpEchoReply: value = BT_CTR_ICMP_ECHO_REPLY
        case .icmpUnreachable: value = BT_CTR_ICMP_UNREACHABLE
        case .icmpOther: value = BT_CTR_ICMP_OTHER
        case .icmp6: value = BT_CTR_ICMP6
        case .dhcp: value = BT_CTR_DHCP
        case .vlanTagged: value = BT_CTR_VLAN_TAGGED
        case .ipv4Other: value = BT_CTR_IPV4_OTHER
        case .ipv6Other: value = BT_CTR_IPV6_OTHER
        case .other: value = BT_CTR_OTHER
        }
        return Int(value.rawValue)
    }

    /// The key in `counters --json`.
    public var jsonKey: String {
        switch self {
        case .frames: return "frames"
        case .bytes: return "bytes"
        case .arpRequest: return "arp_request"
        case .arpReply: return "arp_reply"
        case .arpOther: return "arp_other"
        case .icmpEchoRequest: return "icmp_echo_request"
        case .icmpEchoReply: return "icmp_echo_reply"
        case .icmpUnreachable: return "icmp_unreachable"
        case .icmpOther: return "icmp_other"
        case .icmp6: return "icmp6"
        case .dhcp: return "dhcp"
        case .vlanTagged: return "vlan_tagged"
        case .ipv4Other: return "ipv4_other"
        case .ipv6Other: return "ipv6_other"
        case .other: return "other"
        }
    }

    /// Short column heading for the terminal table.
    public var columnTitle: String {
        switch self {
        case .frames: return "frames"
        case .bytes: return "bytes"
        case .arpRequest: return "arp-req"
        case .arpReply: return "arp-rep"
        case .arpOther: return "arp-oth"
        case .icmpEchoRequest: return "echo-req"
        case .icmpEchoReply: return "echo-rep"
        case .icmpUnreachable: return "unreach"
        case .icmpOther: return "icmp-oth"
        case .icmp6: return "icmp6"
        case .dhcp: return "dhcp"
        case .vlanTagged: return "vlan"
        case .ipv4Other: return "ipv4"
        case .ipv6Other: return "ipv6"
        case .other: return "other"
        }
    }
}
