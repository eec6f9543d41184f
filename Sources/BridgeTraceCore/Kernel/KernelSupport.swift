/// What the running kernel (and these privileges) offer bridgetrace, feature by feature,
/// and what each command does with that: `bridgetrace doctor`, and the one-line notes a
/// command prints when it falls back. The probing is BridgeTraceKernel's (KernelProbe);
/// this is the pure part, so that the rules are tested from feature sets without root.
public enum KernelFeature: String, CaseIterable, Sendable, Codable {
    case capabilities
    case btf
    case bpffs
    case tracefs
    case ringbuf
    case xdpLink = "xdp_link"
    case tcx
    case xdpLoadBytes = "xdp_load_bytes"
    case tpBTFKfreeSkb = "tp_btf_kfree_skb"
    case kfreeSkbReasons = "kfree_skb_reasons"
    case xdpAdjustMeta = "xdp_adjust_meta"
    case xdpLiveFrames = "xdp_live_frames"
    case afXDP = "af_xdp"
    case xdpFrags = "xdp_frags"
    case afXDPSG = "af_xdp_sg"
    case bpfStats = "bpf_stats"
    case xdpDispatcher = "xdp_dispatcher"

    /// What it is, for the table.
    public var title: String {
        switch self {
        case .capabilities: "CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON (or CAP_SYS_ADMIN)"
        case .btf: "kernel BTF (/sys/kernel/btf/vmlinux)"
        case .bpffs: "BPF filesystem at /sys/fs/bpf"
        case .tracefs: "tracefs at /sys/kernel/tracing"
        case .ringbuf: "BPF ring buffer"
        case .xdpLink: "XDP attached through bpf_link"
        case .tcx: "tcx links for tc programs"
        case .xdpLoadBytes: "bpf_xdp_load_bytes in XDP"
        case .tpBTFKfreeSkb: "tp_btf/kfree_skb"
        case .kfreeSkbReasons: "kfree_skb drop reasons (enum skb_drop_reason)"
        case .xdpAdjustMeta: "bpf_xdp_adjust_meta in XDP"
        case .xdpLiveFrames: "BPF_PROG_TEST_RUN live frames (XDP)"
        case .afXDP: "AF_XDP sockets and XSKMAP"
        case .xdpFrags: "multi-buffer XDP programs (xdp.frags)"
        case .afXDPSG: "multi-buffer AF_XDP sockets (XDP_USE_SG)"
        case .bpfStats: "BPF program run-time statistics (BPF_ENABLE_STATS)"
        case .xdpDispatcher: "freplace, for libxdp's multi-program dispatcher"
        }
    }

    /// The mainline kernel version that brought it, for the README ("" for environment
    /// features that are not a kernel version's).
    public var since: String {
        switch self {
        case .capabilities, .bpffs, .tracefs: ""
        case .btf: "5.4"
        case .ringbuf: "5.8"
        case .xdpLink: "5.9"
        case .tcx: "6.6"
        case .xdpLoadBytes: "5.18"
        case .tpBTFKfreeSkb: "5.5"
        case .kfreeSkbReasons: "5.17"
        case .xdpAdjustMeta: "4.15"
        case .xdpLiveFrames: "5.18"
        case .afXDP: "4.18"
        case .xdpFrags: "5.18"
        case .afXDPSG: "6.6"
        case .bpfStats: "5.8"
        case .xdpDispatcher: "5.6"
        }
    }

    /// What bridgetrace does without it, in one line.
    public var without: String {
        switch self {
        case .capabilities: "nothing that loads programs works: run as root or grant the capabilities"
        case .btf: "nothing that loads programs works (drop reasons and tp_btf need it): use a kernel with CONFIG_DEBUG_INFO_BTF=y"
        case .bpffs: "libxdp and the switch's pins need it: `mount -t bpf bpf /sys/fs/bpf` (bridgetrace mounts it when it can)"
        case .tracefs: "nothing: bridgetrace attaches raw and BTF tracepoints, which need no tracefs (perf, bpftool and trace-cmd do)"
        case .ringbuf: "no events: trace, diagnose and the switch cannot run; counters cannot load"
        case .xdpLink: "XDP attaches through netlink (libxdp): removed on exit, or by `bridgetrace cleanup` after a SIGKILL"
        case .tcx: "tc programs attach as clsact filters: removed on exit, or by `bridgetrace cleanup` after a SIGKILL"
        case .xdpLoadBytes: "trace events of received frames come from tc ingress instead of XDP (same frames); a switch cannot be traced"
        case .tpBTFKfreeSkb: "drops are traced at raw_tp/kfree_skb (reads the skb with probe reads, slower)"
        case .kfreeSkbReasons: "no kernel drop reasons: drops and their diagnosis are unavailable"
        case .xdpAdjustMeta: "the switch hands its forwarding decision to userspace in-band, in 8 bytes in front of the frame"
        case .xdpLiveFrames: "the bench generates with AF_XDP or AF_PACKET instead of in-kernel live frames"
        case .afXDP: "the switch cannot run; bench cannot use the afxdp-switch and OVS AF_XDP DUTs"
        case .xdpFrags: "the switch's ports carry only frames that fit one buffer: no jumbo MTU on a port"
        case .afXDPSG: "a frame longer than 1792 bytes bound for the switch's userspace (a flood, --no-fast-path, an AF_XDP TX port) is dropped as FRAME_TOO_BIG"
        case .bpfStats: "no per-program run time (the exporter's bpf_program_run metrics stay empty)"
        case .xdpDispatcher: "a port whose XDP is held by another program is counted at tc ingress, leaving that program alone"
        }
    }
}

