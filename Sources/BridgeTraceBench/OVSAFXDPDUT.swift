import BridgeTraceCore
import BridgeTraceProcess
import BridgeTraceLab
import Foundation

/// Open vSwitch's userspace datapath with AF_XDP ports: the peer a userspace AF_XDP
/// bridge is compared with. Debian's openvswitch-switch (3.1) has AF_XDP built in and
/// runs without its kernel module when started by hand:
///
/// - ovsdb-server and `ovs-vswitchd --disable-system` run in the DUT's namespace (AF_XDP
///   ports must be in the namespace ovs-vswitchd runs in), in the foreground under
///   `ChildProcess`, with a run/db/log directory of their own (OVS_RUNDIR, OVS_DBDIR,
///   OVS_LOGDIR), so that nothing is shared with a system OVS. Never `ovs-ctl`: it runs
///   modprobe.
/// - Bridge br0 with `datapath_type=netdev`; ports p-gen and p-sink with `type=afxdp`,
///   `xdp-mode=native`, one rx queue each, so one PMD thread polls both.
/// - The default NORMAL flow: a learning switch like the others. The sink announces its
///   MAC once; MAC aging is an hour so the entry outlives any run.
/// - `pin(to:)` sets `pmd-cpu-mask` to the CPU the DUT gets and pins every other thread
///   of both daemons there too, ovs-vswitchd's at the real-time priority every userspace
///   DUT gets (`NAPIThreads.dutThreadPriority`); `pmd-maxsleep=100` lets the PMD sleep
///   (up to 100 µs) when idle instead of burning the CPU it shares.
///
/// `tearDown()` stops both daemons (SIGTERM, then SIGKILL), checks that their pids are
/// gone and removes the directory, on every path, failed set-ups included.
public final class OVSAFXDPDUT: DeviceUnderTest {
    public let name = "ovs-afxdp"
    public let summary = "Open vSwitch userspace datapath (netdev), AF_XDP ports in native XDP mode, one PMD thread, NORMAL (learning) flow"

    public static let bridge = "br0"
    static let schema = "/usr/share/openvswitch/vswitch.ovsschema"
    static let tools = ["ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl"]

    private var directory: String?
    private var database: ChildProcess?
    private var vswitchd: ChildProcess?
    private var runner = CommandRunner()
    /// The daemons' pids, for the check that they are gone.
    public private(set) var daemonPIDs: [pid_t] = []

    public init() {}

    /// Why OVS cannot run on this machine, or nil when its parts are installed.
    public static func unavailableReason() -> String? {
        let missing = tools.filter { tool in
            Executable.find(tool) == nil
        }
        if !missing.isEmpty {
            return "Open vSwitch is not installed (\(missing.joined(separator: ", ")) not found): apt-get install openvswitch-switch"
        }
        if !FileManager.default.fileExists(atPath: schema) {
            return "Open vSwitch's database schema \(schema) is missing: reinstall openvswitch-common"
        }
        return nil
    }

    private var socket: String { "\(directory!)/db.sock" }
    private var environment: [String: String] {
        ["OVS_RUNDIR": directory!, "OVS_DBDIR": directory!, "OVS_LOGDIR": directory!, "OVS_SYSCONFDIR": directory!]
    }

    public func setUp(in network: BenchNetwork, links: LinkSettings) throws -> DUTWiring {
        if let reason = Self.unavailableReason() { throw UserError("ovs-afxdp cannot run here: \(reason)") }
        let topology = try network.addTwoPortDUT(links: links)
        let (dut, gen, sink) = (topology.dutNamespace, topology.generator, topology.sink)
        let (genPort, sinkPort) = (topology.generatorPort, topology.sinkPort)
        try startDaemons(in: dut, prefix: network.prefix)
        try vsctl(["add-br", Self.bridge, "--", "set", "bridge", Self.bridge, "datapath_type=netdev",
                   "other_config:mac-aging-time=3600"])
        try vsctl(["set", "Open_vSwitch", ".", "other_config:pmd-maxsleep=100"])
        for port in [genPort, sinkPort] {
            try vsctl(["add-port", Self.bridge, port.interface, "--", "set", "interface", port.interface, "type=afxdp",
                       "options:xdp-mode=native", "options:n_rxq=1"])
            try checkPort(port.interface, mtu: links.mtu)
        }
        try SinkAnnouncement.send(from: sink, links: links)
        return DUTWiring(generator: gen, sink: sink, bridge: nil, ports: [genPort, sinkPort], sinkFacingPort: sinkPort,
                         receivePort: genPort,
                         notes: ["Open vSwitch \(version()), AF_XDP in native XDP mode (copy mode: veths have no zero-copy)"])
    }

