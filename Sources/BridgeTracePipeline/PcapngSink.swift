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

    public func add(_ event: borrowing TraceEventView) {
        do {
            try file.write(CapturedFrame(event), wallClockNs: UInt64(Int64(event.monotonicNs) + wallClockOffsetNs))
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
