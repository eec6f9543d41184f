/// One traced frame: what the kernel captured and what its bytes say.
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

    /// Decodes the frame's captured bytes.
    public static func make(_ frame: CapturedFrame) -> TraceEvent {
        TraceEvent(frame: frame, decoded: FrameDecoder.decode(frame.bytes))
    }

    public var kind: EventKind { decoded.kind }

    /// CLOCK_REALTIME nanoseconds, given the offset from CLOCK_MONOTONIC
    /// (`WallClock.monotonicOffsetNs()`). Wraps rather than traps on absurd inputs.
    public func wallClockNs(offsetNs: Int64) -> Int64 {
        Int64(bitPattern: frame.monotonicNs) &+ offsetNs
    }
}