    private func startDaemons(in namespace: String, prefix: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bt-bench-ovs-\(prefix)").path
        try? FileManager.default.removeItem(atPath: directory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw UserError("ovs-afxdp cannot run here: cannot create its directory \(directory): \(error.localizedDescription)")
        }
        self.directory = directory
        try runner.run(["ovsdb-tool", "create", "\(directory)/conf.db", Self.schema])
        let database = try daemon("ovsdb-server", in: namespace,
                                  ["\(directory)/conf.db", "--remote=punix:\(socket)"])
        self.database = database
        try wait(for: socket, by: database, name: "ovsdb-server")
        try vsctl(["--no-wait", "init"])
        let vswitchd = try daemon("ovs-vswitchd", in: namespace, ["unix:\(socket)", "--disable-system"])
        self.vswitchd = vswitchd
        try wait(for: "\(directory)/ovs-vswitchd.ctl", by: vswitchd, name: "ovs-vswitchd")
    }

    /// Starts one daemon in the foreground in `namespace`, its pidfile, control socket and
    /// log in our directory; console messages at warning and above go to its
    /// ChildProcess log, the rest to the file. A process group of its own, so a stop
    /// reaches its monitor too.
    private func daemon(_ name: String, in namespace: String, _ arguments: [String]) throws -> ChildProcess {
        let directory = directory!
        let process = try ChildProcess(
            ["ip", "netns", "exec", namespace, name] + arguments
                + ["--pidfile=\(directory)/\(name).pid", "--unixctl=\(directory)/\(name).ctl",
                   "--log-file=\(directory)/\(name).log", "-vconsole:warn"],
            environment: environment, stderr: .log, ownGroup: true)
        daemonPIDs.append(process.pid)
        return process
    }

