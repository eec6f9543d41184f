/// A batch of trace output lines (text or JSON), rendered straight into one growing
/// buffer: no buffer per event, no copy from a per-line buffer into the batch. The drain
/// fills it from a whole ring-buffer poll and writes it with one write(2).
public struct TraceLineBuffer: ~Copyable {
    private var buffer: ASCIIBuffer

    public init(capacity: Int = 1 << 17) {
        buffer = ASCIIBuffer(capacity: capacity)
    }

    /// Bytes waiting to be written.
    public var count: Int { buffer.count }
    public var isEmpty: Bool { buffer.count == 0 }

    /// One `trace --json` line (TraceJSON), newline included.
    public mutating func appendJSON(_ event: borrowing TraceEventView, wallClockOffsetNs: Int64) {
        TraceJSONLine.append(event, wallClockOffsetNs: wallClockOffsetNs, to: &buffer)
        buffer.append(UInt8(ascii: "\n"))
    }

    /// One `trace` text line (TraceText), newline included.
    public mutating func appendText(_ event: borrowing TraceEventView, wallClockOffsetNs: Int64) {
        TraceText.write(event, wallClockOffsetNs: wallClockOffsetNs, to: &buffer)
        buffer.append(UInt8(ascii: "\n"))
    }

    /// The same lines for a kept event.
    public mutating func appendJSON(_ event: TraceEvent, wallClockOffsetNs: Int64) {
        event.withView { appendJSON($0, wallClockOffsetNs: wallClockOffsetNs) }
    }

    public mutating func appendText(_ event: TraceEvent, wallClockOffsetNs: Int64) {
        event.withView { appendText($0, wallClockOffsetNs: wallClockOffsetNs) }
    }

    /// Any line already rendered elsewhere (journeys), newline included.
    public mutating func appendLine(_ line: String) {
        buffer.appendUTF8(line)
        buffer.append(UInt8(ascii: "\n"))
    }

    public func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(buffer.bytes)
    }

    /// Empties the batch, keeping its memory.
    public mutating func removeAll() {
        buffer.removeAll()
    }
}
