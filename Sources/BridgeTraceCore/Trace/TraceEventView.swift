/// One traced frame, lent to the sinks for the length of a call (`EventSink.add`): the
/// record's fields, the captured bytes where they already lie (the ring-buffer record, or
/// a stack copy with an offloaded tag put back) and their decode. Nothing of it is on the
/// heap, so handing an event to the writers allocates, copies and reference-counts nothing
/// per frame. `bytes` is valid only during that call: a sink that keeps an event past it
/// copies it into a `TraceEvent` (`TraceEvent(view)`). Noncopyable, so that it is only ever
/// borrowed: it cannot outlive its bytes by accident, and lending it copies nothing.
public struct TraceEventView: ~Copyable {
    /// CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns).
    public var monotonicNs: UInt64
    public var ifindex: Int32
    public var port: String
    public var direction: Direction
    /// Length on the wire (an offloaded tag counted).
    public var length: Int
    /// The first bytes of the frame (up to the snap length), borrowed.
    public var bytes: UnsafeBufferPointer<UInt8>
    public var decoded: DecodedFrame
    /// Kind `drop` (a switch's drop event): the reason name and where it happened.
    public var dropReason: String?
    public var dropLocation: String?

    public init(monotonicNs: UInt64, ifindex: Int32, port: String, direction: Direction, length: Int,
                bytes: UnsafeBufferPointer<UInt8>, decoded: DecodedFrame,
                dropReason: String? = nil, dropLocation: String? = nil) {
        self.monotonicNs = monotonicNs
        self.ifindex = ifindex
        self.port = port
        self.direction = direction
        self.length = length
        self.bytes = bytes
        self.decoded = decoded
        self.dropReason = dropReason
        self.dropLocation = dropLocation
    }

    /// A record's frame (`FrameEventRecord.withFrameBytes`), decoded into an event that
    /// lives in this call's frame and is lent to `body`: decoded in place, never copied.
    /// The kernel classified the whole frame and the decoder only the captured bytes, so
    /// the kernel's kind wins (trace then agrees with the counters and the kind filter), and
    /// the DHCP message type the kernel read fills in what the snap cut off.
    public static func decoding(_ bytes: UnsafeBufferPointer<UInt8>, header: FrameEventRecord.Header, port: String,
                                _ body: (borrowing TraceEventView) -> Void) {
        var event = TraceEventView(monotonicNs: header.monotonicNs, ifindex: header.ifindex, port: port,
                                   direction: header.direction, length: header.frameLength, bytes: bytes,
                                   decoded: DecodedFrame())
        withUnsafeMutablePointer(to: &event.decoded) { decoded in
            FrameDecoder.fill(decoded, from: bytes)
            if let kind = header.kind { decoded.pointee.kind = kind }
            if decoded.pointee.dhcp != nil, decoded.pointee.dhcp!.messageType == nil, let type = header.dhcpMessageType {
                decoded.pointee.dhcp!.messageType = DHCPMessageType(rawValue: type)
            }
        }
        if event.decoded.kind == .drop {
            // Only a switch emits drop events into this ring: its reasons (enum bt_sw_drop).
            let reason = SwitchDropReason(rawValue: UInt32(header.dropReason))
            event.dropReason = reason?.name ?? "SWITCH_DROP_\(header.dropReason)"
            event.dropLocation = reason?.location ?? "bridgetrace switch"
        }
        body(event)
    }

    public var kind: EventKind { decoded.kind }

    /// CLOCK_REALTIME nanoseconds, given the offset from CLOCK_MONOTONIC
    /// (`WallClock.monotonicOffsetNs()`). Wraps rather than traps on absurd inputs.
    @inline(__always)
    public func wallClockNs(offsetNs: Int64) -> Int64 {
        Int64(bitPattern: monotonicNs) &+ offsetNs
    }
}
