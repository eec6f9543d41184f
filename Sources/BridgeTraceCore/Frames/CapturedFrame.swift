/// One frame as a port saw it: the kernel event's metadata and captured bytes. An
/// offloaded VLAN tag (tc) is already put back after the MAC addresses, so the bytes are
/// what was on the wire, as libpcap shows them; `length` counts it too.
public struct CapturedFrame: Sendable, Equatable {
    /// CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns).
    public var monotonicNs: UInt64
    public var ifindex: Int32
    public var port: String
    public var direction: Direction
    /// Length on the wire.
    public var length: Int
    /// The first bytes of the frame (up to the snap length).
    public var bytes: [UInt8]

    public init(monotonicNs: UInt64, ifindex: Int32, port: String, direction: Direction, length: Int, bytes: [UInt8]) {
        self.monotonicNs = monotonicNs
        self.ifindex = ifindex
        self.port = port
        self.direction = direction
        self.length = length
        self.bytes = bytes
    }

    /// Inserts an offloaded 802.1Q/802.1ad tag after the MAC addresses, where it was on the
    /// wire. Frames shorter than the two MACs are left alone.
    public static func reinsertingTag(_ bytes: [UInt8], tpid: UInt16, tci: UInt16) -> [UInt8] {
        guard bytes.count >= 12 else { return bytes }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + 4)
        out.append(contentsOf: bytes[0..<12])
        out.append(contentsOf: [UInt8(tpid >> 8), UInt8(tpid & 0xff), UInt8(tci >> 8), UInt8(tci & 0xff)])
        out.append(contentsOf: bytes[12...])
        return out
    }
}
