import BridgeTraceCore

/// Where decoded events go: text or JSON lines, a pcapng file, a collector.
///
/// Threads: `add(_: borrowing TraceEventView)` runs on the frame ring's drain thread, the drop methods
/// on the drop ring's; `flush` after every poll of the frame ring (of the drop ring when
/// the source has no frame ring), and once more with `final` after the drains stopped. A
/// sink that takes both frames and drops locks its state (EventCollector does).
public protocol EventSink: AnyObject {
    /// A frame that passed the filter, decoded once, lent for this call: its bytes lie in
    /// the ring buffer. A sink that keeps it copies it (`TraceEvent(event)`).
    func add(_ event: borrowing TraceEventView)
    /// Whether to name and copy this drop (a collector over its budget says no, so a
    /// flood costs no decoding). Only drops asked for reach `add(_: DropRecord)`.
    func wantsDrop(_ header: DropEventRecord.Header, data: UnsafeRawBufferPointer) -> Bool
    func add(_ drop: DropRecord)
    /// Write out what the last poll produced; `final`: the last call, close what is open.
    func flush(final: Bool)
    /// Output failed (disk full, reader gone): the pipeline stops draining.
    var failed: Bool { get }
}

extension EventSink {
    public func add(_ event: borrowing TraceEventView) {}
    /// By default every drop is decoded, so its cost shows (bench's full tracer).
    public func wantsDrop(_ header: DropEventRecord.Header, data: UnsafeRawBufferPointer) -> Bool { true }
    public func add(_ drop: DropRecord) {}
    public func flush(final: Bool) {}
    public var failed: Bool { false }
}
