import BridgeTraceCore
import Testing

@Suite struct EventKindTests {
    /// The pipeline counts kinds in a table indexed by the ABI value: every kind must fit
    /// it and come back from its value.
    @Test func everyKindRoundTripsAndFitsTheTable() {
        for kind in EventKind.allCases {
            #expect(EventKind(abiValue: kind.abiValue) == kind)
            #expect(Int(kind.abiValue) < EventKind.abiValueCount)
        }
        #expect(EventKind(abiValue: 0) == nil)
        #expect(EventKind(abiValue: UInt32(EventKind.abiValueCount)) == nil)
    }
}