/// One probed feature: whether the kernel offers it, and the probe's words.
public struct KernelFeatureStatus: Sendable, Equatable {
    public enum State: String, Sendable, Codable {
        case available
        case missing
        /// The probe could not tell, e.g. without the privilege to load a program.
        case unknown
    }

    public var feature: KernelFeature
    public var state: State
    /// What the probe saw: "loaded", or the verifier's verdict, or the errno.
    public var detail: String

    public init(_ feature: KernelFeature, _ state: State, detail: String = "") {
        self.feature = feature
        self.state = state
        self.detail = detail
    }

    public var available: Bool { state == .available }
}

/// The commands `doctor` reports on.
public enum KernelCommand: String, CaseIterable, Sendable {
    case counters, trace, drops, diagnose, exporter, switchCommand = "switch", bench
}

/// What a command does on this kernel.
public struct CommandSupport: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Everything as designed.
        case full
        /// It runs with the same results another way (each fallback says how), or without
        /// a part it names.
        case degraded
        /// It cannot run; `fallbacks` says why.
        case unavailable
    }

    public var command: KernelCommand
    public var status: Status
    /// One line per fallback or missing prerequisite.
    public var fallbacks: [String]
}

/// The features of one kernel and the rules that turn them into command support.
public struct KernelSupport: Sendable, Equatable {
    public var features: [KernelFeatureStatus]

    public init(features: [KernelFeatureStatus]) {
        self.features = features
    }

    public func status(_ feature: KernelFeature) -> KernelFeatureStatus.State {
        features.first { $0.feature == feature }?.state ?? .unknown
    }

    /// A feature counts as missing only when the probe said so: an unknown one (no
    /// privilege to probe) is not held against the command.
    func lacks(_ feature: KernelFeature) -> Bool { status(feature) == .missing }

    /// The line that says what a command does without `feature`.
    public static func line(_ feature: KernelFeature) -> String {
        "no \(feature.title): \(feature.without)"
    }

    public func support(for command: KernelCommand) -> CommandSupport {
        var blockers: [String] = []
        var fallbacks: [String] = []
        func need(_ feature: KernelFeature) { if lacks(feature) { blockers.append(Self.line(feature)) } }
        func degrade(_ feature: KernelFeature) { if lacks(feature) { fallbacks.append(Self.line(feature)) } }

        // Everything that loads programs (libxdp and the pins keep state in bpffs).
        need(.capabilities)
        need(.btf)
        need(.bpffs)
        need(.ringbuf)
        switch command {
        case .counters, .exporter:
            degrade(.tcx)
            degrade(.xdpLink)
            if lacks(.kfreeSkbReasons) {
                fallbacks.append("no kernel drop reasons: \(command.rawValue) shows frames only, no drops")
            } else {
                degrade(.tpBTFKfreeSkb)
            }
            if command == .exporter { degrade(.bpfStats) }
        case .trace:
            degrade(.tcx)
            degrade(.xdpLink)
            degrade(.xdpLoadBytes)
        case .drops:
            need(.kfreeSkbReasons)
            degrade(.tpBTFKfreeSkb)
        case .diagnose:
            degrade(.tcx)
            degrade(.xdpLink)
            degrade(.xdpLoadBytes)
            if lacks(.kfreeSkbReasons) {
                fallbacks.append("no kernel drop reasons: diagnose finds no drop causes (netfilter_drop, ...), only what the frames show")
            } else {
                degrade(.tpBTFKfreeSkb)
            }
        case .switchCommand:
            need(.afXDP)
            degrade(.xdpLink)
            degrade(.xdpAdjustMeta)
            degrade(.xdpFrags)
            if !lacks(.xdpFrags) { degrade(.afXDPSG) }
            if lacks(.xdpLoadBytes) { blockers.append(Self.line(.xdpLoadBytes)) }
        case .bench:
            degrade(.xdpLiveFrames)
            if lacks(.afXDP) { fallbacks.append(Self.line(.afXDP)) }
        }
        if !blockers.isEmpty { return CommandSupport(command: command, status: .unavailable, fallbacks: blockers + fallbacks) }
        return CommandSupport(command: command, status: fallbacks.isEmpty ? .full : .degraded, fallbacks: fallbacks)
    }

    public var commands: [CommandSupport] { KernelCommand.allCases.map(support(for:)) }
}
