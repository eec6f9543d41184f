import BridgeTraceCore
import Foundation

/// Drains a BPF ring buffer of a loaded object: frame events (`bt_events`) or drop events
/// (`bt_drop_events`). `poll` hands every record to the handler as raw bytes (decoding is
/// BridgeTraceCore's job) on the calling thread; run it on a thread of its own so a slow
/// terminal never stalls netlink work. A BPFRingBuffer underneath.
public final class RingBufferReader {
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    private let ring: BPFRingBuffer

    public init(object: BPFObject, map mapName: String = "bt_events", handler: @escaping Handler) throws {
        ring = try BPFRingBuffer(map: object.map(mapName), handler: handler)
    }

    /// Waits up to `timeoutMs` for a wakeup, then consumes everything queued, woken or
    /// not: producers that submit with BPF_RB_NO_WAKEUP (bt_wakeup_events) leave records
    /// that only a timed poll finds. Returns the number of records handled.
    @discardableResult
    public func poll(timeoutMs: Int32) throws -> Int {
        try ring.poll(timeoutMs: timeoutMs)
    }
}
