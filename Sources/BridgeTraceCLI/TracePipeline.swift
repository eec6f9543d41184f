import BridgeTraceCore
import BridgeTracePcap
import Foundation
import Synchronization

/// What happens to each ring-buffer record, on the drain thread: decode, apply the
/// libpcap filter, render (text, JSON lines or pcapng), count. Output is batched per
/// poll and written once, so a busy bridge costs one write(2) per batch, not per frame.
/// Lines are rendered straight into that batch (TraceLineBuffer): no buffer per event.
final class TracePipeline: @unchecked Sendable {
    enum Format { case text, json, journey }

    /// nil: nothing is printed (-w alone).
    private let format: Format?
    private let filter: PacketFilter?
    private let pcapng: PcapngFile?
    private let wallClockOffsetNs: Int64
    private let limit: Int?
    /// The drain thread's own copy of the port names, replaced when `updatePorts` posts
    /// a new one: a flag load per event instead of a lock.
    private var ports: [Int32: String]
    private let postedPorts = Mutex<[Int32: String]?>(nil)
    private let portsPosted = Atomic<Bool>(false)
    private var pending = TraceLineBuffer()
    /// `--journey`: frames linked across ports, printed once their window has passed.
    private var journeys: JourneyTracker
    private(set) var byKind: [String: Int] = [:]
    private(set) var emitted = 0
    private(set) var writeFailed = false

    init(format: Format?, filter: PacketFilter?, pcapng: PcapngFile?, limit: Int?, ports: [Int32: String],
         journeyConfiguration: JourneyTracker.Configuration = .init()) {
        self.format = format
        self.journeys = JourneyTracker(configuration: journeyConfiguration)
        self.filter = filter
        self.pcapng = pcapng
        self.limit = limit
        self.ports = ports
        // The kernel stamps events with CLOCK_MONOTONIC; output shows wall-clock time.
        wallClockOffsetNs = WallClock.monotonicOffsetNs()
    }

    /// From the main thread, when ports come and go.
    func updatePorts(_ ports: [Int32: String]) {
        postedPorts.withLock { $0 = ports }
        portsPosted.store(true, ordering: .releasing)
    }

    var limitReached: Bool { limit.map { emitted >= $0 } ?? false }

    /// One record from the ring buffer.
    func handle(_ raw: UnsafeRawBufferPointer) {
        if limitReached { return }
        guard let ifindex = FrameEventRecord.ifindex(raw) else { return }
        if portsPosted.load(ordering: .acquiring) {
            portsPosted.store(false, ordering: .relaxed)
            if let posted = postedPorts.withLock({ $0.take() }) { ports = posted }
        }
        let port = ports[ifindex] ?? "if\(ifindex)"
        guard let frame = FrameEventRecord.decode(raw, port: port) else { return }
        // Filter on the bytes first: a frame the filter rejects is never decoded.
        if let filter, !filter.matches(frame.bytes, wireLength: frame.length) { return }
        let event = FrameEventRecord.event(from: frame, raw: raw)
        emitted += 1
        byKind[event.decoded.kind.rawValue, default: 0] += 1
        if let pcapng {
            do {
                try pcapng.write(frame, wallClockNs: UInt64(Int64(frame.monotonicNs) + wallClockOffsetNs))
            } catch {
                writeFailed = true
            }
        }
        switch format {
        case nil: return
        case .text: pending.appendText(event, wallClockOffsetNs: wallClockOffsetNs)
        case .json: pending.appendJSON(event, wallClockOffsetNs: wallClockOffsetNs)
        case .journey: journeys.add(event)
        }
        // One poll can drain a whole ring: write in slices rather than hold it all.
        if pending.count >= 1 << 20 { flushPending() }
    }

    /// Writes what the last poll produced; `final` also closes every open journey.
    func flush(final: Bool = false) {
        pcapng?.flush()
        if format == .journey {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let done = final ? journeys.finishAll()
                : journeys.finish(now: UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec))
            for journey in done {
                pending.appendLine(JourneyText.line(journey, wallClockOffsetNs: wallClockOffsetNs))
            }
        }
        flushPending()
    }

    private func flushPending() {
        guard !pending.isEmpty else { return }
        if !pending.withBytes({ writeStandardOutput(buffer: $0) }) { writeFailed = true }
        pending.removeAll()
    }

    var summary: String {
        let kinds = byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(emitted) event\(emitted == 1 ? "" : "s")" + (kinds.isEmpty ? "" : " (\(kinds))")
    }
}
