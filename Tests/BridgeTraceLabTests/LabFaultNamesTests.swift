import BridgeTraceCore
import BridgeTraceLab
import Testing

/// The fault catalogue against the diagnosis's cause codes: pure.
struct LabFaultNamesTests {
    @Test func faultNamesAreTheCauseCodesOfTheFaultClasses() {
        let causes = Set(CauseCode.allCases.map(\.rawValue)).subtracting(["not_forwarded", "unknown_drop"])
        #expect(Set(LabFault.allCases.map(\.rawValue)) == causes)
        #expect(LabFault.allCases.count == 19)
        #expect(LabFault.allCases.allSatisfy { $0.cause.rawValue == $0.rawValue })
        #expect(throws: UserError.self) { try LabFault.named("nope") }
    }
}
