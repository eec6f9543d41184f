import ArgumentParser
import BridgeTraceCore
import BridgeTraceKernel
import BridgeTracePcap
import BridgeTracePipeline
import CBridgeTraceABI
import Foundation

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Per-frame events at every port: ARP, ICMP, DHCP and VLAN-tagged frames.",
        discussion: """
        FILTER is a tcpdump (pcap-filter) expression, e.g. 'arp or (icmp and host 10.0.0.5)'. \
        It runs in userspace through libpcap on the captured bytes; its simple parts (a \
        protocol, a host, a MAC, a VLAN) also filter in the kernel before the ring buffer. \
        Events the kernel could not queue are counted and reported, never dropped silently.
        """
    )

    @OptionGroup var watch: WatchOptions

    @Argument(help: "A tcpdump filter expression (quote it, or give it as several words).")
    var filter: [String] = []

    @Flag(help: "Print one JSON object per event.")
    var json = false

    @Flag(help: "Link each frame's appearances at the ports into one journey: delivered (with per-hop latency), dropped, or vanished. One line per journey.")
    var journey = false

    @Option(name: .customShort("w"), help: "Write the frames to this pcapng file (mode 0600) instead of printing them (see --print and --json).")
    var write: String?

    @Flag(help: "With -w: print the events as well (text, or JSON lines with --json), as tcpdump --print does.")
    var print = false

    @Option(help: "Trace one frame in N of those the filter passes (per CPU); the skipped ones are counted and reported.")
    var sample: Int?

    @Option(name: [.customShort("c"), .long], help: "Stop after this many events.")
    var count: Int?

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Bytes of each frame to capture (1-\(BT_SNAPLEN_MAX)).")
    var snaplen: Int = Int(BT_SNAPLEN_DEFAULT)

    @Flag(help: "Trace every frame, not only ARP, ICMP, ICMPv6, DHCP and VLAN-tagged ones.")
    var all = false

    @Option(name: [.customShort("B"), .customLong("buffer-size")],
            help: "Ring buffer size in KiB (a power of two; default \(EventOptions.defaultRingBufferBytes / 1024)).")
    var bufferSize: Int = Int(EventOptions.defaultRingBufferBytes / 1024)

    func validate() throws {
        if !(1...Int(BT_SNAPLEN_MAX)).contains(snaplen) { throw ValidationError("--snaplen must be between 1 and \(BT_SNAPLEN_MAX)") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be a positive number of seconds") }
        if bufferSize < 4 || bufferSize > 1 << 20 || bufferSize & (bufferSize - 1) != 0 {
            throw ValidationError("--buffer-size must be a power of two between 4 and 1048576 KiB")
        }
        if json && journey { throw ValidationError("choose one of --json and --journey") }
        if journey && write != nil { throw ValidationError("--journey cannot be combined with -w") }
        if let sample, sample < 1 { throw ValidationError("--sample must be at least 1") }
    }

    func run() throws {
        let expression = filter.joined(separator: " ")
        // A bad filter is a usage error: report libpcap's words before touching the kernel.
        let packetFilter: PacketFilter?
        do {
            packetFilter = expression.isEmpty ? nil : try PacketFilter(expression: expression, snaplen: snaplen)
        } catch {
            throw UserError("\(error)")
        }
        let switchName = SwitchWatch.switchName(watch)
        if let switchName { try SwitchWatch.enter(switchName, watch: watch) } else { try watch.prepare() }
        StopSignals.install()
        let pcapng = try write.map { try PcapngFile(path: $0, snaplen: snaplen) }

        let trace = TraceConfiguration.trace(filter: expression, all: all, snaplen: snaplen)
        // A switch's own programs emit its events; on a bridge, ours are attached to its ports.
        let switchSource = try switchName.map { try SwitchWatch.traceSource($0, watch: watch) }
        defer { switchSource?.close() }
        let session = try switchSource != nil ? nil
            : WatchSession(request: watch.request,
                           events: EventOptions(trace: trace, ringBufferBytes: UInt32(bufferSize * 1024),
                                                sampleEvery: UInt32(sample ?? 1)))
        defer { session?.close() }
        session.map(watch.announce)
        // -w writes the file; it prints too with --print, and with --json (JSON lines) too:
        // an option the operator gave is never ignored.
        let printed = write == nil || print || json
        var sinks: [EventSink] = pcapng.map { [PcapngSink(file: $0)] } ?? []
        if printed {
            // The bridge's own MACs tell a frame for the host ("local") from one that vanished.
            let format: TraceOutputSink.Format = json ? .json : !journey ? .text
                : .journey(watch.bridge.flatMap { switchName == nil ? try? BridgeStateReader.read(bridgeName: $0) : nil }
                    .map { JourneyTracker.Configuration(state: $0) } ?? .init())
            sinks.append(TraceOutputSink(format: format))
        }
        let source = try switchSource.map(EventSource.init(switchTrace:)) ?? EventSource(session: session!)
        let pipeline = EventPipeline(source: source, sinks: sinks, filter: packetFilter, limit: count)
        try switchSource?.enable(trace: trace, sampleEvery: UInt32(sample ?? 1))
        try pipeline.start()
        try watch.signalReady()

        if let write, printed { writeStandardError("bridgetrace: writing \(write) and printing \(json ? "JSON lines" : "text")") }

        let end = duration.map { Date().addingTimeInterval($0) }
        var lost = LostEventWarning()
        var nextRefresh = Date().addingTimeInterval(1)
        while !StopSignals.stopRequested && !pipeline.finished {
            if let end, Date() >= end { break }
            StopSignals.sleep(until: min(Date().addingTimeInterval(0.1), end ?? .distantFuture))
            if Date() >= nextRefresh {
                for change in try session?.refresh() ?? switchSource?.refresh() ?? [] {
                    writeStandardError("bridgetrace: \(change)")
                }
                pipeline.refreshPorts()
                nextRefresh = Date().addingTimeInterval(1)
            }
            try lost.check(pipeline.source)
        }
        pipeline.stop()
        try lost.check(pipeline.source)
        let sampled = sample.map { _ in (try? pipeline.source.sampledOutEvents()) ?? 0 }
        writeStandardError("bridgetrace: \(pipeline.summary), \(lost.reported) lost"
                           + (sampled.map { ", \($0) skipped by --sample \(sample ?? 1)" } ?? ""))
        if let error = pipeline.error { throw error }
        if pipeline.sinkFailed && pcapng != nil { throw UserError("writing \(write ?? "") failed: is the disk full?") }
    }
}

/// Warns once per increase of the events the kernel could not queue.
private struct LostEventWarning {
    private(set) var reported: UInt64 = 0

    mutating func check(_ source: EventSource) throws {
        let lost = try source.lostEvents()
        guard lost > reported else { return }
        writeStandardError("bridgetrace: warning: \(lost - reported) event(s) lost, \(lost) in all: the ring buffer was full (try a larger -B or a narrower filter)")
        reported = lost
    }
}
