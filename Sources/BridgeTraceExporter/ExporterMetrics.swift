import BridgeTraceCore
import Prometheus
import Synchronization

/// The metric series of DESIGN.md ("Metrics"), kept in a swift-prometheus registry that
/// renders the exposition. Readings come per namespace, cumulative; the series follow them:
/// a counter grows by what the kernel counted since the last reading, a series that is no
/// longer in a namespace's reading (a port, a bridge or a finding that is gone) is
/// unregistered, so nothing stays exported for something that no longer exists.
///
/// Safe to call from several collector threads at once; the registry renders concurrently.
public final class ExporterMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let state: Mutex<State>

    /// At most this many `vlan` values per port and direction, and `location` values per
    /// port and reason; the rest share the series with the value "other".
    public init(vlanLimit: Int = 64, locationLimit: Int = 16) {
        state = Mutex(State(vlanBounds: LabelBounds(limit: vlanLimit), locationBounds: LabelBounds(limit: locationLimit)))
    }

    private struct State: ~Copyable {
        var counters: [SeriesKey: (counter: Counter, value: UInt64)] = [:]
        var gauges: [SeriesKey: Gauge] = [:]
        var vlanBounds: LabelBounds
        var locationBounds: LabelBounds
    }

    /// The exporter's own identity; exported once, from start to exit.
    public func setBuildInfo(_ info: BuildInfo) {
        registry.makeGauge(name: "bridgetrace_build_info", labels: [
            ("netns", ""), ("bridge", ""), ("version", info.version), ("commit", info.commit), ("libbpf", info.libbpf),
            ("libxdp", info.libxdp), ("kernel", info.kernel),
        ], help: Self.help["bridgetrace_build_info"]!).set(to: 1)
    }

    /// Replaces every series of `reading.netns` with what the reading says.
    public func apply(_ reading: NamespaceReading) {
        state.withLock { state in
            var wanted = Wanted()
            collect(reading, into: &wanted, state: &state)
            update(netns: reading.netns, wanted: wanted, state: &state)
        }
    }

    /// Removes every series of a namespace (its collector stopped).
    public func remove(netns: String) {
        state.withLock { update(netns: netns, wanted: Wanted(), state: &$0) }
    }

    /// Number of live series (counters and gauges, build_info excluded).
    public var seriesCount: Int { state.withLock { $0.counters.count + $0.gauges.count } }

    // MARK: Series

    private struct Wanted {
        var counters: [SeriesKey: UInt64] = [:]
        var gauges: [SeriesKey: Double] = [:]
        /// Owners of bounded label values still alive, as "netns/bridge/port/...".
        var vlanOwners: Set<String> = []
        var locationOwners: Set<String> = []
    }

    private func collect(_ reading: NamespaceReading, into wanted: inout Wanted, state: inout State) {
        let ns = reading.netns
        wanted.counters[SeriesKey("bridgetrace_lost_events_total", [("netns", ns), ("bridge", "")])] = reading.lostEvents
        for program in reading.programs {
            let labels = [("netns", ns), ("bridge", ""), ("program", program.program)]
            wanted.counters[SeriesKey("bridgetrace_bpf_program_runs_total", labels)] = program.runCount
            // Nanoseconds, exported in seconds at render time (base units).
            wanted.counters[SeriesKey("bridgetrace_bpf_program_run_seconds_total", labels, nanoseconds: true)] = program.runTimeNs
        }
        for device in reading.devices {
            let base = [("netns", ns), ("bridge", device.name)]
            wanted.gauges[SeriesKey("bridgetrace_fdb_entries", base)] = Double(device.fdbEntries)
            // `vm` next to `port` on every port series: one value per port, "" for a port that
            // is no VM's NIC, so the series stay as many as the ports.
            let vms = Dictionary(device.ports.map { ($0.name, $0.vm ?? "") }, uniquingKeysWith: { first, _ in first })
            for port in device.ports {
                let portLabels = base + [("port", port.name), ("vm", port.vm ?? "")]
                wanted.gauges[SeriesKey("bridgetrace_port_up", portLabels)] = port.isUp ? 1 : 0
                wanted.gauges[SeriesKey("bridgetrace_port_stp_state", portLabels)] = Double(port.stpState.rawValue)
                wanted.gauges[SeriesKey("bridgetrace_port_mtu_bytes", portLabels)] = Double(port.mtu)
                guard let counters = port.counters else { continue }
                for direction in Direction.allCases {
                    let directional = portLabels + [("direction", direction.rawValue)]
                    let values = counters[direction]
                    wanted.counters[SeriesKey("bridgetrace_bytes_total", directional)] = values[.bytes]
                    for kind in FrameKindLabel.partition {
                        wanted.counters[SeriesKey("bridgetrace_frames_total", directional + [("kind", kind.jsonKey)])] = values[kind]
                    }
                    let owner = "\(ns)/\(device.name)/\(port.name)/\(direction.rawValue)"
                    wanted.vlanOwners.insert(owner)
                    for (vid, frames) in values.vlanFrames.sorted(by: { $0.key < $1.key }) {
                        let vlan = state.vlanBounds.label(String(vid), owner: owner)
                        wanted.counters[SeriesKey("bridgetrace_vlan_frames_total", directional + [("vlan", vlan)]), default: 0] &+= frames
                    }
                }
            }
            for drop in device.drops {
                let owner = "\(ns)/\(device.name)/\(drop.port)/\(drop.reason)"
                wanted.locationOwners.insert(owner)
                let location = state.locationBounds.label(drop.location, owner: owner)
                let key = SeriesKey("bridgetrace_drops_total", base + [("port", drop.port), ("vm", vms[drop.port] ?? ""),
                                                                        ("reason", drop.reason), ("location", location)])
                wanted.counters[key, default: 0] &+= drop.count
            }
            for finding in device.findings {
                wanted.gauges[SeriesKey("bridgetrace_finding", base + [
                    ("port", finding.port ?? ""), ("vm", finding.port.flatMap { vms[$0] } ?? ""),
                    ("cause", finding.cause.rawValue), ("severity", finding.severity.rawValue),
                ])] = 1
            }
        }
    }

    private func update(netns: String, wanted: Wanted, state: inout State) {
        for (key, entry) in state.counters where key.netns == netns && wanted.counters[key] == nil {
            registry.unregisterCounter(entry.counter)
            state.counters[key] = nil
        }
        for (key, gauge) in state.gauges where key.netns == netns && wanted.gauges[key] == nil {
            registry.unregisterGauge(gauge)
            state.gauges[key] = nil
        }
        for (key, value) in wanted.counters {
            let existing = state.counters[key] ?? (registry.makeCounter(name: key.name, labels: key.labels, help: Self.help[key.name]!), 0)
            if value < existing.value { existing.counter.reset() }  // re-attached: counts from zero again
            let delta = value < existing.value ? value : value - existing.value
            if key.nanoseconds {
                if delta > 0 { existing.counter.increment(by: Double(delta) / 1e9) }
            } else {
                existing.counter.increment(by: Int64(clamping: delta))
            }
            state.counters[key] = (existing.counter, value)
        }
        for (key, value) in wanted.gauges {
            let gauge = state.gauges[key] ?? registry.makeGauge(name: key.name, labels: key.labels, help: Self.help[key.name]!)
            gauge.set(value)
            state.gauges[key] = gauge
        }
        // Forget the label admissions of owners that are gone, in this namespace only.
        let prefix = netns + "/"
        state.vlanBounds.retain(owners: Set(state.vlanBounds.owners.filter { !$0.hasPrefix(prefix) }).union(wanted.vlanOwners))
        state.locationBounds.retain(owners: Set(state.locationBounds.owners.filter { !$0.hasPrefix(prefix) }).union(wanted.locationOwners))
    }

    static let help: [String: String] = [
        "bridgetrace_frames_total": "Frames seen per port, direction (from the bridge) and kind; the kinds partition the frames.",
        "bridgetrace_bytes_total": "Bytes seen per port and direction (from the bridge).",
        "bridgetrace_vlan_frames_total": "802.1Q-tagged frames per port, direction and outer VLAN ID.",
        "bridgetrace_drops_total": "Kernel drops (kfree_skb with a reason) per port, reason and kernel location.",
        "bridgetrace_lost_events_total": "Ring-buffer records the kernel could not queue (frame and drop events).",
        "bridgetrace_port_up": "1 when the port has carrier and its operstate is up.",
        "bridgetrace_port_stp_state": "The port's STP state as the kernel numbers it (0 disabled, 1 listening, 2 learning, 3 forwarding, 4 blocking).",
        "bridgetrace_port_mtu_bytes": "The port's MTU.",
        "bridgetrace_fdb_entries": "FDB entries of the bridge, learned or static, without its own local addresses.",
        "bridgetrace_finding": "1 while the diagnosis finds this cause at this port over the diagnosis window.",
        "bridgetrace_bpf_program_run_seconds_total": "Time the kernel spent in this bridgetrace BPF program (kernel.bpf_stats_enabled).",
        "bridgetrace_bpf_program_runs_total": "Runs of this bridgetrace BPF program (kernel.bpf_stats_enabled).",
        "bridgetrace_build_info": "The exporter's version and commit, and the libraries and kernel it runs on.",
    ]
}

/// The `kind` values of bridgetrace_frames_total: the counter keys of `counters --json`
/// other than frames, bytes, vlan_tagged and vlan. They partition the frames.
public enum FrameKindLabel {
    public static let partition: [CounterKind] = CounterKind.allCases.filter { ![.frames, .bytes, .vlanTagged].contains($0) }
}

/// A series: metric name and label pairs (in DESIGN.md's order).
struct SeriesKey: Hashable {
    let name: String
    let labels: [(String, String)]
    /// Kernel nanoseconds exported as seconds.
    let nanoseconds: Bool

    init(_ name: String, _ labels: [(String, String)], nanoseconds: Bool = false) {
        self.name = name
        self.labels = labels
        self.nanoseconds = nanoseconds
    }

    var netns: String { labels.first { $0.0 == "netns" }?.1 ?? "" }

    static func == (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        lhs.name == rhs.name && lhs.labels.elementsEqual(rhs.labels, by: { $0 == $1 })
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        for (label, value) in labels {
            hasher.combine(label)
            hasher.combine(value)
        }
    }
}
