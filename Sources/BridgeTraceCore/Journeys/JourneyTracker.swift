/// Links the frames seen at the bridge's ports, and the kernel's drops, into journeys.
///
/// A journey starts at an rx event. tx events and drops of the same frame (same
/// `JourneyFingerprint`) within `window` of it attach to it. A drop without bytes
/// attaches, as a fallback, to the latest open journey whose length fits. A tx with no
/// rx before it starts an "unseen ingress" journey (the bridge host sent it); a drop that
/// matches nothing becomes a journey of its own.
///
/// Streaming use (`trace --journey`):
///
///     var tracker = JourneyTracker()
///     tracker.add(event)              // each TraceEvent, in arrival order
///     tracker.add(drop)               // each DropRecord
///     for journey in tracker.finish(now: monotonicNow) { print(JourneyText.line(journey, ...)) }
///     ...
///     tracker.finishAll()             // at exit
///
/// Batch use: `JourneyTracker.journeys(events:drops:)`.
public struct JourneyTracker: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// How long after its first sighting a frame may still be seen at another port.
        public var windowNs: UInt64
        /// The bridge's and its ports' own MACs: frames to them go to the host's stack.
        public var localMACs: Set<MACAddress>
        /// Open journeys kept at most; the oldest are finished early past it.
        public var maxOpen: Int

        public init(windowNs: UInt64 = 100_000_000, localMACs: Set<MACAddress> = [], maxOpen: Int = 65_536) {
            self.windowNs = windowNs
            self.localMACs = localMACs
            self.maxOpen = max(1, maxOpen)
        }

        /// The local MACs of a bridge: its own, its ports', and the FDB's local entries.
        public init(windowNs: UInt64 = 100_000_000, state: BridgeState) {
            var macs = Set<MACAddress>()
            for text in [state.bridge.mac] + state.ports.map(\.mac) + state.fdb.filter(\.isLocal).map(\.mac) {
                if let mac = MACAddress(parsing: text) { macs.insert(mac) }
            }
            self.init(windowNs: windowNs, localMACs: macs)
        }
    }

    private struct Open: Sendable {
        var fingerprint: UInt64?
        var ingress: Journey.Hop?
        var egress: [Journey.Hop] = []
        var drops: [DropRecord] = []
        var decoded: DecodedFrame
        var length: Int
        var startNs: UInt64
        var lastNs: UInt64
    }

    public let configuration: Configuration
    private var open: [Int: Open] = [:]
    /// Ids in creation order; `head` is the first that may still be open.
    private var order: [Int] = []
    private var head = 0
    private var byFingerprint: [UInt64: [Int]] = [:]
    private var nextID = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var openCount: Int { open.count }

    // MARK: Input

    public mutating func add(_ event: TraceEvent) {
        guard let fingerprint = JourneyFingerprint.of(event.frame.bytes) else { return }
        let frame = event.frame
        let hop = Journey.Hop(port: frame.port, ifindex: frame.ifindex, direction: frame.direction,
                              monotonicNs: frame.monotonicNs, length: frame.length,
                              vlans: event.decoded.vlans.map(\.vid))
        switch frame.direction {
        case .rx:
            // A tx seen just before its rx (events out of order): the rx is its ingress.
            if let id = latest(fingerprint, near: frame.monotonicNs, where: { open in
                open.ingress == nil && open.drops.isEmpty && !open.egress.contains { $0.port == frame.port }
                    && open.startNs + 1_000_000 >= frame.monotonicNs
            }) {
                open[id]!.ingress = hop
                open[id]!.decoded = event.decoded
                open[id]!.length = frame.length
                open[id]!.startNs = min(open[id]!.startNs, frame.monotonicNs)
                touch(id, frame.monotonicNs)
            } else {
                start(Open(fingerprint: fingerprint, ingress: hop, decoded: event.decoded, length: frame.length,
                           startNs: frame.monotonicNs, lastNs: frame.monotonicNs))
            }
        case .tx:
            if let id = latest(fingerprint, near: frame.monotonicNs, where: { open in
                !open.egress.contains { $0.port == frame.port } && open.ingress?.port != frame.port
            }) {
                open[id]!.egress.append(hop)
                touch(id, frame.monotonicNs)
            } else {
                var journey = Open(fingerprint: fingerprint, decoded: event.decoded, length: frame.length,
                                   startNs: frame.monotonicNs, lastNs: frame.monotonicNs)
                journey.egress = [hop]
                start(journey)
            }
        }
    }

    public mutating func add(_ drop: DropRecord) {
        let fingerprint = JourneyFingerprint.of(drop.bytes)
        if let fingerprint, let id = latest(fingerprint, near: drop.monotonicNs, where: { _ in true }) {
            open[id]!.drops.append(drop)
            touch(id, drop.monotonicNs)
            return
        }
        if fingerprint == nil, let id = fallbackMatch(drop) {
            open[id]!.drops.append(drop)
            touch(id, drop.monotonicNs)
            return
        }
        var journey = Open(fingerprint: fingerprint, decoded: FrameDecoder.decode(drop.bytes), length: drop.length,
                           startNs: drop.monotonicNs, lastNs: drop.monotonicNs)
        journey.drops = [drop]
        start(journey)
    }

    // MARK: Output

    /// The journeys whose window has passed by `now` (CLOCK_MONOTONIC ns), oldest first.
    public mutating func finish(now: UInt64) -> [Journey] {
        var done = overflow
        overflow = []
        var index = head
        while index < order.count {
            let id = order[index]
            if let journey = open[id] {
                if journey.startNs &+ configuration.windowNs > now { break }
                done.append(close(id))
            }
            index += 1
        }
        compact(upTo: index)
        return done.sorted(by: Self.chronological)
    }

    /// Every journey still open, oldest first.
    public mutating func finishAll() -> [Journey] {
        let done = overflow + order[head...].compactMap { open[$0] == nil ? nil : close($0) }
        overflow = []
        compact(upTo: order.count)
        return done.sorted(by: Self.chronological)
    }

    /// All the journeys of a recorded stream: events and drops are put in time order
    /// (rx before tx before drops at the same nanosecond) and fed in.
    public static func journeys(events: [TraceEvent], drops: [DropRecord],
                                configuration: Configuration = Configuration()) -> [Journey] {
        enum Item { case event(TraceEvent), drop(DropRecord) }
        var items: [(ns: UInt64, rank: Int, index: Int, item: Item)] = []
        items.reserveCapacity(events.count + drops.count)
        for (index, event) in events.enumerated() {
            items.append((event.frame.monotonicNs, event.frame.direction == .rx ? 0 : 1, index, .event(event)))
        }
        for (index, drop) in drops.enumerated() {
            items.append((drop.monotonicNs, 2, index, .drop(drop)))
        }
        items.sort { ($0.ns, $0.rank, $0.index) < ($1.ns, $1.rank, $1.index) }
        var tracker = JourneyTracker(configuration: configuration)
        var result: [Journey] = []
        for entry in items {
            switch entry.item {
            case .event(let event): tracker.add(event)
            case .drop(let drop): tracker.add(drop)
            }
            if entry.ns > configuration.windowNs, tracker.head < tracker.order.count {
                result += tracker.finish(now: entry.ns - configuration.windowNs)
            }
        }
        result += tracker.finishAll()
        return result.sorted(by: chronological)
    }

    // MARK: Internals

    static func chronological(_ a: Journey, _ b: Journey) -> Bool {
        if a.startNs != b.startNs { return a.startNs < b.startNs }
        let portA = a.ingress?.port ?? a.egress.first?.port ?? a.drops.first?.port ?? ""
        let portB = b.ingress?.port ?? b.egress.first?.port ?? b.drops.first?.port ?? ""
        if portA != portB { return portA < portB }
        return (a.fingerprint ?? 0) < (b.fingerprint ?? 0)
    }

    private mutating func start(_ journey: Open) {
        let id = nextID
        nextID += 1
        open[id] = journey
        order.append(id)
        if let fingerprint = journey.fingerprint { byFingerprint[fingerprint, default: []].append(id) }
        if open.count > configuration.maxOpen, head < order.count {
            // Finish the oldest early; the caller collects it at the next finish().
            if let oldest = order[head...].first(where: { open[$0] != nil && $0 != id }) {
                overflow.append(close(oldest))
            }
        }
    }

    /// Journeys finished early when `maxOpen` was passed.
    private var overflow: [Journey] = []

    private mutating func touch(_ id: Int, _ ns: UInt64) {
        open[id]!.lastNs = max(open[id]!.lastNs, ns)
    }

    /// The most recent open journey with this fingerprint within the window of `ns`.
    private func latest(_ fingerprint: UInt64, near ns: UInt64, where accept: (Open) -> Bool) -> Int? {
        guard let ids = byFingerprint[fingerprint] else { return nil }
        for id in ids.reversed() {
            guard let journey = open[id] else { continue }
            let distance = ns >= journey.startNs ? ns - journey.startNs : journey.startNs - ns
            if distance <= configuration.windowNs && accept(journey) { return id }
        }
        return nil
    }

    /// For a drop without bytes: the latest open journey in the window that left no port
    /// yet, has no drop, and whose length fits skb->len (which may or may not count the
    /// Ethernet header and a tag).
    private func fallbackMatch(_ drop: DropRecord) -> Int? {
        var index = order.count - 1
        var best: Int?
        while index >= head {
            let id = order[index]
            index -= 1
            guard let journey = open[id] else { continue }
            if drop.monotonicNs > journey.startNs &+ configuration.windowNs { break }
            guard journey.startNs <= drop.monotonicNs, journey.ingress != nil, journey.drops.isEmpty,
                  drop.length <= journey.length + 4, drop.length + 22 >= journey.length else { continue }
            if journey.egress.isEmpty { return id }
            if best == nil, !journey.egress.contains(where: { $0.port == drop.port }) { best = id }
        }
        return best
    }

    private mutating func close(_ id: Int) -> Journey {
        let journey = open.removeValue(forKey: id)!
        if let fingerprint = journey.fingerprint, var ids = byFingerprint[fingerprint] {
            ids.removeAll { $0 == id }
            byFingerprint[fingerprint] = ids.isEmpty ? nil : ids
        }
        var egress = journey.egress.sorted { ($0.monotonicNs, $0.port) < ($1.monotonicNs, $1.port) }
        if let ingress = journey.ingress {
            for index in egress.indices where egress[index].monotonicNs >= ingress.monotonicNs {
                egress[index].latencyNs = egress[index].monotonicNs - ingress.monotonicNs
            }
        }
        let drops = journey.drops.sorted { ($0.monotonicNs, $0.port) < ($1.monotonicNs, $1.port) }
        return Journey(fingerprint: journey.fingerprint, ingress: journey.ingress, egress: egress, drops: drops,
                       decoded: journey.decoded, length: journey.length, startNs: journey.startNs,
                       outcome: Journey.outcome(ingress: journey.ingress, egress: egress, drops: drops,
                                                decoded: journey.decoded, localMACs: configuration.localMACs))
    }

    private mutating func compact(upTo index: Int) {
        head = index
        while head < order.count, open[order[head]] == nil { head += 1 }
        if head > 4096, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
