import BridgeTraceCore
import Testing

@testable import BridgeTraceBench

@Suite struct BenchPlanTests {
    /// The CLI's DUT names and what they build.
    @Test func switchDUTsAreNamedAsOnTheCommandLine() {
        #expect(DUTSelection.afxdpSwitch(fastPath: true).make().name == DUTKind.xdpSwitch.rawValue)
        #expect(DUTSelection.afxdpSwitch(fastPath: false).make().name == DUTKind.afxdpSwitch.rawValue)
        #expect(DUTSelection.ovsAFXDP.make().name == DUTKind.ovsAFXDP.rawValue)
    }

    /// Ratios are against the Linux bridge with netfilter off when it is there.
    @Test func theReferenceIsTheLinuxBridgeWithNetfilterOff() {
        #expect(DUTSelection.reference(in: [.direct, .linuxBridge(netfilter: true), .linuxBridge(netfilter: false)]) == 2)
        #expect(DUTSelection.reference(in: [.afxdpSwitch(fastPath: true), .linuxBridge(netfilter: true)]) == 1)
        #expect(DUTSelection.reference(in: [.ovsAFXDP, .direct]) == 0)
        #expect(DUTSelection.reference(in: []) == nil)
    }

    @Test func rejectsCombinationsThatMeanNothing() {
        var plan = BenchPlan(duts: [.direct], frameSizes: [64], duration: 1, trials: 1)
        plan.rfc2544 = RFC2544Settings()
        plan.tracers = [.none, .counters]
        #expect(throws: UserError.self) { try plan.validate() }
        plan.tracers = [.none]
        plan.count = 100
        #expect(throws: UserError.self) { try plan.validate() }
        plan = BenchPlan(duts: [.direct], frameSizes: [65_000], duration: 1, trials: 1)
        #expect(throws: UserError.self) { try plan.validate() }
    }

    /// Sleep pacing holds a fixed rate in bursts: not for "max", not for RFC 2544.
    @Test func sleepPacingNeedsAFixedRateAndNoRFC2544() throws {
        var plan = BenchPlan(duts: [.direct], frameSizes: [64], duration: 1, trials: 1)
        plan.pacing = .sleep
        #expect(throws: UserError.self) { try plan.validate() }
        plan.ratePPS = 200_000
        try plan.validate()
        plan.rfc2544 = RFC2544Settings()
        #expect(throws: UserError.self) { try plan.validate() }
    }

    @Test func jumboFramesRaiseTheMTUAndRFC2544MovesTheDUTToItsOwnCPU() {
        var plan = BenchPlan(duts: [.direct], frameSizes: [64, 9000], duration: 1, trials: 1)
        #expect(plan.mtu == 9000)
        #expect(plan.placement == .shared)
        plan.rfc2544 = RFC2544Settings()
        #expect(plan.placement == .own)
        plan.dutCPU = .shared
        #expect(plan.placement == .shared)
    }

    @Test func staleNamespacesAreRecognisedByTheirOwnerPID() {
        #expect(BenchNetwork.ownerPID(of: "btb1234-2-gen") == 1234)
        #expect(BenchNetwork.ownerPID(of: "btlab-br") == nil)
        #expect(BenchNetwork.ownerPID(of: "btb12-x-gen") == nil)
    }

    @Test func tracerModesParse() {
        #expect(TracerMode.parse("all") == TracerMode.allCases)
        #expect(TracerMode.parse("counters") == [.counters])
        #expect(TracerMode.parse("bogus") == nil)
    }
}
