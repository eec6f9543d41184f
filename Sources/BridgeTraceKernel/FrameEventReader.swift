import BridgeTraceCore
import CLibBPF
import Foundation

/// Drains the `bt_events` ring buffer of a loaded object. `poll` hands every record to the
/// handler as raw bytes (decoding is BridgeTraceCore's job) on the calling thread; run it
/// on a thread of its own so a slow terminal never stalls netlink work.
public final class FrameEventReader {
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    private let ring: OpaquePointer
    private let context: Unmanaged<HandlerBox>

    public init(object: BPFObject, handler: @escaping Handler) throws {
        let map = try object.map("bt_events")
        let box = HandlerBox(handler)
        context = Unmanaged.passRetained(box)
        let callback: ring_buffer_sample_fn = { context, data, size in
            guard let context, let data else { return 0 }
            let box = Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue()
            box.handler(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        guard let ring = ring_buffer__new(map.fd, callback, context.toOpaque(), nil) else {
            context.release()
            throw UserError.kernel("cannot open the event ring buffer", errno: errno)
        }
        self.ring = ring
    }

    /// Consumes what is queued, waiting up to `timeoutMs` for the first record. Returns
    /// the number of records handled.
    @discardableResult
    public func poll(timeoutMs: Int32) throws -> Int {
        let rc = ring_buffer__poll(ring, timeoutMs)
        if rc < 0 && -rc != EINTR {
            throw UserError.kernel("reading the event ring buffer failed", errno: rc)
        }
        return Int(max(rc, 0))
    }

    deinit {
        ring_buffer__free(ring)
        context.release()
    }
}

private final class HandlerBox {
    let handler: FrameEventReader.Handler
    init(_ handler: @escaping FrameEventReader.Handler) { self.handler = handler }
}
