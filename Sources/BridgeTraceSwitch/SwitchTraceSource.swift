import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import Foundation

/// `trace NAME` and `diagnose NAME` on a running switch: nothing is attached to its ports.
/// The switch's own programs emit the events (its XDP path, and its userspace through
/// bt_sw_trace_user) into the ring buffer it pinned; this turns them on by writing the
/// pinned trace config, and off again in `close()`. A tracer that is killed cannot: the
/// switch then turns them off itself within a second (it checks `owner_pid`).
///
/// Netns-bound like the switch's state: create it and `refresh()` on the thread that
/// entered the switch's namespace.
public final class SwitchTraceSource {
    public let name: String
    public let netns: String?
    /// ifindex -> port name, as of the last `refresh()`.
    public private(set) var portNames: [Int32: String] = [:]
    /// The switch's state as of the last `refresh()`.
    public private(set) var snapshot: SwitchSnapshot
    /// The switch's ring buffer size: fixed when it started (`-B` cannot change it).
    public let ringBufferBytes: UInt32

    private let traceMap: BPFMap
    private let events: BPFMap
    private let lostMap: BPFMap
    private let statsMap: BPFMap
    private var lostAtStart: UInt64 = 0
    private var sampledAtStart: UInt64 = 0
    private var enabled = false

    /// Opens a running switch's trace pins. Throws a clear error when it is not running,
    /// predates tracing, or is traced by another live process already.
    public init(name: String, netns: String?) throws {
        self.name = name
        self.netns = netns
        snapshot = try SwitchState.read(name: name, netns: netns)
        let dir = SwitchPins.directory(name)
        guard FileManager.default.fileExists(atPath: "\(dir)/\(SwitchPins.tracePin)") else {
            throw UserError("switch \(name) was started by a bridgetrace without switch tracing; restart it with this version to trace it")
        }
        func open(_ pin: String) throws -> BPFMap { try BPFMap.pinned(at: "\(dir)/\(pin)", name: pin) }
        traceMap = try open(SwitchPins.tracePin)
        do {
            events = try open("bt_events")
            lostMap = try open("bt_lost")
            statsMap = try open("bt_trace_stats")
        } catch {
            traceMap.close()
            throw error
        }
        ringBufferBytes = events.maxEntries ?? UInt32(BT_RINGBUF_DEFAULT_BYTES)
        let current = try readTrace()
        let owner = Int32(bitPattern: current.owner_pid)
        if current.config.events != 0, owner != getpid(), SwitchTraceSource.isAlive(owner) {
            closeMaps()
            throw UserError("switch \(name) is already traced by pid \(owner) (a bridgetrace trace or diagnose); one tracer at a time: stop it first")
        }
        portNames = Dictionary(uniqueKeysWithValues: snapshot.ports.map { ($0.ifindex, $0.name) })
    }

    static func isAlive(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    private func readTrace() throws -> bt_sw_trace {
        guard let trace = try traceMap.typed(key: UInt32.self, value: bt_sw_trace.self).lookup(0)?.first else {
            throw UserError("cannot read the trace config of switch \(name)")
        }
        return trace
    }

    private func writeTrace(_ value: bt_sw_trace) throws {
        try reworded("cannot write the trace config of switch", name) {
            try traceMap.typed(key: UInt32.self, value: bt_sw_trace.self).update(0, value)
        }
    }

    /// The switch's ring buffer (struct bt_frame_event records, its drops among them as
    /// kind drop), open while this source is.
    public var eventsFD: Int32 { events.fd }

    /// Turns the switch's events on with this pre-filter. Records a killed tracer left in
    /// the ring are discarded first: they are not of this run. Read the ring (`eventsFD`)
    /// after this: the ring keeps its consumer position between readers.
    public func enable(trace configuration: TraceConfiguration, sampleEvery: UInt32) throws {
        var off = try readTrace()
        off.config.events = 0
        try writeTrace(off)
        do {
            let stale = try BPFRingBuffer(fd: events.fd, name: "bt_events") { _ in }
            while try stale.poll(timeoutMs: 0) > 0 {}
        }
        lostAtStart = try lostMap.lookupSum(UInt32(BT_LOST_SLOT))
        sampledAtStart = try statsMap.lookupSum(UInt32(0), offset: Int(BT_STAT_SAMPLE_SKIPPED.rawValue) * 8)
        var trace = bt_sw_trace()
        trace.config = configuration.abi
        trace.config.events = 1
        // The switch's drops are its events too (a bridge's come from the drop tracer);
        // the libpcap filter in userspace still applies to their bytes.
        trace.config.kinds |= 1 << BT_KIND_DROP.rawValue
        trace.sample_every = sampleEvery
        trace.wakeup_events = EventOptions(trace: configuration, ringBufferBytes: ringBufferBytes).wakeupEventsPerCPU
        trace.owner_pid = UInt32(bitPattern: getpid())
        try writeTrace(trace)
        enabled = true
    }

    /// Follows the switch's ports; returns what changed, for the operator. Throws when
    /// the switch stopped.
    @discardableResult
    public func refresh() throws -> [String] {
        let next = try SwitchState.read(name: name, netns: netns)
        let names = Dictionary(uniqueKeysWithValues: next.ports.map { ($0.ifindex, $0.name) })
        var changes: [String] = []
        for (ifindex, port) in portNames where names[ifindex] != port { changes.append("\(port): port left, no longer traced") }
        for (ifindex, port) in names where portNames[ifindex] != port { changes.append("\(port): new port, now traced") }
        snapshot = next
        portNames = names
        return changes.sorted()
    }

    /// Events lost since `start`: ring reservations that failed (bt_lost) and frames of
    /// the switch's userspace it could not hand over (user_lost).
    public func lostEvents() throws -> UInt64 {
        let kernel = try lostMap.lookupSum(UInt32(BT_LOST_SLOT)) &- lostAtStart
        return kernel &+ UInt64(enabled ? try readTrace().user_lost : 0)
    }

    public func sampledOutEvents() throws -> UInt64 {
        try statsMap.lookupSum(UInt32(0), offset: Int(BT_STAT_SAMPLE_SKIPPED.rawValue) * 8) &- sampledAtStart
    }

    /// Whether the switch's events are on and ours (tests and `switch show` check it).
    public static func isTraced(_ name: String) -> Bool {
        guard let map = try? BPFMap.pinned(at: "\(SwitchPins.directory(name))/\(SwitchPins.tracePin)", name: "trace") else { return false }
        defer { map.close() }
        guard let trace = (try? map.typed(key: UInt32.self, value: bt_sw_trace.self).lookup(0))?.first else { return false }
        return trace.config.events != 0
    }

    /// Turns the events off (when they are still ours) and closes the pins. Idempotent.
    public func close() {
        if enabled, let current = try? readTrace(), current.owner_pid == UInt32(bitPattern: getpid()) {
            try? writeTrace(bt_sw_trace())
        }
        enabled = false
        closeMaps()
    }

    private var closed = false

    private func closeMaps() {
        guard !closed else { return }
        closed = true
        for map in [traceMap, events, lostMap, statsMap] { map.close() }
    }

    deinit {
        close()
    }
}
