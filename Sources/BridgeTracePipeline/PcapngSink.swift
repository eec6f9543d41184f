import BridgeTraceCore
import BridgeTracePcap

/// `trace -w FILE`: every frame into a pcapng file, closed by the final flush.
public final class PcapngSink: EventSink, @unchecked Sendable {
    private let file: PcapngFile
    private let wallClockOffsetNs: Int64
    public private(set) var failed = false

    public init(file: PcapngFile, wallClockOffsetNs: Int64 = EventPipeline.wallClockOffsetNs) {
        self.file = file
        self.wallClockOffsetNs = wallClockOffsetNs
    }

    public func add(_ event: TraceEvent) {
        do {
            try file.write(event.frame, wallClockNs: UInt64(Int64(event.frame.monotonicNs) + wallClockOffsetNs))
        } catch {
            failed = true
        }
    }

    public func wantsDrop(_ header: DropEventRecord.Header, data: UnsafeRawBufferPointer) -> Bool { false }

    public func flush(final: Bool) {
        file.flush()
        if final { file.close() }
    }
}
