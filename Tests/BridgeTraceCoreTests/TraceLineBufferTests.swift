import Testing

@testable import BridgeTraceCore

/// The drain's batch buffer writes exactly the lines TraceJSON and TraceText write one by
/// one, one after the other, and empties without losing its memory.
@Suite struct TraceLineBufferTests {
    func contents(_ buffer: borrowing TraceLineBuffer) -> String {
        buffer.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test func batchedLinesEqualSingleLines() {
        let arp = TraceClock.event(Fixture.arpRequestTagged)
        let echo = TraceClock.event(Fixture.echoRequestTagged, port: "vm1", direction: .tx, ifindex: 12)
        var buffer = TraceLineBuffer(capacity: 16)  // grows across lines
        buffer.appendJSON(arp, wallClockOffsetNs: TraceClock.offsetNs)
        buffer.appendJSON(echo, wallClockOffsetNs: TraceClock.offsetNs)
        buffer.appendText(echo, wallClockOffsetNs: TraceClock.offsetNs)
        buffer.appendLine("journey")
        #expect(contents(buffer) == TraceClock.json(arp) + "\n" + TraceClock.json(echo) + "\n" + TraceClock.text(echo) + "\njourney\n")
        buffer.removeAll()
        let empty = buffer.isEmpty
        #expect(empty)
        buffer.appendJSON(arp, wallClockOffsetNs: TraceClock.offsetNs)
        #expect(contents(buffer) == TraceClock.json(arp) + "\n")
    }
}
