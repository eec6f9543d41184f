import BridgeTraceCore
import CBridgeTraceABI
import Foundation

/// What `trace` asks of the kernel programs on top of counting.
public struct EventOptions: Sendable {
    public var trace: TraceConfiguration
    /// What the programs' `.rodata` gets.
    public var config: bt_trace_config { trace.abi }
    /// Ring buffer size in bytes: a power of two, at least a page.
    public var ringBufferBytes: UInt32
    /// Wake the reader only about once this many bytes wait (0: on every event). The
    /// reader must then poll on a timer (BPFRingBuffer.poll does, with its timeout).
    public var wakeupBytes: UInt32
    /// One event in `sampleEvery` (per CPU) of those the kernel pre-filter passes; 1 = all.
    public var sampleEvery: UInt32

    /// 32 MiB, for trace, diagnose and the bench's full tracer alike (the ABI's 8 MiB is the
    /// object's own and a switch's): at 400 k events/s (`--all` on a bridge forwarding 200 k
    /// frames/s) it holds ~0.6 s of 136-byte records, so a drain preempted for a few hundred
    /// ms (RT NAPI threads, a burst of softirqs) loses nothing. With 8 MiB, one
    /// `trace --all` run in three lost 1.6 % at that rate (Benchmarks/trace-line-rate.sh).
    public static let defaultRingBufferBytes: UInt32 = 32 << 20

    /// The default watermark is half the ring. The reader polls every `pollIntervalMs`
    /// anyway, and at the most two CPUs can produce (~2.4 M events/s) even an 8 MiB ring takes
    /// ~25 ms to fill, so a wakeup only matters for a reader whose timer is late; each one
    /// is a self-IPI (irq_work, an APIC write: dear in a VM) on the producing CPU; at an eighth of the
    /// ring they cost ~13 ns per forwarded frame in bench --with-tracer full. The count is
    /// per CPU, so with every event on one CPU the wakeup comes at ring / 2 / CPUs.
    public init(trace: TraceConfiguration, ringBufferBytes: UInt32 = EventOptions.defaultRingBufferBytes,
                wakeupBytes: UInt32? = nil, sampleEvery: UInt32 = 1) {
        self.trace = trace
        self.ringBufferBytes = ringBufferBytes
        self.wakeupBytes = wakeupBytes ?? ringBufferBytes / 2
        self.sampleEvery = sampleEvery
    }

    /// The kernel counts wakeups in events per CPU: the watermark split between the CPUs,
    /// in records of the configured snap length (header + snap class, as events.bpf.h
    /// reserves them, + the ring's 8-byte record header).
    public var wakeupEventsPerCPU: UInt32 {
        guard wakeupBytes > 0 else { return 0 }
        let room = [64, 96, 128, 192].first { trace.snaplen <= $0 } ?? Int(BT_SNAPLEN_MAX)
        let record = (MemoryLayout<bt_frame_event>.offset(of: \.data)! + room + 8 + 7) & ~7
        return UInt32(max(1, Int(wakeupBytes) / record / BPFMap.possibleCPUs))
    }

    /// How long a reader may sleep without a wakeup: the latency of a quiet bridge's events.
    public static let pollIntervalMs: Int32 = 10
}

/// The counting (and, for `trace`, event) programs on every watched port, kept in step
/// with the bridge as ports come and go.
///
/// Netns-bound work (netlink, attach) must happen on the thread that entered the
/// namespace: create, refresh and close the session from that one thread. Reading maps
/// and the ring buffer is not netns-bound.
public final class WatchSession {
    public let request: WatchRequest
    private let lock: InstanceLock
    public let object: BPFObject
    private let programs: PortPrograms
    private let maps: CounterMaps
    private let lostMap: BPFMap
    private let traceStats: BPFMap
    private var attached: [Int32: AttachedPort] = [:]
    /// Stale programs removed at start (a previous run was killed).
    public private(set) var removedStale: [String] = []
    /// Kernel drops on the watched ports, when asked for and available.
    public private(set) var drops: DropTracer?
    /// Why drops are not traced, or on which fallback hook, for the operator.
    public private(set) var dropNote: String?

    /// - Parameter drops: also trace kernel drops on the watched ports. When
    ///   `drops.required` is false, a kernel that cannot trace them leaves `drops` nil
    ///   and says why in `dropNote` instead of failing the session.
    /// Why rx events come from tc ingress on a kernel without bpf_xdp_load_bytes.
    public static let noLoadBytesNote = "this kernel does not offer bpf_xdp_load_bytes to XDP programs (5.18), "
        + "so events of received frames come from tc ingress (the same frames)"

