import ArgumentParser
import BridgeTraceCore
import BridgeTraceKernel
import BridgeTraceSwitch
import Foundation

struct SwitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch",
        abstract: "A learning switch on AF_XDP with an XDP fast path, and a look into a running one.",
        subcommands: [SwitchRunCommand.self, SwitchShowCommand.self],
        defaultSubcommand: SwitchRunCommand.self
    )
}

struct SwitchRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs the switch in the foreground until SIGINT or SIGTERM.",
        discussion: """
        An XDP program on every port learns (VLAN, MAC) -> port and, with the fast path, \
        redirects known unicast in the kernel; broadcast, multicast and unknown unicast (and \
        with --no-fast-path every frame) reach this process through AF_XDP sockets and are \
        flooded or forwarded with AF_XDP TX. Programs are held by bpf_links: when the \
        process exits or is killed, nothing stays attached. State is pinned under \
        /sys/fs/bpf/bridgetrace/switch/NAME/, so `switch show NAME`, `counters NAME` and \
        `drops NAME` work on it.
        """
    )

    @Option(name: .long, help: "The switch's name (for show, counters, drops).")
    var name: String

    @Option(name: .long, help: "Run inside this named network namespace (see `ip netns list`).")
    var netns: String?

    @Option(name: .customLong("port"), help: "An untagged port in VLAN 1 (repeatable).")
    var ports: [String] = []

    @Option(name: .long, help: "IF=VID: an access port, untagged on the wire, in VLAN VID (repeatable).")
    var access: [String] = []

    @Option(name: .long, help: "IF=VID,VID..: a trunk carrying these VLANs tagged (repeatable).")
    var trunk: [String] = []

    @Option(name: .long, help: "IF=VID: this VLAN goes untagged on trunk IF.")
    var native: [String] = []

    @Option(name: .customLong("port-glob"), help: "Interfaces matching this glob (e.g. 'tap*') join when they appear, as VLAN 1 ports (repeatable).")
    var portGlobs: [String] = []

    @Option(name: .long, help: ArgumentHelp("Let the fast path redirect into this veth (its peer runs XDP or GRO).",
                                            discussion: "By default the switch sends to veth ports with AF_XDP TX, because a veth drops redirected frames unless its peer has NAPI."))
    var redirect: [String] = []

    @Option(name: .long, help: "Send to this port with AF_XDP TX even though it could take redirects.")
    var xsk: [String] = []

    @Option(name: .customLong("static"), help: "IF=MAC[@VID]: a static FDB entry, never aged or moved (repeatable).")
    var staticEntries: [String] = []

    @Flag(inversion: .prefixedNo, help: "Redirect known unicast in the kernel (--no-fast-path: every frame through AF_XDP).")
    var fastPath = true

    @Option(name: .long, help: "Seconds an unused FDB entry lives.")
    var aging: UInt32 = SwitchConfig.defaultAging

    @Option(name: .customLong("fdb-max"), help: "Most FDB entries; beyond it sources are not learned (counted as FDB_FULL).")
    var fdbMax: UInt32 = SwitchConfig.defaultFDBMax

    @Option(name: .long, help: ArgumentHelp("NAME: an interface for this host's own address on the switch (br0's role).",
                                            discussion: "A veth pair the switch makes in its namespace: NAME for the host's address, NAME-sw its port (VLAN 1). Removed when the switch stops; after SIGKILL, by the next start or `bridgetrace cleanup`."))
    var hostPort: String?

    @Option(name: .long, help: ArgumentHelp("LIST: a forwarding thread on each of these CPUs (0,2-3), pinned there; one unpinned thread by default.",
                                            discussion: "Each thread serves the AF_XDP sockets of the rx queues q with q % threads == its place in LIST: give a multi-queue port as many queues as threads."))
    var cpus: String?

    @Option(name: .long, help: ArgumentHelp("The same as --cpus N.", visibility: .hidden))
    var cpu: Int?

    @Option(name: .long, help: "Write this file once every port is attached (for scripts and tests).")
    var readyFile: String?

    func config() throws -> SwitchConfig {
        let specs = try SwitchConfig.ports(plain: ports, access: access, trunk: trunk, native: native,
                                           redirect: redirect, xsk: xsk)
        var config = SwitchConfig(name: name, netns: netns, ports: specs, portGlobs: portGlobs, fastPath: fastPath,
                                  agingSeconds: aging, fdbMax: fdbMax)
        config.staticEntries = try staticEntries.map(StaticFDBEntry.parse)
        config.hostPort = hostPort
        config.cpus = try cpus.map(SwitchConfig.cpuList) ?? cpu.map { [$0] } ?? []
        try config.validate()
        return config
    }

    func run() throws {
        let config = try config()
        try Preflight.requirePrivileges()
        if let netns { try NetworkNamespace.enter(named: netns) }
        try Preflight.requireBPFFS()
        StopSignals.install()
        // The main thread is forwarder 0: on the first CPU of the list.
        for cpu in config.cpus where !Switch.canPin(to: cpu) {
            throw UserError("--cpus: no CPU \(cpu) (this machine has \(ProcessInfo.processInfo.activeProcessorCount))")
        }
        if let first = config.cpus.first { Switch.pinCurrentThread(to: first) }
        let sw = try Switch(config: config)
        sw.log = { writeStandardError("bridgetrace: switch \(config.name): \($0)") }
        try sw.start()
        defer { sw.close() }
        for port in sw.portStatus {
            let vlans = port.spec.vlans.map(String.init).joined(separator: ",")
            writeStandardError("bridgetrace: switch \(config.name): \(port.name) \(port.spec.mode.rawValue) vlan \(vlans)"
                + (port.spec.native.map { " native \($0)" } ?? "") + ", path \(port.path.rawValue)")
        }
        if let readyFile, !FileManager.default.createFile(atPath: readyFile, contents: Data("ready\n".utf8)) {
            throw UserError("cannot write the ready file \(readyFile): check the directory exists and is writable")
        }
        sw.run { StopSignals.stopRequested }
    }
}

struct SwitchShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Ports, FDB and counters of a running switch."
    )

    @Argument(help: "The switch's --name.")
    var name: String

    @Option(name: .long, help: "The namespace the switch runs in (found by itself when it has an ip netns name).")
    var netns: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        try Preflight.requirePrivileges()
        guard let namespace = netns ?? SwitchState.netns(of: name) else {
            return try show()
        }
        try NetworkNamespace.enter(named: namespace)
        try show(netns: namespace)
    }

    private func show(netns: String? = nil) throws {
        let snapshot = try SwitchState.read(name: name, netns: netns)
        _ = writeStandardOutput(json ? snapshot.json.rendered() + "\n" : snapshot.text)
    }
}
