/// One traced frame, kept: what the kernel captured (its own copy of the bytes) and what
/// they say. The sinks are lent a `TraceEventView` instead; collectors make one of these
/// from it.
public struct TraceEvent: Sendable, Equatable {
    public var frame: CapturedFrame
    public var decoded: DecodedFrame
    /// Kind `drop` (a switch's drop event): the reason name and where it happened.
    public var dropReason: String?
    public var dropLocation: String?

    public init(frame: CapturedFrame, decoded: DecodedFrame) {
        self.frame = frame
        self.decoded = decoded
    }

    /// A copy of a lent event, to keep past the call it was lent to.
    public init(_ event: borrowing TraceEventView) {
        self.init(frame: CapturedFrame(event), decoded: event.decoded)
        dropReason = event.dropReason
        dropLocation = event.dropLocation
    }

    /// Decodes the frame's captured bytes.
    public static func make(_ frame: CapturedFrame) -> TraceEvent {
        TraceEvent(frame: frame, decoded: FrameDecoder.decode(frame.bytes))
    }

    public var kind: EventKind { decoded.kind }

    /// The event lent as a view, for code that takes one (the line writers).
    public func withView<Result>(_ body: (borrowing TraceEventView) throws -> Result) rethrows -> Result {
        try frame.bytes.withUnsafeBufferPointer { bytes in
            try body(TraceEventView(monotonicNs: frame.monotonicNs, ifindex: frame.ifindex, port: frame.port,
                                    direction: frame.direction, length: frame.length, bytes: bytes,
                                    decoded: decoded, dropReason: dropReason, dropLocation: dropLocation))
        }
    }

    /// CLOCK_REALTIME nanoseconds, given the offset from CLOCK_MONOTONIC
    /// (`WallClock.monotonicOffsetNs()`). Wraps rather than traps on absurd inputs.
    public func wallClockNs(offsetNs: Int64) -> Int64 {
        Int64(bitPattern: frame.monotonicNs) &+ offsetNs
    }
}