    /// Waits up to 10 s for a daemon's socket.
    private func wait(for path: String, by process: ChildProcess, name: String) throws {
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: path) {
            if process.hasExited || Date() > deadline {
                throw UserError("ovs-afxdp cannot run here: \(name) did not start: \(lastWords(process, log: "\(name).log"))")
            }
            usleep(10_000)
        }
    }

    /// What a daemon said last: the last few errors and warnings of its stderr, else of its
    /// log file, without OVS's timestamp and sequence prefix.
    private func lastWords(_ process: ChildProcess?, log: String) -> String {
        var text = process?.log ?? ""
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            text = (try? String(contentsOfFile: "\(directory ?? "")/\(log)", encoding: .utf8)) ?? ""
        }
        let lines = text.split(separator: "\n").map(String.init)
        let serious = lines.filter { $0.contains("|ERR|") || $0.contains("|EMER|") || $0.contains("|WARN|") }
        let picked = (serious.isEmpty ? lines : serious).suffix(4).map { line in
            // "2026-12-01T20:41:17Z|00059|netdev_afxdp|ERR|p-gen: ..." -> "netdev_afxdp: p-gen: ..."
            let fields = line.split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false)
            return fields.count == 5 ? "\(fields[2]): \(fields[4])" : line
        }
        return picked.isEmpty ? "nothing" : picked.joined(separator: "; ")
    }

    /// ovs-vsctl against our database, waiting (30 s at most) until ovs-vswitchd has
    /// applied the change, unless `--no-wait` is given.
    @discardableResult
    private func vsctl(_ arguments: [String]) throws -> String {
        let result = try runner.result(["ovs-vsctl", "--db=unix:\(socket)", "--timeout=30"] + arguments)
        guard result.succeeded else {
            throw UserError("ovs-afxdp: `ovs-vsctl \(arguments.joined(separator: " "))` failed: "
                + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                + "; ovs-vswitchd said: \(lastWords(vswitchd, log: "ovs-vswitchd.log"))")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func appctl(_ arguments: [String]) throws -> String {
        try runner.run(["ovs-appctl", "-t", "\(directory!)/ovs-vswitchd.ctl"] + arguments)
    }

    /// An AF_XDP port OVS could not open has ofport -1 and an error: say why OVS cannot run.
    private func checkPort(_ interface: String, mtu: Int) throws {
        let error = try vsctl(["get", "interface", interface, "error"])
        let ofport = try vsctl(["get", "interface", interface, "ofport"])
        if (Int(ofport) ?? -1) <= 0 || (error != "[]" && !error.isEmpty) {
            var message = "ovs-afxdp cannot run here: Open vSwitch could not open \(interface) as an AF_XDP port "
                + "(ofport \(ofport), error \(error)); ovs-vswitchd said: \(lastWords(vswitchd, log: "ovs-vswitchd.log"))"
            if mtu > FrameTemplate.standardMaximum {
                message += ". Native XDP on a veth takes no jumbo MTU (\(mtu)): measure ovs-afxdp with frames up to 1518 B"
            }
            throw UserError(message)
        }
    }

    private func version() -> String {
        let text = (try? runner.run(["ovs-vswitchd", "--version"])) ?? ""
        return text.split(separator: "\n").first?.split(separator: " ").last.map(String.init) ?? "?"
    }

    public func pin(to cpu: Int32, network: BenchNetwork) throws -> String? {
        let mask = String(format: "0x%llx", UInt64(1) << UInt64(cpu))
        try vsctl(["set", "Open_vSwitch", ".", "other_config:pmd-cpu-mask=\(mask)"])
        // The PMD is rebuilt on the new core asynchronously: wait until it polls both ports there.
        let deadline = Date().addingTimeInterval(10)
        var shown = ""
        while true {
            shown = (try? appctl(["dpif-netdev/pmd-rxq-show"])) ?? ""
            let cores = shown.split(separator: "\n").filter { $0.hasPrefix("pmd thread") }
            if cores.count == 1, cores[0].hasSuffix("core_id \(cpu):"), shown.contains("p-gen"), shown.contains("p-sink") { break }
            if Date() > deadline {
                throw UserError("ovs-afxdp: the PMD thread did not move to CPU \(cpu) (pmd-cpu-mask \(mask)): \(shown)")
            }
            usleep(20_000)
        }
        // Every other thread (main, handlers, revalidators, urcu) and the database go there too.
        try vswitchd?.pinThreads(to: cpu, realtime: NAPIThreads.dutThreadPriority)
        try database?.pinThreads(to: cpu)
        return "ovs-vswitchd's PMD thread (pmd-cpu-mask \(mask), pmd-maxsleep 100 µs) and its other threads run on CPU "
            + "\(cpu), SCHED_FIFO \(NAPIThreads.dutThreadPriority); ovsdb-server on CPU \(cpu) too"
    }

    public func tearDown() -> [String] {
        var problems: [String] = []
        // vswitchd first: on SIGTERM it removes its XDP programs and closes its sockets.
        for (name, process) in [("ovs-vswitchd", vswitchd), ("ovsdb-server", database)] {
            guard let process else { continue }
            process.stop(signal: SIGTERM)
            if kill(process.pid, 0) == 0 { problems.append("\(name) (pid \(process.pid)) is still running after SIGKILL") }
        }
        vswitchd = nil
        database = nil
        if let directory {
            try? FileManager.default.removeItem(atPath: directory)
            self.directory = nil
        }
        return problems
    }

    deinit { _ = tearDown() }
}
