import ArgumentParser
import BridgeTraceCore
import BridgeTraceExporter
import BridgeTraceKernel
import Foundation

struct ExporterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exporter",
        abstract: "Serve per-port counters, drops, bridge state and live findings to Prometheus.",
        discussion: """
        Watches the named bridges (every bridge when none is named) of the exporter's own \
        network namespace, or of each --netns, or of every namespace with --all-netns, and \
        serves GET /metrics in the Prometheus text format on --listen (default \
        \(ListenAddress.default), loopback). It listens in the namespace it was started in, \
        whatever --netns says. Bridges, ports and namespaces that appear later are picked up; \
        ones that vanish are dropped with their series. The diagnosis rules of `diagnose` run \
        over a sliding --window, and each finding that holds is a bridgetrace_finding series. \
        Needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (CAP_SYS_ADMIN to enter other namespaces); \
        see contrib/bridgetrace-exporter.service. SIGTERM or SIGINT stops it and detaches everything.
        """
    )

    @Argument(help: "Bridges to watch (default: every bridge, including ones created later).")
    var bridges: [String] = []

    @Option(name: .long, help: "Watch this named network namespace (repeatable; see `ip netns list`).")
    var netns: [String] = []

    @Flag(help: "Watch this namespace and every named one, including ones created later.")
    var allNetns = false

    @Option(help: "Address and port to serve /metrics on: ADDR:PORT, [IPv6]:PORT, :PORT for every address; port 0 picks a free one (the ready file tells the URL).")
    var listen: String = ListenAddress.default.description

    @Option(help: "Seconds between collections (netlink state, counters, diagnosis).")
    var interval: Double = 1

    @Option(help: "Seconds of traffic, drops and state the continuous diagnosis looks back over.")
    var window: Double = 30

    @Option(name: .long, help: "Write this file once every program is attached and /metrics is served.")
    var readyFile: String?

    @Option(name: .long, help: "Where rx is counted: auto, xdp or tc (as for counters).")
    var rxHook: RxHookPolicy = .auto

    func validate() throws {
        if !(interval > 0) { throw ValidationError("--interval must be a positive number of seconds") }
        if !(window >= interval) { throw ValidationError("--window must be at least --interval seconds") }
        if let bad = bridges.first(where: { $0.isEmpty || $0.contains("/") }) {
            throw ValidationError("\"\(bad)\" is not an interface name")
        }
    }

    func run() throws {
        let address = try ListenAddress(parsing: listen)
        try Preflight.requirePrivileges(enteringNamespaces: allNetns || !netns.isEmpty)
        try Preflight.requireBTF()
        try Preflight.requireBPFFS()
        for name in netns where !NetworkNamespace.available().contains(name) {
            throw UserError("netns \"\(name)\" not found (see ip netns list)")
        }
        if !Preflight.kernelSymbolsReadable() {
            writeNote("drop locations are exported as kernel addresses: naming them needs CAP_SYSLOG (to read /proc/kallsyms)")
        }
        StopSignals.install()
        let settings = ExporterSettings(
            bridges: bridges, netns: netns, allNetns: allNetns, listen: address,
            collector: CollectorSettings(interval: interval, window: window, rxHook: try Preflight.rxHook(rxHook)))
        let exporter = try Exporter(settings: settings) { writeNote("\($0)") }
        defer { exporter.stop() }
        let url = "http://\(exporter.server.address)/metrics"
        writeNote("serving \(url)")
        // The URL, so that a script that asked for port 0 learns the port.
        if let readyFile, !FileManager.default.createFile(atPath: readyFile, contents: Data((url + "\n").utf8)) {
            throw UserError("cannot write the ready file \(readyFile): check the directory exists and is writable")
        }
        var nextRescan = Date().addingTimeInterval(5)
        while !StopSignals.stopRequested {
            StopSignals.sleep(until: Date().addingTimeInterval(0.5))
            if !allNetns, let failure = exporter.failedCollector {
                throw UserError("stopped: \(failure)")
            }
            if Date() >= nextRescan {
                exporter.rescan()
                nextRescan = Date().addingTimeInterval(5)
            }
        }
    }
}
