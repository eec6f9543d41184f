/// A batch of trace output lines (text or JSON), rendered straight into one growing
/// buffer: no buffer per event, no copy from a per-line buffer into the batch. The drain
/// fills it from a whole ring-buffer poll and writes it with one write(2).
public struct TraceLineBuffer: ~Copyable {
    /// The batch lives in the JSON writer's buffer; text lines go into the same bytes.
    private var writer: JSONByteWriter

    public init(capacity: Int = 1 << 17) {
        writer = JSONByteWriter(capacity: capacity)
    }

    /// Bytes waiting to be written.
    public var count: Int { writer.buffer.count }
    public var isEmpty: Bool { writer.buffer.count == 0 }

    /// One `trace --json` line (TraceJSON), newline included.
    public mutating func appendJSON(_ event: TraceEvent, wallClockOffsetNs: Int64) {
        writer.startValue()
        TraceJSON.write(event, wallClockOffsetNs: wallClockOffsetNs, to: &writer)
        writer.buffer.append(UInt8(ascii: "\n"))
    }

    /// One `trace` text line (TraceText), newline included.
    public mutating func appendText(_ event: TraceEvent, wallClockOffsetNs: Int64) {
        TraceText.write(event, wallClockOffsetNs: wallClockOffsetNs, to: &writer.buffer)
        writer.buffer.append(UInt8(ascii: "\n"))
    }

    /// Any line already rendered elsewhere (journeys), newline included.
    public mutating func appendLine(_ line: String) {
        writer.buffer.appendUTF8(line)
        writer.buffer.append(UInt8(ascii: "\n"))
    }

    public func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(writer.buffer.bytes)
    }

    /// Empties the batch, keeping its memory.
    public mutating func removeAll() {
        writer.buffer.removeAll()
    }
}
