import ArgumentParser
import BridgeTraceCore
import BridgeTraceKernel
import BridgeTraceLab
import BridgeTracePipeline
import BridgeTraceSwitch
import Foundation

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

        // Drops are evidence, not a requirement: a kernel without the drop tracepoint still
        // gets a diagnosis from frames and state, and is told what it is missing.
        let session = try switchSource != nil ? nil
            : WatchSession(request: watch.request, events: EventOptions(trace: .outage),
                           drops: DropOptions(events: true, required: false))
        defer { session?.close() }
        session.map(watch.announce)
        let collector = EventCollector()
        let source = try switchSource.map(EventSource.init(switchTrace:)) ?? EventSource(session: session!)
        let pipeline = EventPipeline(source: source, sinks: [collector])
        try switchSource?.enable(trace: .outage, sampleEvery: 1)
        try pipeline.start()
        try watch.signalReady()

        let start = Date()
        let end = start.addingTimeInterval(duration)
        let probes = probe ? host.map { BridgeProbe.start(bridge: bridge, netns: watch.netns, host: $0, duration: duration) } ?? [] : []
        defer { probes.forEach { $0.stop() } }
        var nextRefresh = start.addingTimeInterval(1)
        while !StopSignals.stopRequested && Date() < end {
            StopSignals.sleep(until: min(nextRefresh, end))
            if Date() >= nextRefresh {
                _ = try session?.refresh() ?? switchSource?.refresh()
                pipeline.refreshPorts()
                nextRefresh = nextRefresh.addingTimeInterval(1)
            }
        }
        let watchEndNs = WallClock.monotonicNowNs()
        // The kernel's exact drop counts, then stop the drop events: under a flood the
        // reader may never catch up with a producer that keeps going.
        let kernelDropCounts = (try? session?.dropCounts()) ?? []
        for ifindex in session?.portNames.keys ?? [:].keys { session?.drops?.unwatch(ifindex: ifindex) }
        pipeline.stop()
        if let error = pipeline.error { throw error }
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

        let lost = try pipeline.source.lostEvents()
        let input = DiagnosisInput(bridge: bridge, durationSeconds: elapsed, events: events, drops: drops,
                                   stateBefore: stateBefore, stateAfter: stateAfter, probeTarget: host,
                                   lostEvents: lost, collectorOverflow: collector.overflow,
                                   countedDrops: EventCollector.notKept(kernelDropCounts + switchDrops, kept: drops),
                                   watchEndNs: watchEndNs)
        if let record { try writeRecording(input, to: record) }
        let findings = DiagnosisEngine.diagnose(input)
        if json {
            _ = writeStandardOutput(DiagnoseJSON.value(bridge: bridge, findings: findings, durationSeconds: elapsed,
                                                       frames: events.count, drops: input.dropTotal, lostEvents: lost,
                                                       collectorOverflow: input.collectorOverflow,
                                                       degraded: session?.degradations
                                                           ?? (switchSource?.snapshot.metaInBand == true ? [Switch.metaInBandNote] : []))
                                                   .rendered() + "\n")
        } else {
            _ = writeStandardOutput(DiagnoseText.render(bridge: bridge, findings: findings, durationSeconds: elapsed,
                                                        frames: events.count, drops: input.dropTotal, lostEvents: lost,
                                                        collectorOverflow: input.collectorOverflow))
        }
        session?.close()
        switchSource?.close()
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
