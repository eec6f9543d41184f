import BridgeTraceCore
import BridgeTraceKernel

/// Where records come from, as a value: the ring buffers to drain, the port names, the
/// counters of what the kernel could not queue or skipped, and how drop records are
/// named. `EventSource(session:)` is bridgetrace's own programs on a bridge's ports; a
/// running switch's pinned rings are another source of the same shape. The pipeline only
/// drains, decodes and fans out; it never asks where the rings came from.
public struct EventSource {
    /// A BPF ring buffer map by fd. Whoever made the source keeps the fd open (the
    /// closures below keep the owning object alive).
    public struct Ring: Sendable {
        public var fd: Int32
        /// For error messages: the map's name.
        public var name: String

        public init(fd: Int32, name: String) {
            self.fd = fd
            self.name = name
        }
    }

    /// `struct bt_frame_event` records.
    public var frames: Ring?
    /// `struct bt_drop_event` records.
    public var drops: Ring?
    /// Names a drop record's `enum skb_drop_reason` value (from BTF).
    public var dropReason: (UInt32) -> String
    /// Names the kernel address a frame was dropped at (kallsyms).
    public var dropLocation: (UInt64) -> String
    /// ifindex -> port name now. Called on the thread that owns the source (at start and
    /// by `EventPipeline.refreshPorts`), never on a drain thread.
    public var portNames: () -> [Int32: String]
    /// Frame events the frame ring had no room for, since load.
    public var lostFrameEvents: () throws -> UInt64
    /// Drop events the drop ring had no room for, since load.
    public var lostDropEvents: () throws -> UInt64
    /// Frames left out by sampling (`trace --sample`), since load.
    public var sampledOutEvents: () throws -> UInt64

    public init(frames: Ring?, drops: Ring? = nil,
                dropReason: @escaping (UInt32) -> String = { "REASON_\($0)" },
                dropLocation: @escaping (UInt64) -> String = { "0x" + String($0, radix: 16) },
                portNames: @escaping () -> [Int32: String],
                lostFrameEvents: @escaping () throws -> UInt64 = { 0 },
                lostDropEvents: @escaping () throws -> UInt64 = { 0 },
                sampledOutEvents: @escaping () throws -> UInt64 = { 0 }) {
        self.frames = frames
        self.drops = drops
        self.dropReason = dropReason
        self.dropLocation = dropLocation
        self.portNames = portNames
        self.lostFrameEvents = lostFrameEvents
        self.lostDropEvents = lostDropEvents
        self.sampledOutEvents = sampledOutEvents
    }

    /// Frame and drop events lost, since load.
    public func lostEvents() throws -> UInt64 {
        try lostFrameEvents() + lostDropEvents()
    }
}

extension EventSource {
    /// bridgetrace's own programs: the session's frame ring (filled when it was made with
    /// `EventOptions`) and, when it traces drops, the drop tracer's ring. The source keeps
    /// the session alive; its port names are the session's, as `refresh` leaves them.
    public init(session: WatchSession) throws {
        let frames = Ring(fd: try session.object.map("bt_events").fd, name: "bt_events")
        let tracer = session.drops
        let drops = try tracer.map { Ring(fd: try $0.object.map("bt_drop_events").fd, name: "bt_drop_events") }
        self.init(frames: frames, drops: drops,
                  dropReason: { tracer?.reasons.name(of: $0) ?? "REASON_\($0)" },
                  dropLocation: { tracer?.symbols.name(of: $0) ?? "0x" + String($0, radix: 16) },
                  portNames: { session.portNames },
                  lostFrameEvents: { try session.lostEvents() },
                  lostDropEvents: { try tracer?.lostEvents() ?? 0 },
                  sampledOutEvents: { try session.sampledOutEvents() })
    }
}
