/// Everything `diagnose` watched: the frames and drops of S seconds and the bridge state
/// before and after. `DiagnosisEngine.diagnose` turns it into findings.
public struct DiagnosisInput: Sendable {
    /// The bridge's name (findings that are bridge-wide name it as their port).
    public var bridge: String
    /// How long the watch lasted, in seconds.
    public var durationSeconds: Double
    /// Frames seen at the ports, rx and tx (any order; the engine sorts by time).
    public var events: [TraceEvent]
    /// Drops whose skb->dev was a watched port.
    public var drops: [DropRecord]
    public var stateBefore: BridgeState
    public var stateAfter: BridgeState
    /// The IP the operator asked about (`--host`): flows to it are judged with lower
    /// thresholds, and the summary says when nothing about it was seen.
    public var probeTarget: String?
    /// Ring-buffer records lost during the watch (the kernel could not reserve room):
    /// when nonzero, "vanished" needs more evidence.
    public var lostEvents: UInt64
    /// Events the collector received and did not keep (past its limit): like lostEvents,
    /// events the rules never saw.
    public var collectorOverflow: UInt64
    /// Drops the kernel counted that are not in `drops` (past the collector's budget per
    /// (port, reason, location) for frames the rules do not follow, or lost in the ring
    /// buffer): they add to the counts of the kept drops with the same key.
    public var countedDrops: [DropCount]
    public var thresholds: DiagnosisThresholds
    /// CLOCK_MONOTONIC ns when the watch ended (events carry the same clock): how long a
    /// request went unanswered when nothing came after it. nil in older recordings.
    public var watchEndNs: UInt64?

    /// Every drop seen: the kept ones and the counted ones.
    public var dropTotal: Int { drops.count + countedDrops.reduce(0) { $0 + Int($1.count) } }

    public init(bridge: String, durationSeconds: Double, events: [TraceEvent], drops: [DropRecord],
                stateBefore: BridgeState, stateAfter: BridgeState, probeTarget: String? = nil,
                lostEvents: UInt64 = 0, collectorOverflow: UInt64 = 0, countedDrops: [DropCount] = [],
                thresholds: DiagnosisThresholds = DiagnosisThresholds(), watchEndNs: UInt64? = nil) {
        self.bridge = bridge
        self.durationSeconds = durationSeconds
        self.events = events
        self.drops = drops
        self.stateBefore = stateBefore
        self.stateAfter = stateAfter
        self.probeTarget = probeTarget
        self.lostEvents = lostEvents
        self.collectorOverflow = collectorOverflow
        self.countedDrops = countedDrops
        self.thresholds = thresholds
        self.watchEndNs = watchEndNs
    }
}

/// How much evidence a rule needs before it speaks. Precision first: a healthy bridge with
/// a few unanswered broadcasts must give no finding.
public struct DiagnosisThresholds: Sendable, Equatable {
    /// Journey window (`JourneyTracker.Configuration.windowNs`).
    public var journeyWindowNs: UInt64 = 100_000_000
    /// ARP requests for one target, and the seconds they must span, before "unanswered".
    /// Linux asks 3 times, 1 s apart, per resolution, then backs off: a watch of a few
    /// seconds sees 2 or 3; two that are a retransmission apart are already unambiguous.
    public var unansweredARPRequests = 2
    public var unansweredARPMinSpanSeconds = 0.9
    /// A quiet sender (a failed neighbour asks again only every several seconds): one
    /// request is enough when the watch went on this long after it with no reply.
    public var quietARPSilenceSeconds = 1.0
    /// Echo requests for one (source, destination), and the seconds they must span.
    public var unansweredEchoRequests = 3
    public var unansweredMinSpanSeconds = 2.0
    /// DHCP requests (DISCOVER, or BOOTREQUEST without options) from one client.
    public var unansweredDHCPRequests = 2
    public var unansweredDHCPMinSpanSeconds = 2.0
    /// With `probeTarget`: requests to that IP needed (any span).
    public var probeRequests = 2
    /// Unanswered broadcasts from an isolated port that reached no isolated port, before
    /// port_isolated when the target's port is not known (one is enough when it is).
    public var isolatedUnanswered = 2
    /// upstream_mac_filter: requests from the filtered MAC, and replies to another MAC.
    public var filteredRequests = 2
    /// Vanished frames from one port before port_isolated / not_forwarded.
    public var vanishedFrames = 2
    public var notForwardedFrames = 3
    /// Tagged frames of one VID entering at one port before vlan_mismatch.
    public var taggedFrames = 3
    /// Port changes of one source MAC (A→B→A is 2) before mac_flapping.
    public var macPortChanges = 2
    /// Unsolicited ARP replies claiming an IP before arp_spoofing.
    public var unsolicitedReplies = 3
    /// Unknown unicast frames to one MAC, flooded past the only port with flooding off,
    /// before port_flood_off when the MAC was never seen behind that port.
    public var floodedFrames = 2
    /// tx_dropped growth on a tap before no_carrier.
    public var tapTxDropped: UInt64 = 3

    public init() {}
}
