import Testing

@testable import BridgeTraceCore

@Suite struct ASCIIBufferTests {
    @Test func decimals() {
        for value: UInt64 in [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 1_000_000_007, UInt64.max] {
            #expect(ASCIIBuffer.string { $0.appendDecimal(value) } == String(value))
        }
        for value: Int64 in [0, -1, -10, -99, -100, Int64.min, Int64.max] {
            #expect(ASCIIBuffer.string { $0.appendDecimal(value) } == String(value))
        }
        #expect(ASCIIBuffer.string { $0.appendDecimal(7, width: 2) } == "07")
        #expect(ASCIIBuffer.string { $0.appendDecimal(42, width: 6) } == "000042")
        #expect(ASCIIBuffer.string { $0.appendDecimal(1_234_567, width: 6) } == "1234567")
        #expect(ASCIIBuffer.string { $0.appendDecimal(UInt64.max, width: 30) } == "0000000000" + String(UInt64.max))
    }

    @Test func hex() {
        #expect(ASCIIBuffer.string { $0.appendHex16(0x0800) } == "0x0800")
        #expect(ASCIIBuffer.string { $0.appendHex(0xabc, digits: 8) } == "00000abc")
        #expect(ASCIIBuffer.string { $0.appendHex(UInt64.max, digits: 2) } == "ffffffffffffffff")
        #expect(ASCIIBuffer.string { $0.appendHex(UInt16(0)) } == "0")
    }

    @Test func growsPastItsCapacity() {
        let long = String(repeating: "veth-0123456789-", count: 200)
        let text = ASCIIBuffer.string(capacity: 1) { buffer in
            for _ in 0..<3 { buffer.appendUTF8(long) }
            buffer.appendDecimal(UInt64.max)
        }
        #expect(text == long + long + long + String(UInt64.max))
        let event = TraceClock.event(Fixture.dhcpDiscover, port: long)
        #expect(TraceClock.json(event) == TraceJSON.value(event, wallClockOffsetNs: TraceClock.offsetNs).rendered())
        #expect(TraceClock.text(event).contains(" \(long) rx IP 0.0.0.0.68"))
    }
}
