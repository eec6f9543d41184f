import ArgumentParser
import BridgeTraceCore
import BridgeTraceKernel
import BridgeTraceLab
import BridgeTraceSwitch
import CBridgeTraceABI
import Foundation
import Synchronization

struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Watch a bridge, then say what is wrong, where, the evidence and the fix.",
        discussion: """
        Watches every port for --duration seconds (frames, kernel drops, bridge state from \
        netlink) and explains it: the cause, the port, the evidence, and a command that \
        fixes it. Exit status 0 when healthy, 1 when something is wrong, 2 on usage errors. \
        With --probe, it sends ARP who-has and pings from the bridge to --host, so that an \
        idle VM can be diagnosed too.
        """
    )

    @OptionGroup var watch: WatchOptions

    @Option(help: "Seconds to watch.")
    var duration: Double = 5

    @Option(help: "The IP address the operator cares about (a VM, the gateway).")
    var host: String?

    @Flag(help: "Send ARP who-has and ping from the bridge to --host while watching.")
    var probe = false

    @Flag(help: "Print one JSON object.")
    var json = false

    @Option(help: ArgumentHelp("Also write what was watched (state, frames, drops) to FILE as JSON lines.",
                               discussion: "A recording replays into the rule engine without root (test fixtures)."))
    var record: String?

    func validate() throws {
        if watch.bridge == nil { throw ValidationError("name the bridge to diagnose, e.g. `bridgetrace diagnose br0`") }
        if !(duration > 0) { throw ValidationError("--duration must be a positive number of seconds") }
        if probe && host == nil { throw ValidationError("--probe needs --host IP: the address to probe") }
        if let host, IPv4Address(host) == nil { throw ValidationError("--host must be an IPv4 address, e.g. 198.18.0.1") }
    }

    func run() throws {
        let bridge = watch.bridge!
        let switchName = SwitchWatch.switchName(watch)
        if switchName != nil && probe {
            throw UserError("--probe sends from the bridge's own interface; switch \(bridge) has none: probe from a host behind one of its ports instead")
        }
        if let switchName { try SwitchWatch.enter(switchName, watch: watch) } else { try watch.prepare() }
        StopSignals.install()
        // A switch: its own events, FDB and port table (nothing attached, no netlink bridge).
        let switchSource = try switchName.map { try SwitchWatch.traceSource($0, watch: watch) }
        defer { switchSource?.close() }
        let readState = { () throws -> BridgeState in
            guard let switchSource else { return try BridgeStateReader.read(bridgeName: bridge) }
            return switchSource.snapshot.bridgeState(links: try NetlinkLinks.dump())
        }
        let stateBefore = try readState()
        let switchDropsBefore = switchSource?.snapshot.dropCounts ?? []

        var config = bt_trace_config()
        config.events = 1
        config.snaplen = UInt32(BT_SNAPLEN_DEFAULT)
        config.kinds = TraceKinds.defaultMask(all: false)
        // Drops are evidence, not a requirement: a kernel without the drop tracepoint still
        // gets a diagnosis from frames and state, and is told what it is missing.
        let watchSession = try switchSource == nil
            ? WatchSession(request: watch.request, events: EventOptions(config: config),
                           drops: DropOptions(events: true, required: false)) : nil
        let session: TraceEventSource = switchSource ?? watchSession!
        defer { session.close() }
        watchSession.map(watch.announce)
        let collector = EventCollector(ports: session.portNames)
        let reader = try session.reader(config: config, sampleEvery: 1) { collector.add($0) }
        let drain = DrainThread(reader: reader) { false }
        let dropDrain = try watchSession?.drops.map { tracer in
            DrainThread(reader: try tracer.eventReader { raw in collector.addDrop(raw, tracer: tracer) }) { false }
        }
        try watch.signalReady()

        let start = Date()
        let end = start.addingTimeInterval(duration)
        let probes = probe ? host.map { BridgeProbe.start(bridge: bridge, netns: watch.netns, host: $0, duration: duration) } ?? [] : []
        defer { probes.forEach { $0.stop() } }
        var nextRefresh = start.addingTimeInterval(1)
        while !StopSignals.stopRequested && Date() < end {
            StopSignals.sleep(until: min(nextRefresh, end))
            if Date() >= nextRefresh {
                _ = try session.refresh()
                collector.updatePorts(session.portNames)
                nextRefresh = nextRefresh.addingTimeInterval(1)
            }
        }
        // The kernel's exact drop counts, then stop the drop events: under a flood the
        // reader may never catch up with a producer that keeps going.
        let kernelDropCounts = (try? watchSession?.dropCounts()) ?? []
        for ifindex in session.portNames.keys { watchSession?.drops?.unwatch(ifindex: ifindex) }
        drain.stop()
        dropDrain?.stop()
        if let error = drain.error ?? dropDrain?.error { throw error }
        try switchSource?.refresh()
        // The switch's counted drops during the watch (those it had no event for: FDB_FULL,
        // XSK_RX_RING_FULL, lost events), like the kernel's drop counts on a bridge.
        let switchDrops = (switchSource?.snapshot.dropCounts ?? []).compactMap { after -> DropCount? in
            var delta = after
            delta.count -= switchDropsBefore.first { $0.ifindex == after.ifindex && $0.reason == after.reason }?.count ?? 0
            return delta.count > 0 ? delta : nil
        }
        let stateAfter = try readState()
        let elapsed = Date().timeIntervalSince(start)
        let events = collector.events
        let drops = collector.drops

        let lost = try session.lostEvents() + (watchSession?.drops?.lostEvents() ?? 0)
        let input = DiagnosisInput(bridge: bridge, durationSeconds: elapsed, events: events, drops: drops,
                                   stateBefore: stateBefore, stateAfter: stateAfter, probeTarget: host,
                                   lostEvents: lost, collectorOverflow: collector.overflow,
                                   countedDrops: EventCollector.notKept(kernelDropCounts + switchDrops, kept: drops))
        if let record { try writeRecording(input, to: record) }
        let findings = DiagnosisEngine.diagnose(input)
        if json {
            _ = writeStandardOutput(DiagnoseJSON.value(bridge: bridge, findings: findings, durationSeconds: elapsed,
                                                       frames: events.count, drops: input.dropTotal, lostEvents: lost,
                                                       collectorOverflow: input.collectorOverflow).rendered() + "\n")
        } else {
            _ = writeStandardOutput(DiagnoseText.render(bridge: bridge, findings: findings, durationSeconds: elapsed,
                                                        frames: events.count, drops: input.dropTotal, lostEvents: lost,
                                                        collectorOverflow: input.collectorOverflow))
        }
        session.close()
        if !findings.isEmpty { throw ExitCode(1) }
    }
}