    public init(request: WatchRequest, events: EventOptions? = nil, drops dropOptions: DropOptions? = nil) throws {
        self.request = request
        lock = try InstanceLock(netnsInode: NetworkNamespace.currentInode())
        let links = try NetlinkLinks.dump()
        let ports = try request.resolve(in: links)
        removedStale = StaleProgramCleanup.run(links: links.map { ($0.name, $0.ifindex) })
        let spec = try BPFObjectSpec(embedded: .counters)
        var xdpRxNote: String?
        if let events {
            try spec.setReadOnly("bt_config", to: events.config)
            try spec.setMaxEntries(map: "bt_events", events.ringBufferBytes)
            try spec.setReadOnly("bt_wakeup_events", to: events.wakeupEventsPerCPU)
            try spec.setReadOnly("bt_sample_every", to: events.sampleEvery)
            if events.config.events != 0 && !KernelProbe.offers(.xdpLoadBytes) {
                // The XDP program copies frames into events with bpf_xdp_load_bytes (5.18):
                // without it, rx events come from tc ingress, which sees the same frames.
                xdpRxNote = Self.noLoadBytesNote
                if request.rxHook == .xdp {
                    throw UserError("--rx-hook xdp with events needs bpf_xdp_load_bytes, which this kernel does not offer "
                        + "to XDP programs (`bridgetrace doctor`); use --rx-hook auto or tc, which see the same frames")
                }
                try spec.setAutoload(program: "bt_xdp_rx", false)
                spec.noteChoice("no bpf_xdp_load_bytes in XDP (probed): rx events from tc ingress")
            }
        }
        object = try spec.load()
        programs = try PortPrograms(object: object, xdpRxNote: xdpRxNote)
        maps = try CounterMaps(object: object)
        lostMap = try object.map("bt_lost")
        traceStats = try object.map("bt_trace_stats")
        if let dropOptions {
            do {
                drops = try DropTracer(netnsInode: NetworkNamespace.currentInode(), options: dropOptions)
                dropNote = drops?.hookNote
            } catch let error as any OperatorError where !dropOptions.required {
                dropNote = "kernel drops are not counted: \(error.message)"
            }
        }
        do {
            for port in ports { try attach(port) }
        } catch {
            close()
            throw error
        }
    }

    private func attach(_ link: NetLink) throws {
        try maps.reset(ifindex: link.ifindex)
        try drops?.watch(ifindex: link.ifindex)
        attached[link.ifindex] = try AttachedPort(name: link.name, ifindex: link.ifindex, programs: programs,
                                                  rxHook: request.rxHook.preferred(forLinkKind: link.kind),
                                                  hostSide: link.isBridge)
    }

    public var ports: [AttachedPort] {
        attached.values.sorted { $0.name < $1.name }
    }

    /// Picks up ports that joined and forgets ports that left; returns what changed, for
    /// the operator. A port that vanishes is not an error: a VM was shut down.
    @discardableResult
    public func refresh() throws -> [String] {
        let links = try NetlinkLinks.dump()
        let wanted = (try? request.resolve(in: links)) ?? []
        var changes: [String] = []
        let wantedIndexes = Set(wanted.map(\.ifindex))
        for (ifindex, port) in attached where !wantedIndexes.contains(ifindex) {
            port.detach()
            drops?.unwatch(ifindex: ifindex)
            attached[ifindex] = nil
            changes.append("\(port.name): port left, no longer watched")
        }
        for link in wanted where attached[link.ifindex] == nil {
            do {
                try attach(link)
                changes.append("\(link.name): new port, now watched")
            } catch let error as any OperatorError {
                changes.append("\(link.name): new port, cannot watch it: \(error.message)")
            }
        }
        return changes
    }

    /// Events the kernel could not queue because the ring buffer was full, since load.
    public func lostEvents() throws -> UInt64 {
        try lostMap.lookupSum(UInt32(BT_LOST_SLOT))
    }

    /// Events that `--sample` left out, since load (counted in the kernel, per CPU).
    public func sampledOutEvents() throws -> UInt64 {
        try traceStats.lookupSum(UInt32(0), offset: Int(BT_STAT_SAMPLE_SKIPPED.rawValue) * 8)
    }

    /// What runs another way than designed on this kernel, one line each (the `degraded`
    /// of counters' and diagnose's JSON; the notes on stderr say it per port).
    public var degradations: [String] {
        var lines: [String] = []
        if ports.contains(where: { $0.tcAttachment == .clsact }) {
            lines.append("tc programs are clsact filters (\(AttachMethod.legacyForced ? "BRIDGETRACE_LEGACY_ATTACH=1" : "no tcx")): "
                + "removed on exit, or by the next run or `bridgetrace cleanup` after a SIGKILL")
        }
        if programs.xdpRxNote != nil { lines.append(Self.noLoadBytesNote) }
        if let dropNote { lines.append(dropNote) }
        return lines
    }

    /// ifindex -> port name of what is watched now.
    public var portNames: [Int32: String] {
        attached.mapValues(\.name)
    }

    public func snapshot() throws -> CountersSnapshot {
        var portCounters: [PortCounters] = []
        var dropReasons: [Int32: [String: UInt64]] = [:]
        for count in try dropCounts() {
            dropReasons[count.ifindex, default: [:]][count.reason, default: 0] &+= count.count
        }
        for port in ports {
            let (rx, tx) = try maps.read(ifindex: port.ifindex)
            portCounters.append(PortCounters(port: port.name, ifindex: port.ifindex, rxHook: port.rxHook,
                                             rxHookNote: port.rxHookNote, tcAttachment: port.tcAttachment, rx: rx, tx: tx,
                                             drops: PortDrops(reasons: dropReasons[port.ifindex] ?? [:])))
        }
        return CountersSnapshot(time: Date().timeIntervalSince1970, bridge: request.bridge ?? "",
                                netns: request.netns, ports: portCounters, lostEvents: try lostEvents(),
                                degraded: degradations)
    }

    /// Kernel drops on the ports watched now, per (port, reason, location), since attach;
    /// empty when drops are not traced.
    public func dropCounts() throws -> [DropCount] {
        guard let drops else { return [] }
        return try drops.counts(portNames: portNames)
    }

    /// Detaches everything this session attached. Idempotent.
    public func close() {
        drops?.close()
        for port in attached.values { port.detach() }
        attached.removeAll()
        lock.release()
    }

    deinit {
        close()
    }
}
