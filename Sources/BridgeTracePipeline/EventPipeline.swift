// The one event pipeline: `trace`, `diagnose`, `bench --with-tracer full` and the
// exporter all run their records through it. One frame record, from the kernel to each sink:
//   1. An `EventSource` names the rings (`bt_events`, `bt_drop_events`), the port names and
//      the lost/sampled counters; `start()` runs a `DrainThread` per ring.
//   2. The drain hands the raw `bt_frame_event` to `handleFrame`: `FrameEventRecord.header`
//      reads the fixed fields once, the port name comes from this thread's `PortTable` view.
//   3. The captured bytes stay where they lie in the record (`FrameEventRecord.withFrameBytes`;
//      a stack copy only to put back an offloaded VLAN tag); the libpcap `PacketFilter` runs
//      on them before any protocol decode; a frame it passes is decoded once into a
//      `TraceEventView`, which holds nothing on the heap.
//   4. Every sink is lent that one view for the call: `TraceOutputSink` (text, JSON lines,
//      journeys; one write(2) per poll) renders it in place; `PcapngSink` (`-w`),
//      `EventCollector` (diagnose) and the exporter's window copy what they keep.
//   5. A `bt_drop_event` goes the same way through `handleDrop` (`DropEventRecord`): sinks
//      may refuse it from its header before it is named and copied into a `DropRecord`.
import BridgeTraceCore
import BridgeTraceKernel
import BridgeTracePcap
import Foundation

/// Drain, decode once, filter, fan out. See the top of this file for one record's way.
public final class EventPipeline: @unchecked Sendable {
    /// What to call a frame from an ifindex the port table does not know (a port that
    /// just left): `if7`, or nothing (the frame is skipped).
    public enum UnknownPorts: Sendable { case numbered, skipped }

    public let source: EventSource
    private let sinks: [EventSink]
    private let filter: PacketFilter?
    private let limit: Int?
    private let unknownPorts: UnknownPorts
    private let portTable: PortTable
    // The per-record state below is each touched by one drain thread only (the frame or
    // the drop thread), never re-entrantly: without `unchecked`, every access would be a
    // runtime exclusivity check (a few hundred instructions per record).
    /// Each drain thread's own view of the port names.
    @exclusivity(unchecked) private var framePorts: PortTable.View
    @exclusivity(unchecked) private var dropPorts: PortTable.View
    /// Per drop record: which sinks asked for it (drop thread only, reused).
    @exclusivity(unchecked) private var dropWanted: [Bool]
    private var drains: [DrainThread] = []
    private var readers: (frames: BPFRingBuffer?, drops: BPFRingBuffer?) = (nil, nil)
    private var stopped = false

    /// Frames handed to the sinks (after the filter), per kind (frame thread only).
    @exclusivity(unchecked) public private(set) var frames = 0
    /// Indexed by `enum bt_kind` value: a counter bump per event, no hashing of the kind's
    /// String raw value.
    @exclusivity(unchecked) private var kindCounts = [Int](repeating: 0, count: EventKind.abiValueCount)
    public var framesByKind: [EventKind: Int] {
        var counts: [EventKind: Int] = [:]
        for kind in EventKind.allCases where kindCounts[Int(kind.abiValue)] > 0 { counts[kind] = kindCounts[Int(kind.abiValue)] }
        return counts
    }
    /// Drops handed to at least one sink (drop thread only).
    @exclusivity(unchecked) public private(set) var drops = 0

    /// - Parameters:
    ///   - filter: frames it rejects never reach a sink (nor are they decoded).
    ///   - limit: stop after this many frames (`trace -c`).
    /// The kernel stamps events with CLOCK_MONOTONIC; output shows wall-clock time. Sampled
    /// once, so that every sink of a run (text and pcapng) shows the same time for a frame.
    public static let wallClockOffsetNs = WallClock.monotonicOffsetNs()

    public init(source: EventSource, sinks: [EventSink], filter: PacketFilter? = nil, limit: Int? = nil,
                unknownPorts: UnknownPorts = .numbered) {
        self.source = source
        self.sinks = sinks
        self.filter = filter
        self.limit = limit
        self.unknownPorts = unknownPorts
        portTable = PortTable(source.portNames())
        framePorts = portTable.view()
        dropPorts = framePorts
        dropWanted = Array(repeating: false, count: sinks.count)
    }

    // MARK: - Records