extension DiagnoseCommand {
    func writeRecording(_ input: DiagnosisInput, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw UserError("cannot write the recording \(path): check the directory exists and is writable")
        }
        defer { try? handle.close() }
        var chunk = ""
        for line in DiagnosisRecording.lines(input) {
            chunk += line + "\n"
            if chunk.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(chunk.utf8))
                chunk = ""
            }
        }
        try handle.write(contentsOf: Data(chunk.utf8))
    }
}

/// Collects decoded events from the drain threads, bounded so a flood cannot eat memory
/// or outrun the reader. Drops of frames the rules do not follow (not ARP, ICMP, DHCP or
/// tagged: background UDP dropped by a fault, often hundreds of thousands a second) are
/// kept one by one only up to `perKeyBudget` per (port, reason, location); past that they
/// are skipped before any decoding, so the reader keeps up with the kernel. The kernel's
/// drop counts (exact, lost events included) say how many there were.
final class EventCollector: @unchecked Sendable {
    static let limit = 1_000_000
    static let perKeyBudget = 1_000

    struct DropKey: Hashable { var ifindex: UInt32; var reason: UInt32; var location: UInt64 }

    private struct State {
        var events: [TraceEvent] = []
        var drops: [DropRecord] = []
        var ports: [Int32: String] = [:]
        var overflow = 0
        var kept: [DropKey: Int] = [:]
    }

    private let state = Mutex<State>(State())

    init(ports: [Int32: String]) {
        state.withLock { $0.ports = ports }
    }

    func updatePorts(_ ports: [Int32: String]) {
        state.withLock { $0.ports = ports }
    }

