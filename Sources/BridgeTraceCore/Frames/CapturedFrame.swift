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

    /// A copy of a lent event's frame, bytes included, to keep past the call.
    public init(_ event: borrowing TraceEventView) {
        self.init(monotonicNs: event.monotonicNs, ifindex: event.ifindex, port: event.port,
                  direction: event.direction, length: event.length, bytes: Array(event.bytes))
    }

    /// Inserts an offloaded 802.1Q/802.1ad tag after the MAC addresses, where it was on the
    /// wire. Frames shorter than the two MACs are left alone.
    public static func reinsertingTag(_ bytes: [UInt8], tpid: UInt16, tci: UInt16) -> [UInt8] {
        bytes.withUnsafeBytes { raw in
            [UInt8](unsafeUninitializedCapacity: raw.count + 4) { out, count in
                count = copyReinsertingTag(raw, tpid: tpid, tci: tci, to: out.baseAddress!)
            }
        }
    }

    /// `reinsertingTag` into memory the caller provides (room for `bytes.count + 4`);
    /// returns the bytes written.
    @inline(__always)
    static func copyReinsertingTag(_ bytes: UnsafeRawBufferPointer, tpid: UInt16, tci: UInt16,
                                   to out: UnsafeMutablePointer<UInt8>) -> Int {
        guard let source = bytes.baseAddress else { return 0 }
        let raw = UnsafeMutableRawPointer(out)
        guard bytes.count >= 12 else {
            raw.copyMemory(from: source, byteCount: bytes.count)
            return bytes.count
        }
        raw.copyMemory(from: source, byteCount: 12)
        out[12] = UInt8(truncatingIfNeeded: tpid >> 8)
        out[13] = UInt8(truncatingIfNeeded: tpid)
        out[14] = UInt8(truncatingIfNeeded: tci >> 8)
        out[15] = UInt8(truncatingIfNeeded: tci)
        (raw + 16).copyMemory(from: source + 12, byteCount: bytes.count - 12)
        return bytes.count + 4
    }
}
