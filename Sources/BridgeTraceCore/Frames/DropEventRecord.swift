import CBridgeTraceABI

/// Reads a `struct bt_drop_event` as the ring buffer hands it over, beside
/// `FrameEventRecord`: the fixed header once (enough for a collector to decide whether to
/// keep the drop), then the named `DropRecord`. Reason numbers and kernel addresses are
/// named by the caller (BTF and kallsyms live in BridgeTraceKernel). Pure: testable
/// without a kernel.
public enum DropEventRecord {
    static let dataOffset = MemoryLayout<bt_drop_event>.offset(of: \bt_drop_event.data)!

    public struct Header: Sendable, Equatable {
        public var monotonicNs: UInt64
        public var ifindex: Int32
        /// The kernel's `enum skb_drop_reason` value.
        public var reason: UInt32
        /// The address of the kernel code that dropped the frame.
        public var location: UInt64
        /// skb->len.
        public var length: Int
        /// Captured bytes the record carries.
        public var captured: Int
        public var vlanProto: UInt16
        public var vlanTCI: UInt16
    }

    public static func header(_ raw: UnsafeRawBufferPointer) -> Header? {
        guard raw.count >= MemoryLayout<bt_drop_event>.size else { return nil }
        let event = raw.loadUnaligned(as: bt_drop_event.self)
        return Header(monotonicNs: event.time_ns, ifindex: Int32(bitPattern: event.ifindex), reason: event.reason,
                      location: event.location, length: Int(event.len),
                      captured: min(Int(event.caplen), Int(BT_DROP_SNAPLEN)),
                      vlanProto: event.vlan_proto, vlanTCI: event.vlan_tci)
    }

    /// The captured bytes as the kernel copied them (no tag reinserted).
    public static func data(_ raw: UnsafeRawBufferPointer, header: Header) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: raw[dataOffset..<(dataOffset + header.captured)])
    }

    /// The drop, named: `reason` names a reason value, `location` a kernel address.
    public static func record(_ raw: UnsafeRawBufferPointer, header: Header, port: String,
                              reason: (UInt32) -> String, location: (UInt64) -> String) -> DropRecord {
        var bytes = Array(data(raw, header: header))
        if header.vlanProto != 0 {
            bytes = CapturedFrame.reinsertingTag(bytes, tpid: header.vlanProto, tci: header.vlanTCI)
        }
        return DropRecord(monotonicNs: header.monotonicNs, ifindex: header.ifindex, port: port,
                          reason: reason(header.reason), location: location(header.location),
                          length: header.length, bytes: bytes)
    }

    /// ARP, 802.1Q/802.1ad, ICMP and DHCP (UDP 67/68): what the diagnosis rules follow
    /// frame by frame. A frame too short to tell counts as followed.
    public static func isFollowedKind(_ data: UnsafeRawBufferPointer) -> Bool {
        let length = data.count
        guard length >= 14 else { return true }
        let byte = { (offset: Int) -> Int in Int(data[offset]) }
        let etherType = byte(12) << 8 | byte(13)
        guard etherType == 0x0800 else { return etherType != 0x86dd }
        guard length >= 14 + 20 else { return true }
        let proto = byte(23)
        if proto == 1 { return true }
        guard proto == 17 else { return false }
        let ihl = (byte(14) & 0x0f) * 4
        guard length >= 14 + ihl + 4 else { return true }
        let sport = byte(14 + ihl) << 8 | byte(15 + ihl), dport = byte(16 + ihl) << 8 | byte(17 + ihl)
        return [67, 68].contains(sport) || [67, 68].contains(dport)
    }
}
