import CBridgeTraceABI

/// Which event kinds `trace` asks the kernel for (bt_trace_config.kinds).
public enum TraceKinds {
    static func bit(_ kind: bt_kind) -> UInt32 { 1 << kind.rawValue }

    /// ARP, ICMP, ICMPv6, DHCP and VLAN-tagged frames; with `all`, every frame.
    public static func defaultMask(all: Bool) -> UInt32 {
        var mask = bit(BT_KIND_ARP) | bit(BT_KIND_ICMP) | bit(BT_KIND_ICMP6) | bit(BT_KIND_DHCP) | bit(BT_KIND_VLAN)
        if all { mask |= bit(BT_KIND_OTHER) }
        return mask
    }
}