    /// One `struct bt_frame_event` record, on the frame drain thread (or a test's).
    public func handleFrame(_ raw: UnsafeRawBufferPointer) {
        if limitReached { return }
        guard let header = FrameEventRecord.header(raw) else { return }
        portTable.update(&framePorts)
        guard let port = name(header.ifindex, in: framePorts) else { return }
        FrameEventRecord.withFrameBytes(raw, header: header) { bytes in
            // Filter on the bytes first: a frame the filter rejects is never decoded.
            if let filter, !filter.matches(bytes, wireLength: header.frameLength) { return }
            TraceEventView.decoding(bytes, header: header, port: port) { event in
                frames += 1
                kindCounts[Int(event.kind.abiValue)] += 1
                for sink in sinks { sink.add(event) }
            }
        }
    }

    /// One `struct bt_drop_event` record, on the drop drain thread (or a test's).
    public func handleDrop(_ raw: UnsafeRawBufferPointer) {
        guard let header = DropEventRecord.header(raw) else { return }
        let data = DropEventRecord.data(raw, header: header)
        var wanted = false
        for index in sinks.indices {
            dropWanted[index] = sinks[index].wantsDrop(header, data: data)
            wanted = wanted || dropWanted[index]
        }
        guard wanted else { return }
        portTable.update(&dropPorts)
        let port = dropPorts[header.ifindex] ?? "if\(header.ifindex)"
        let record = DropEventRecord.record(raw, header: header, port: port,
                                            reason: source.dropReason, location: source.dropLocation)
        drops += 1
        for index in sinks.indices where dropWanted[index] { sinks[index].add(record) }
    }

    private func name(_ ifindex: Int32, in view: PortTable.View) -> String? {
        if let name = view[ifindex] { return name }
        return unknownPorts == .numbered ? "if\(ifindex)" : nil
    }

    /// After each poll: sinks write what it produced. `final` closes them.
    public func flush(final: Bool = false) {
        for sink in sinks { sink.flush(final: final) }
    }

    public var limitReached: Bool { limit.map { frames >= $0 } ?? false }

    /// A sink's output failed.
    public var sinkFailed: Bool { sinks.contains { $0.failed } }

    // MARK: - Draining

    /// From the source's owner, after its ports changed (`WatchSession.refresh`).
    public func refreshPorts() {
        portTable.post(source.portNames())
    }

    /// Drains each ring on a thread of its own until `stop`, the limit or a failed sink.
    public func start() throws {
        try openReaders()
        let flushing = readers.frames ?? readers.drops
        for reader in [readers.frames, readers.drops].compactMap({ $0 }) {
            let flushes = reader === flushing
            drains.append(DrainThread(reader: reader) { [self] in
                guard flushes else { return false }
                flush()
                return limitReached || sinkFailed
            })
        }
    }

    /// Instead of `start`: drains on the caller's thread, waiting up to `timeoutMs` for
    /// frames, then taking the drops queued.
    public func poll(timeoutMs: Int32) throws {
        if readers.frames == nil && readers.drops == nil { try openReaders() }
        try readers.frames?.poll(timeoutMs: timeoutMs)
        try readers.drops?.poll(timeoutMs: readers.frames == nil ? timeoutMs : 0)
        flush()
    }

    private func openReaders() throws {
        if let ring = source.frames {
            readers.frames = try BPFRingBuffer(fd: ring.fd, name: ring.name) { [unowned self] in handleFrame($0) }
        }
        if let ring = source.drops {
            readers.drops = try BPFRingBuffer(fd: ring.fd, name: ring.name) { [unowned self] in handleDrop($0) }
        }
    }

    /// A drain stopped on its own: the limit, a failed sink or a read error.
    public var finished: Bool { drains.contains { $0.finished } }

    /// Why a drain stopped, if a ring could not be read.
    public var error: Error? { drains.lazy.compactMap(\.error).first }

    /// Stops the drains (each takes what its ring still holds), then flushes the sinks
    /// one last time. Idempotent.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        for drain in drains { drain.stop() }
        flush(final: true)
    }

    /// `12 events (arp 4, icmp 8)`, for trace's last line.
    public var summary: String {
        let kinds = framesByKind.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
            .joined(separator: ", ")
        return "\(frames) event\(frames == 1 ? "" : "s")" + (kinds.isEmpty ? "" : " (\(kinds))")
    }
}
