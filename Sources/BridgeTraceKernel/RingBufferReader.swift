import BridgeTraceCore
import CLibBPF
import Foundation

/// Drains a BPF ring buffer of a loaded object: frame events (`bt_events`) or drop events
/// (`bt_drop_events`). `poll` hands every record to the handler as raw bytes (decoding is
/// BridgeTraceCore's job) on the calling thread; run it on a thread of its own so a slow
/// terminal never stalls netlink work.
public final class RingBufferReader {
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    private let ring: OpaquePointer
    private let context: Unmanaged<HandlerBox>
    private let mapName: String

    public convenience init(object: BPFObject, map mapName: String = "bt_events", handler: @escaping Handler) throws {
        try self.init(fd: try object.map(mapName).fd, name: mapName, handler: handler)
    }

    /// A ring buffer map by its fd: one of a loaded object's, or one pinned by another
    /// process (a running switch). The fd must stay open while the reader lives.
    public init(fd: Int32, name mapName: String, handler: @escaping Handler) throws {
        self.mapName = mapName
        let box = HandlerBox(handler)
        context = Unmanaged.passRetained(box)
        let callback: ring_buffer_sample_fn = { context, data, size in
            guard let context, let data else { return 0 }
            let box = Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue()
            box.handler(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        guard let ring = ring_buffer__new(fd, callback, context.toOpaque(), nil) else {
            context.release()
            throw UserError.kernel("cannot open the ring buffer \(mapName)", errno: errno)
        }
        self.ring = ring
    }

    /// Waits up to `timeoutMs` for a wakeup, then consumes everything queued, woken or
    /// not: producers that submit with BPF_RB_NO_WAKEUP (bt_wakeup_events) leave records
    /// that only a timed poll finds. Returns the number of records handled.
    @discardableResult
    public func poll(timeoutMs: Int32) throws -> Int {
        let rc = ring_buffer__poll(ring, timeoutMs)
        if rc < 0 && -rc != EINTR {
            throw UserError.kernel("reading the ring buffer \(mapName) failed", errno: rc)
        }
        let more = ring_buffer__consume(ring)
        if more < 0 && -more != EINTR {
            throw UserError.kernel("reading the ring buffer \(mapName) failed", errno: more)
        }
        return Int(max(rc, 0)) + Int(max(more, 0))
    }

    deinit {
        ring_buffer__free(ring)
        context.release()
    }
}

private final class HandlerBox {
    let handler: RingBufferReader.Handler
    init(_ handler: @escaping RingBufferReader.Handler) { self.handler = handler }
}
