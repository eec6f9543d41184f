/// One frame's way across the bridge: where it entered, where it left, where it died.
/// Built by `JourneyTracker` from the frames seen at the ports and the kernel's drops.
public struct Journey: Sendable, Equatable {
    public enum Outcome: String, Sendable, Equatable {
        /// Entered at one port and left at one or more (some copies may also be dropped).
        case delivered
        /// Entered (or was not seen entering) and the kernel dropped it; it left nowhere.
        case dropped
        /// Entered and left no port, with no drop event: port isolation, some STP cases.
        case vanished
        /// Addressed to the bridge host itself (the bridge's or a port's own MAC): it is
        /// delivered to the host's stack, not to a port.
        case local
        /// Left a port with no rx seen first: sent by the bridge host itself, or its
        /// ingress was not traced.
        case unseenIngress = "unseen_ingress"
    }

    /// The frame at one port.
    public struct Hop: Sendable, Equatable {
        public var port: String
        public var ifindex: Int32
        public var direction: Direction
        public var monotonicNs: UInt64
        public var length: Int
        /// VIDs of the in-band tags at this port, outermost first.
        public var vlans: [UInt16]
        /// Nanoseconds since the journey entered the bridge; nil without an ingress.
        public var latencyNs: UInt64?

        public init(port: String, ifindex: Int32, direction: Direction, monotonicNs: UInt64, length: Int,
                    vlans: [UInt16] = [], latencyNs: UInt64? = nil) {
            self.port = port
            self.ifindex = ifindex
            self.direction = direction
            self.monotonicNs = monotonicNs
            self.length = length
            self.vlans = vlans
            self.latencyNs = latencyNs
        }
    }

    /// The hash of the frame's invariant bytes (`JourneyFingerprint`); nil for a drop that
    /// carried no bytes and matched no frame.
    public var fingerprint: UInt64?
    /// The rx hop; nil when the frame was not seen entering.
    public var ingress: Hop?
    /// The tx hops, in time order.
    public var egress: [Hop]
    /// Drops of this frame (or of its copies), in time order.
    public var drops: [DropRecord]
    /// The frame as first seen (at the ingress when there is one).
    public var decoded: DecodedFrame
    /// Wire length as first seen.
    public var length: Int
    /// CLOCK_MONOTONIC nanoseconds of the first sighting.
    public var startNs: UInt64
    public var outcome: Outcome

    public init(fingerprint: UInt64?, ingress: Hop?, egress: [Hop], drops: [DropRecord], decoded: DecodedFrame,
                length: Int, startNs: UInt64, outcome: Outcome) {
        self.fingerprint = fingerprint
        self.ingress = ingress
        self.egress = egress
        self.drops = drops
        self.decoded = decoded
        self.length = length
        self.startNs = startNs
        self.outcome = outcome
    }

    /// Nanoseconds from the ingress to a drop; nil without an ingress.
    public func latencyNs(of drop: DropRecord) -> UInt64? {
        guard let ingress, drop.monotonicNs >= ingress.monotonicNs else { return nil }
        return drop.monotonicNs - ingress.monotonicNs
    }

    /// The outcome from the hops, the drops and the bridge's own MACs.
    static func outcome(ingress: Hop?, egress: [Hop], drops: [DropRecord], decoded: DecodedFrame,
                        localMACs: Set<MACAddress>) -> Outcome {
        if !egress.isEmpty { return ingress == nil ? .unseenIngress : .delivered }
        if !drops.isEmpty { return .dropped }
        if let dst = decoded.dstMAC, localMACs.contains(dst) { return .local }
        return ingress == nil ? .unseenIngress : .vanished
    }
}