    func add(_ raw: UnsafeRawBufferPointer) {
        guard let ifindex = FrameEventRecord.ifindex(raw) else { return }
        let port = state.withLock { $0.ports[ifindex] } ?? "if\(ifindex)"
        guard let event = FrameEventRecord.event(raw, port: port) else { return }
        // A switch's drop events arrive in the frame ring: they are drops for the rules.
        if let reason = event.dropReason {
            let drop = DropRecord(monotonicNs: event.frame.monotonicNs, ifindex: ifindex, port: port, reason: reason,
                                  location: event.dropLocation ?? "", length: event.frame.length, bytes: event.frame.bytes)
            state.withLock {
                if $0.drops.count < EventCollector.limit { $0.drops.append(drop) } else { $0.overflow += 1 }
            }
            return
        }
        state.withLock {
            if $0.events.count < EventCollector.limit { $0.events.append(event) } else { $0.overflow += 1 }
        }
    }

    func addDrop(_ raw: UnsafeRawBufferPointer, tracer: DropTracer) {
        guard raw.count >= MemoryLayout<bt_drop_event>.size else { return }
        let event = raw.loadUnaligned(as: bt_drop_event.self)
        let key = DropKey(ifindex: event.ifindex, reason: event.reason, location: event.location)
        let followed = Self.isFollowedKind(raw, caplen: Int(event.caplen))
        let keep: Bool = state.withLock {
            if !followed, $0.kept[key, default: 0] >= EventCollector.perKeyBudget { return false }
            $0.kept[key, default: 0] += 1
            return true
        }
        guard keep else { return }
        let ports = state.withLock { $0.ports }
        guard let record = tracer.record(from: raw, portName: { ports[$0] ?? "if\($0)" }) else { return }
        state.withLock {
            if $0.drops.count < EventCollector.limit { $0.drops.append(record) } else { $0.overflow += 1 }
        }
    }

    /// ARP, 802.1Q/802.1ad, ICMP and DHCP (UDP 67/68): what the rules follow frame by frame.
    static func isFollowedKind(_ raw: UnsafeRawBufferPointer, caplen: Int) -> Bool {
        let data = MemoryLayout<bt_drop_event>.offset(of: \bt_drop_event.data)!
        let length = min(caplen, Int(BT_DROP_SNAPLEN), raw.count - data)
        guard length >= 14 else { return true }
        let byte = { (offset: Int) -> Int in Int(raw[data + offset]) }
        let etherType = byte(12) << 8 | byte(13)
        guard etherType == 0x0800 else { return etherType != 0x86dd }
        guard length >= 14 + 20 else { return true }
        let proto = byte(23)
        if proto == 1 { return true }
        guard proto == 17 else { return false }
        let ihl = (byte(14) & 0x0f) * 4
        guard length >= 14 + ihl + 4 else { return true }
        let sport = byte(14 + ihl) << 8 | byte(15 + ihl), dport = byte(16 + ihl) << 8 | byte(17 + ihl)
        return [67, 68].contains(sport) || [67, 68].contains(dport)
    }

    var events: [TraceEvent] { state.withLock { $0.events } }
    var drops: [DropRecord] { state.withLock { $0.drops } }
    /// Events and drops received past the limit, and not kept.
    var overflow: UInt64 { UInt64(state.withLock { $0.overflow }) }
    /// The kernel's drop counts less the drops kept one by one, per (port, reason,
    /// location): drops past the budget and drop events the ring buffer lost.
    static func notKept(_ counts: [DropCount], kept: [DropRecord]) -> [DropCount] {
        var keptCounts: [String: UInt64] = [:]
        for drop in kept { keptCounts[drop.port + "\u{0}" + drop.reason + "\u{0}" + drop.location, default: 0] += 1 }
        return counts.compactMap { count in
            let have = keptCounts[count.port + "\u{0}" + count.reason + "\u{0}" + count.location] ?? 0
            guard count.count > have else { return nil }
            var rest = count
            rest.count -= have
            return rest
        }
    }
}

/// `--probe`: ARP who-has and ping from the bridge's own interface to the host, in the
/// background, for the length of the watch. Their frames leave through the ports like any
/// other, so the rules see who answers.
enum BridgeProbe {
    static func start(bridge: String, netns: String?, host: String, duration: Double) -> [BackgroundProcess] {
        let count = String(max(2, Int(duration.rounded(.down))))
        let prefix = netns.map { ["ip", "netns", "exec", $0] } ?? []
        return [["arping", "-q", "-c", count, "-I", bridge, host],
                ["ping", "-q", "-c", count, "-i", "1", "-W", "1", "-I", bridge, host]].compactMap {
            try? BackgroundProcess(prefix + $0)
        }
    }
}
