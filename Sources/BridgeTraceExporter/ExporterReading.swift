import BridgeTraceCore

/// What the exporter watches in one network namespace. A device is a kernel bridge today;
/// the AF_XDP switch joins as `.switch(NAME)` (its maps pinned under
/// /sys/fs/bpf/bridgetrace/switch/NAME/) with the same readings, so the rest of the
/// exporter stays as it is.
public struct ExporterScope: Sendable, Equatable {
    /// nil: the namespace the exporter was started in (exported as netns="").
    public var netns: String?
    /// Bridges to watch; empty: every bridge, including ones created later.
    public var bridges: [String]

    public init(netns: String?, bridges: [String]) {
        self.netns = netns
        self.bridges = bridges
    }

    /// The `netns` label: "" for the exporter's own namespace (DESIGN.md, Metrics).
    public var netnsLabel: String { netns ?? "" }

    public func watches(bridge: String) -> Bool { bridges.isEmpty || bridges.contains(bridge) }
}

/// One collection of one namespace: everything the metrics of DESIGN.md are made from.
/// Counters are cumulative since attach, as `counters --json` reports them.
public struct NamespaceReading: Sendable, Equatable {
    public var netns: String
    public var devices: [DeviceReading]
    /// Ring-buffer records the kernel could not queue (frames and drop events), since attach.
    public var lostEvents: UInt64
    /// Per program, when kernel.bpf_stats_enabled is on; empty otherwise.
    public var programs: [ProgramStats]

    public init(netns: String, devices: [DeviceReading], lostEvents: UInt64 = 0, programs: [ProgramStats] = []) {
        self.netns = netns
        self.devices = devices
        self.lostEvents = lostEvents
        self.programs = programs
    }
}

/// A bridge (or, later, a switch) and its ports.
public struct DeviceReading: Sendable, Equatable {
    public var name: String
    public var ports: [PortReading]
    public var drops: [DropCount]
    /// FDB entries learned or configured, not the bridge's own (local) addresses.
    public var fdbEntries: Int
    /// The findings that hold over the diagnosis window now.
    public var findings: [Finding]

    public init(name: String, ports: [PortReading], drops: [DropCount] = [], fdbEntries: Int = 0, findings: [Finding] = []) {
        self.name = name
        self.ports = ports
        self.drops = drops
        self.fdbEntries = fdbEntries
        self.findings = findings
    }
}

public struct PortReading: Sendable, Equatable {
    public var name: String
    /// Counters of the tracer; nil for a port seen by netlink but not (yet) attached.
    public var counters: PortCounters?
    /// Carrier and operstate up.
    public var isUp: Bool
    public var stpState: BridgeState.STPState
    public var mtu: UInt32
    /// The VM whose NIC this port is (libvirt domain or QEMU -name); the `vm` label.
    public var vm: String?

    public init(name: String, counters: PortCounters?, isUp: Bool, stpState: BridgeState.STPState, mtu: UInt32,
                vm: String? = nil) {
        self.name = name
        self.vm = vm
        self.counters = counters
        self.isUp = isUp
        self.stpState = stpState
        self.mtu = mtu
    }
}

/// One BPF program's own cost, from bpf_prog_info (kernel.bpf_stats_enabled).
public struct ProgramStats: Sendable, Equatable {
    public var program: String
    public var runTimeNs: UInt64
    public var runCount: UInt64

    public init(program: String, runTimeNs: UInt64, runCount: UInt64) {
        self.program = program
        self.runTimeNs = runTimeNs
        self.runCount = runCount
    }
}

extension PortReading {
    /// Port state from a netlink snapshot, with the tracer's counters when attached.
    public init(_ port: BridgeState.Port, counters: PortCounters?, vm: String? = nil) {
        self.init(name: port.name, counters: counters,
                  isUp: port.isUp && port.hasCarrier && (port.operState == "up" || port.operState == "unknown"),
                  stpState: port.stpState, mtu: port.mtu, vm: vm)
    }
}
