/// The facts every rule reads, computed once from a `DiagnosisInput`: events and drops in
/// time order, journeys, ports before and after, where each MAC and IP lives.
struct DiagnosisContext {
    let input: DiagnosisInput
    let thresholds: DiagnosisThresholds
    let events: [TraceEvent]
    let drops: [DropRecord]
    let journeys: [Journey]
    /// Every port of either snapshot, and every port named by an event or a drop; sorted.
    let portNames: [String]
    let before: [String: BridgeState.Port]
    let after: [String: BridgeState.Port]
    let localMACs: Set<MACAddress>
    /// MAC → port, from the FDB (after, then before) and from rx traffic.
    let macHome: [MACAddress: String]
    /// IPv4 → (MAC, port) of its most frequent rx sender.
    let ipHome: [IPv4Address: (mac: MACAddress, port: String)]
    let probeTarget: IPv4Address?
    /// Distinct unicast source MACs that entered at each port.
    let sourceMACs: [String: Set<MACAddress>]
    let startNs: UInt64
    let endNs: UInt64

    init(_ input: DiagnosisInput) {
        self.input = input
        thresholds = input.thresholds
        events = input.events.enumerated().sorted { a, b in
            let rankA = a.element.frame.direction == .rx ? 0 : 1
            let rankB = b.element.frame.direction == .rx ? 0 : 1
            return (a.element.frame.monotonicNs, rankA, a.offset) < (b.element.frame.monotonicNs, rankB, b.offset)
        }.map(\.element)
        drops = input.drops.enumerated().sorted { ($0.element.monotonicNs, $0.offset) < ($1.element.monotonicNs, $1.offset) }
            .map(\.element)
        var local = JourneyTracker.Configuration(state: input.stateAfter).localMACs
        local.formUnion(JourneyTracker.Configuration(state: input.stateBefore).localMACs)
        localMACs = local
        journeys = JourneyTracker.journeys(
            events: events, drops: drops,
            configuration: JourneyTracker.Configuration(windowNs: input.thresholds.journeyWindowNs, localMACs: local))
        before = Dictionary(input.stateBefore.ports.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        after = Dictionary(input.stateAfter.ports.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var names = Set(before.keys).union(after.keys)
        names.formUnion(events.map(\.frame.port))
        names.formUnion(drops.map(\.port))
        portNames = names.sorted()

        var homes: [MACAddress: String] = [:]
        var macCounts: [MACAddress: [String: Int]] = [:]
        var ipCounts: [IPv4Address: [Pair: Int]] = [:]
        for event in events where event.frame.direction == .rx {
            guard let src = event.decoded.srcMAC, !src.isMulticast, src != .zero else { continue }
            macCounts[src, default: [:]][event.frame.port, default: 0] += 1
            var sender: IPv4Address?
            if let arp = event.decoded.arp, arp.isEthernetIPv4 { sender = arp.senderIP } else { sender = event.decoded.ipv4?.source }
            if let sender, sender != .any, sender != .broadcast {
                ipCounts[sender, default: [:]][Pair(mac: src, port: event.frame.port), default: 0] += 1
            }
        }
        for (mac, counts) in macCounts { homes[mac] = Self.most(counts) }
        var sources: [String: Set<MACAddress>] = [:]
        for (mac, counts) in macCounts { for port in counts.keys { sources[port, default: []].insert(mac) } }
        sourceMACs = sources
        for entry in input.stateBefore.fdb + input.stateAfter.fdb where !entry.isLocal {
            if let mac = MACAddress(parsing: entry.mac) { homes[mac] = entry.port }
        }
        macHome = homes
        var ips: [IPv4Address: (mac: MACAddress, port: String)] = [:]
        for (ip, counts) in ipCounts {
            let best = counts.max { a, b in (a.value, b.key) < (b.value, a.key) }!.key
            ips[ip] = (best.mac, best.port)
        }
        ipHome = ips
        probeTarget = input.probeTarget.flatMap(IPv4Address.init)
        let times = events.map(\.frame.monotonicNs) + drops.map(\.monotonicNs)
        startNs = times.min() ?? 0
        endNs = times.max() ?? 0
    }

    struct Pair: Hashable, Comparable {
        var mac: MACAddress
        var port: String
        static func < (a: Pair, b: Pair) -> Bool { (a.port, a.mac.rawValue) < (b.port, b.mac.rawValue) }
    }

    /// The key with the highest count; ties go to the smallest name.
    static func most(_ counts: [String: Int]) -> String {
        counts.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }!.key
    }

    /// The port's snapshots that exist: before, after.
    func snapshots(_ port: String) -> [BridgeState.Port] {
        [before[port], after[port]].compactMap { $0 }
    }

    /// A port with a whole segment behind it (more than two source MACs: an uplink to a
    /// LAN), whose hosts may answer each other without crossing the bridge.
    func isSegment(_ port: String) -> Bool { (sourceMACs[port]?.count ?? 0) > 2 }

    func isIsolated(_ port: String) -> Bool { snapshots(port).contains(where: \.isolated) }

    /// Whether the watch went on for `quietARPSilenceSeconds` after the last of these
    /// requests (a quiet sender's single request, unanswered for that long, is evidence).
    func quietlyUnanswered(_ journeys: [Journey]) -> Bool {
        guard let end = input.watchEndNs, let last = journeys.last else { return false }
        return Self.seconds(last.startNs, end) >= thresholds.quietARPSilenceSeconds
    }

    /// Seconds from the last of these journeys to the end of the watch ("in the 6.2 s that followed").
    func silence(after journeys: [Journey]) -> String? {
        guard let end = input.watchEndNs, let last = journeys.last, end > last.startNs else { return nil }
        let tenths = Int((Self.seconds(last.startNs, end) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) s"
    }

    /// The bridge's own IPv4 addresses (the host's).
    var bridgeAddresses: Set<IPv4Address> {
        Set((input.stateAfter.bridge.subnets + input.stateBefore.bridge.subnets).map(\.address))
    }

    /// Seconds between two monotonic times.
    static func seconds(_ from: UInt64, _ to: UInt64) -> Double {
        to >= from ? Double(to - from) / 1e9 : 0
    }

    var bridge: String { input.bridge }
    var stpEnabled: Bool { input.stateBefore.bridge.stpEnabled || input.stateAfter.bridge.stpEnabled }

    /// `MTU 1500` of a port, the smaller of the two snapshots.
    func mtu(_ port: String) -> UInt32? { snapshots(port).map(\.mtu).min() }

    /// "198.18.0.12 (52:54:00:00:00:02 behind vm2)" or "198.18.0.12 (not seen on the bridge)".
    func whereIs(_ ip: IPv4Address) -> String {
        if let home = ipHome[ip] { return "\(ip) was seen behind \(home.port) (\(home.mac))" }
        return "\(ip) was not seen sending on the bridge"
    }
}

extension Array where Element == String {
    /// "a", "a and b", "a, b and c".
    var joinedAsList: String {
        switch count {
        case 0: return ""
        case 1: return self[0]
        default: return dropLast().joined(separator: ", ") + " and " + last!
        }
    }
}
