import BridgeTraceCore
import BridgeTraceExporter
import Testing

/// Continuous diagnosis without a kernel: findings hold while the window's evidence does,
/// and the window stays bounded whatever arrives.
struct FindingWindowTests {
    static let second: UInt64 = 1_000_000_000

    static func state(uplinkSTP: BridgeState.STPState = .forwarding) -> BridgeState {
        BridgeState(bridge: .init(name: "br0", ifindex: 1), ports: [
            .init(name: "vm1", ifindex: 2), .init(name: "uplink", ifindex: 3, stpState: uplinkSTP),
        ])
    }

    static func drop(at time: UInt64) -> DropRecord {
        DropRecord(monotonicNs: time, ifindex: 3, port: "uplink", reason: "NETFILTER_DROP", location: "nft_do_chain",
                   length: 98, bytes: [])
    }

    @Test func stateFindingEndsWithTheState() {
        var window = FindingWindow(seconds: 10)
        window.advance(nowNs: 100 * Self.second, states: [Self.state(uplinkSTP: .disabled)], lostEvents: 0)
        #expect(window.findings(bridge: "br0")?.map(\.cause) == [.stpNotForwarding])
        window.advance(nowNs: 101 * Self.second, states: [Self.state()], lostEvents: 0)
        #expect(window.findings(bridge: "br0")?.contains { $0.cause == .stpNotForwarding } == false)
    }

    @Test func dropFindingHoldsUntilItsEvidenceAgesOut() {
        var window = FindingWindow(seconds: 5)
        window.advance(nowNs: 100 * Self.second, states: [Self.state()], lostEvents: 0)
        for i in 0..<5 { window.add(Self.drop(at: 100 * Self.second + UInt64(i) * Self.second / 10)) }
        window.advance(nowNs: 101 * Self.second, states: [Self.state()], lostEvents: 0)
        #expect(window.findings(bridge: "br0")?.map(\.cause) == [.netfilterDrop])
        window.advance(nowNs: 104 * Self.second, states: [Self.state()], lostEvents: 0)
        #expect(window.findings(bridge: "br0")?.map(\.cause) == [.netfilterDrop], "still inside the 5 s window")
        window.advance(nowNs: 106 * Self.second, states: [Self.state()], lostEvents: 0)
        #expect(window.findings(bridge: "br0") == [])
        #expect(window.dropCount == 0)
    }

    @Test func aVanishedBridgeIsForgotten() {
        var window = FindingWindow(seconds: 5)
        window.advance(nowNs: Self.second, states: [Self.state()], lostEvents: 0)
        #expect(window.findings(bridge: "br0") != nil)
        window.advance(nowNs: 2 * Self.second, states: [], lostEvents: 0)
        #expect(window.findings(bridge: "br0") == nil)
        #expect(window.bridgeCount == 0)
    }

    @Test func floodsAreBoundedInCountAndStatesInTime() {
        var window = FindingWindow(seconds: 30, maxEvents: 100, maxDrops: 50)
        for i in 0..<10_000 { window.add(Self.drop(at: Self.second + UInt64(i))) }
        #expect(window.dropCount <= 50 + 50 / 4)
        window.advance(nowNs: 2 * Self.second, states: [Self.state()], lostEvents: 0)
        #expect(window.dropCount == 50)
        #expect(window.overflow == 10_000 - 50)
        // One state per evaluation for hours: only those inside the window (and one before) stay.
        for second in 3...7200 { window.advance(nowNs: UInt64(second) * Self.second, states: [Self.state()], lostEvents: 0) }
        let input = window.input(bridge: "br0")!
        #expect(input.durationSeconds == 30)
    }
}
