import BridgeTraceCore

/// Continuous diagnosis: the frames, drops and bridge states of the last `seconds`, bounded
/// in count too, so that a flood cannot grow memory. Every evaluation runs the diagnosis
/// rules (DiagnosisEngine, unchanged) over what is in the window, per bridge: a finding is
/// live while the evidence of the window supports it, and ends when that evidence ages out
/// or the state that caused it is gone.
///
/// Pure: times are the kernel's CLOCK_MONOTONIC nanoseconds, given by the caller.
public struct FindingWindow: Sendable {
    public let seconds: Double
    public let maxEvents: Int
    public let maxDrops: Int
    private var events: [TraceEvent] = []
    private var drops: [DropRecord] = []
    /// Bridge states, one per evaluation, oldest first: the oldest still in the window is
    /// the "before" of the diagnosis.
    private var states: [String: [(timeNs: UInt64, state: BridgeState)]] = [:]
    private var lostSamples: [(timeNs: UInt64, lost: UInt64)] = []
    /// Records let go because the window was full, since start.
    public private(set) var overflow: UInt64 = 0

    public init(seconds: Double, maxEvents: Int = 50_000, maxDrops: Int = 10_000) {
        precondition(seconds > 0 && maxEvents > 0 && maxDrops > 0)
        self.seconds = seconds
        self.maxEvents = maxEvents
        self.maxDrops = maxDrops
    }

    public var eventCount: Int { events.count }
    public var dropCount: Int { drops.count }
    public var bridgeCount: Int { states.count }

    public mutating func add(_ event: TraceEvent) {
        events.append(event)
        if events.count > maxEvents + maxEvents / 4 { overflow &+= Self.shed(&events, keep: maxEvents) }
    }

    public mutating func add(_ drop: DropRecord) {
        drops.append(drop)
        if drops.count > maxDrops + maxDrops / 4 { overflow &+= Self.shed(&drops, keep: maxDrops) }
    }

    /// Lets the oldest go, so that `keep` remain; returns how many went.
    private static func shed<T>(_ items: inout [T], keep: Int) -> UInt64 {
        let excess = max(items.count - keep, 0)
        items.removeFirst(excess)
        return UInt64(excess)
    }

    /// Records the bridges' states now and the lost-event counter, then drops what fell out
    /// of the window. Bridges not in `states` are forgotten (they vanished).
    public mutating func advance(nowNs: UInt64, states current: [BridgeState], lostEvents: UInt64) {
        let horizon = nowNs &- UInt64(seconds * 1e9)
        let cutoff = nowNs > UInt64(seconds * 1e9) ? horizon : 0
        events.removeFirst(events.prefix { $0.frame.monotonicNs < cutoff }.count)
        drops.removeFirst(drops.prefix { $0.monotonicNs < cutoff }.count)
        if events.count > maxEvents { overflow &+= Self.shed(&events, keep: maxEvents) }
        if drops.count > maxDrops { overflow &+= Self.shed(&drops, keep: maxDrops) }
        var kept: [String: [(timeNs: UInt64, state: BridgeState)]] = [:]
        for state in current {
            var samples = states[state.bridge.name] ?? []
            samples.append((nowNs, state))
            // Keep the newest sample at or before the cutoff: it is the window's "before".
            while samples.count > 1 && samples[1].timeNs <= cutoff { samples.removeFirst() }
            kept[state.bridge.name] = samples
        }
        states = kept
        lostSamples.append((nowNs, lostEvents))
        while lostSamples.count > 1 && lostSamples[1].timeNs <= cutoff { lostSamples.removeFirst() }
    }

    /// The findings that hold over the window for `bridge` (nil when it was never seen).
    public func findings(bridge: String) -> [Finding]? {
        guard let input = input(bridge: bridge) else { return nil }
        return DiagnosisEngine.diagnose(input)
    }

    /// What the rules see for one bridge: its ports' frames and drops in the window.
    public func input(bridge: String) -> DiagnosisInput? {
        guard let samples = states[bridge], let before = samples.first, let after = samples.last else { return nil }
        // The bridge's own interface is a port too: the host's side.
        let ports = Set(after.state.ports.map(\.name)).union(before.state.ports.map(\.name)).union([bridge])
        let lost = (lostSamples.last?.lost ?? 0) &- (lostSamples.first?.lost ?? 0)
        let duration = max(Double(after.timeNs &- before.timeNs) / 1e9, 0.001)
        // A state fault holds while the state does: "before" carries the port states of
        // now, and from the window's start only what is compared over time (device
        // counters such as a tap's tx_dropped, and the FDB as evidence of where MACs were).
        // Otherwise a port brought back up would stay a finding for a whole window.
        let stateBefore = BridgeState(bridge: after.state.bridge, ports: after.state.ports, fdb: before.state.fdb,
                                      deviceCounters: before.state.deviceCounters, netfilter: after.state.netfilter)
        return DiagnosisInput(bridge: bridge, durationSeconds: duration,
                              events: events.filter { ports.contains($0.frame.port) },
                              drops: drops.filter { ports.contains($0.port) },
                              stateBefore: stateBefore, stateAfter: after.state, lostEvents: lost, watchEndNs: after.timeNs)
    }
}
