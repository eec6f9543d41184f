/// A frame the kernel freed as dropped (tp_btf/kfree_skb) on a watched port, with the
/// kernel's own reason name (from BTF `enum skb_drop_reason`, never a hard-coded number)
/// and the kernel function that dropped it (symbolised through /proc/kallsyms).
public struct DropRecord: Sendable, Equatable {
    /// CLOCK_MONOTONIC nanoseconds.
    public var monotonicNs: UInt64
    /// skb->dev at the time of the drop: the port the frame was on.
    public var ifindex: Int32
    public var port: String
    /// e.g. "NETFILTER_DROP" (the SKB_DROP_REASON_ prefix removed).
    public var reason: String
    /// e.g. "nft_do_chain"; "0x…" when the address is not in kallsyms.
    public var location: String
    /// skb->len.
    public var length: Int
    /// The first bytes of the frame from skb->head + mac_header (may be empty), with any
    /// offloaded VLAN tag reinserted, so it can be decoded and fingerprinted like a
    /// captured frame.
    public var bytes: [UInt8]

    public init(monotonicNs: UInt64, ifindex: Int32, port: String, reason: String, location: String,
                length: Int, bytes: [UInt8] = []) {
        self.monotonicNs = monotonicNs
        self.ifindex = ifindex
        self.port = port
        self.reason = reason
        self.location = location
        self.length = length
        self.bytes = bytes
    }
}

/// Drop totals for one (port, reason, location), as `drops` prints them.
public struct DropCount: Sendable, Equatable {
    public var port: String
    public var ifindex: Int32
    public var reason: String
    public var location: String
    public var count: UInt64

    public init(port: String, ifindex: Int32, reason: String, location: String, count: UInt64) {
        self.port = port
        self.ifindex = ifindex
        self.reason = reason
        self.location = location
        self.count = count
    }
}
