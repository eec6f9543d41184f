import BridgeTraceCore
import Foundation

/// `trace`'s printed output: text lines, JSON lines or journeys, rendered straight into
/// one batch (TraceLineBuffer: no buffer per event) and written with one write(2) per
/// poll, so a busy bridge costs one write per batch, not per frame.
public final class TraceOutputSink: EventSink, @unchecked Sendable {
    public enum Format: Sendable {
        case text, json
        /// `--journey`: frames linked across ports, printed once their window has passed.
        case journey(JourneyTracker.Configuration)
    }

    public enum Output: Sendable {
        /// Written to this fd (standard output, usually).
        case fd(Int32)
        /// Rendered and thrown away: the CPU it costs is the point (bench's full tracer).
        case discard
    }

    private let format: Format
    private let output: Output
    private let wallClockOffsetNs: Int64
    // Touched on the frame drain thread only (see EventSink): no runtime exclusivity check
    // per event.
    @exclusivity(unchecked) private var pending = TraceLineBuffer()
    private var journeys: JourneyTracker?
    /// One poll can drain a whole ring: past this, write in slices rather than hold it all.
    private let sliceBytes: Int
    public private(set) var failed = false

    public init(format: Format, output: Output = .fd(STDOUT_FILENO),
                wallClockOffsetNs: Int64 = EventPipeline.wallClockOffsetNs) {
        self.format = format
        self.output = output
        self.wallClockOffsetNs = wallClockOffsetNs
        if case .journey(let configuration) = format { journeys = JourneyTracker(configuration: configuration) }
        if case .discard = output { sliceBytes = 1 << 16 } else { sliceBytes = 1 << 20 }
    }

    public func add(_ event: borrowing TraceEventView) {
        switch format {
        case .text: pending.appendText(event, wallClockOffsetNs: wallClockOffsetNs)
        case .json: pending.appendJSON(event, wallClockOffsetNs: wallClockOffsetNs)
        case .journey: journeys?.add(TraceEvent(event))
        }
        if pending.count >= sliceBytes { writePending() }
    }

    /// Writes what the last poll produced; `final` also closes every open journey.
    public func flush(final: Bool) {
        if journeys != nil {
            let done = final ? journeys!.finishAll() : journeys!.finish(now: WallClock.monotonicNowNs())
            for journey in done {
                pending.appendLine(JourneyText.line(journey, wallClockOffsetNs: wallClockOffsetNs))
            }
        }
        writePending()
    }

    private func writePending() {
        guard !pending.isEmpty else { return }
        if case .fd(let fd) = output, !pending.withBytes({ FileOutput.writeAll(fd, $0) }) { failed = true }
        pending.removeAll()
    }
}

/// Unbuffered writes to a file descriptor.
public enum FileOutput {
    /// Writes all of `buffer` (retrying short writes and EINTR); false on an error (EPIPE:
    /// the reader has gone, which long-running commands take as a request to stop).
    public static func writeAll(_ fd: Int32, _ buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
