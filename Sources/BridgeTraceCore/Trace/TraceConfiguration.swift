import CBridgeTraceABI

/// What the kernel programs put in the ring buffer: which kinds of frame, how many bytes
/// of each, and the kernel half of a tcpdump filter. The one place that fills a
/// `struct bt_trace_config` (`abi`); commands pick one of the presets.
public struct TraceConfiguration: Sendable, Equatable {
    /// Kinds traced (no `drop`: drop events come from the drop tracer).
    public var kinds: Set<EventKind>
    /// Bytes of each frame copied into its event, 1...BT_SNAPLEN_MAX.
    public var snaplen: Int
    /// Narrows `kinds`, and adds host, MAC and VLAN conditions.
    public var prefilter: TracePrefilter

    public init(kinds: Set<EventKind>, snaplen: Int = Int(BT_SNAPLEN_DEFAULT), prefilter: TracePrefilter = .none) {
        self.kinds = kinds
        self.snaplen = snaplen
        self.prefilter = prefilter
    }

    /// What bridge outages are about: ARP, ICMP, ICMPv6, DHCP and VLAN-tagged frames.
    public static let outageKinds: Set<EventKind> = [.arp, .icmp, .icmp6, .dhcp, .vlan]

    /// `diagnose` and the exporter: the outage kinds, default snap length.
    public static let outage = TraceConfiguration(kinds: outageKinds)

    /// `trace --all`: every frame an event.
    public static let everyFrame = TraceConfiguration(kinds: outageKinds.union([.other]))

    /// `trace [FILTER]`. Without a filter, trace shows the outage kinds (every kind with
    /// `all`). An explicit filter is taken at its word, as tcpdump would: every kind,
    /// narrowed in the kernel by what the pre-filter can prove.
    public static func trace(filter expression: String, all: Bool, snaplen: Int) -> TraceConfiguration {
        let every = all || !expression.isEmpty
        return TraceConfiguration(kinds: every ? everyFrame.kinds : outageKinds, snaplen: snaplen,
                                  prefilter: TracePrefilter.derive(from: expression))
    }

    /// `bt_trace_config.kinds` without the prefilter (BT_KIND_BIT mask).
    public var kindsMask: UInt32 {
        kinds.reduce(0) { $0 | $1.abiBit }
    }

    /// The kernel's `struct bt_trace_config`, events on.
    public var abi: bt_trace_config {
        var config = bt_trace_config()
        config.events = 1
        config.snaplen = UInt32(snaplen)
        prefilter.apply(to: &config, defaultKinds: kindsMask)
        return config
    }
}
