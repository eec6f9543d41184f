import BridgeTraceCore
import CLibBPF
import Glibc

/// A BPF ring buffer map opened for reading (libbpf's ring_buffer): `poll` hands every
/// record to the handler as raw bytes (decoding is the pipeline's job) on the calling
/// thread; run it on a thread of its own so a slow terminal never stalls netlink work. The map's object must
/// outlive it.
public final class BPFRingBuffer {
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    public let mapName: String
    private let ring: OpaquePointer
    private let context: Unmanaged<RecordHandlerBox>

    public convenience init(map: BPFMap, handler: @escaping Handler) throws {
        try self.init(fd: map.fd, name: map.name, handler: handler)
    }

    /// A loaded object's ring buffer map by name: frame events (`bt_events`) or drop
    /// events (`bt_drop_events`).
    public convenience init(object: BPFObject, map mapName: String = "bt_events", handler: @escaping Handler) throws {
        try self.init(map: object.map(mapName), handler: handler)
    }

    /// A ring buffer map by its fd: one of a loaded object's, or one pinned by another
    /// process (a running switch). The fd must stay open while the reader lives.
    public init(fd: Int32, name: String, handler: @escaping Handler) throws {
        mapName = name
        let box = RecordHandlerBox(handler)
        context = Unmanaged.passRetained(box)
        let callback: ring_buffer_sample_fn = { context, data, size in
            guard let context, let data else { return 0 }
            let box = Unmanaged<RecordHandlerBox>.fromOpaque(context).takeUnretainedValue()
            box.handler(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        guard let ring = ring_buffer__new(fd, callback, context.toOpaque(), nil) else {
            context.release()
            throw SystemError.fromErrno("cannot open the ring buffer", subject: name)
        }
        self.ring = ring
    }

    /// Waits up to `timeoutMs` for a wakeup, then consumes everything queued, woken or
    /// not: producers that submit with BPF_RB_NO_WAKEUP leave records that only a timed
    /// poll finds. Returns the number of records handled; EINTR counts as none.
    @discardableResult
    public func poll(timeoutMs: Int32) throws -> Int {
        let rc = ring_buffer__poll(ring, timeoutMs)
        if rc < 0 && -rc != EINTR { throw failure(rc) }
        let more = ring_buffer__consume(ring)
        if more < 0 && -more != EINTR { throw failure(more) }
        return Int(max(rc, 0)) + Int(max(more, 0))
    }

    private func failure(_ rc: Int32) -> SystemError {
        SystemError("reading the ring buffer", subject: "\(mapName) failed", code: rc)
    }

    deinit {
        ring_buffer__free(ring)
        context.release()
    }
}

private final class RecordHandlerBox {
    let handler: BPFRingBuffer.Handler
    init(_ handler: @escaping BPFRingBuffer.Handler) { self.handler = handler }
}
