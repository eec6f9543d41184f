import BridgeTraceCore
import BridgeTraceProcess
import BridgeTraceLab
import Foundation

/// bridgetrace's own switch (`bridgetrace switch`) on two veth ports in the DUT's
/// namespace, p-gen towards the generator and p-sink towards the sink, as `LinuxBridgeDUT`
/// builds br0:
///
/// - `xdp-switch` (fast path): the switch's XDP program on p-gen redirects known unicast
///   to p-sink in the kernel (devmap);
/// - `afxdp-switch` (`--no-fast-path`): every frame goes through an AF_XDP socket to the
///   switch's Swift code and out with AF_XDP TX.
///
/// The switch runs as its own process (the bridgetrace binary, started with
/// `--ready-file` and waited for), so that its threads can be pinned to the DUT's CPU
/// like OVS's, and so that what is measured is what an operator runs. The sink's MAC is
/// a static FDB entry (`--static`), as on the Linux bridge: frames to it are known
/// unicast from the first one (flooding would take the slow path).
public final class AFXDPSwitchDUT: DeviceUnderTest {
    public let fastPath: Bool
    public var name: String { fastPath ? DUTKind.xdpSwitch.rawValue : DUTKind.afxdpSwitch.rawValue }
    public var summary: String {
        fastPath
            ? "bridgetrace switch, XDP fast path: known unicast redirected in the kernel (devmap)"
            : "bridgetrace switch --no-fast-path: every frame through AF_XDP sockets and Swift"
    }

    private var process: ChildProcess?
    /// The switch process's pid once started (kept after it is stopped, for checks).
    public private(set) var switchPID: pid_t?
    private var readyFile: String?
    private(set) var switchName: String?
    private var namespace: String?
    private var binary: String?

    static let agingSeconds = 3600

    public init(fastPath: Bool) {
        self.fastPath = fastPath
    }

    /// The bridgetrace binary to run: $BRIDGETRACE_BIN, else this process when it is
    /// bridgetrace, else a bridgetrace next to it (tests run from .build/debug).
    static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["BRIDGETRACE_BIN"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw UserError("BRIDGETRACE_BIN=\(path) is not an executable")
            }
            return path
        }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        if (me as NSString).lastPathComponent == "bridgetrace" { return me }
        let sibling = ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("bridgetrace")
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        throw UserError("cannot find the bridgetrace binary to run the switch: set BRIDGETRACE_BIN")
    }

    public func setUp(in network: BenchNetwork, links: LinkSettings) throws -> DUTWiring {
        let binary = try Self.binary()
        self.binary = binary
        let topology = try network.addTwoPortDUT(links: links)
        let (dut, gen, sink) = (topology.dutNamespace, topology.generator, topology.sink)
        let (genPort, sinkPort) = (topology.generatorPort, topology.sinkPort)
        namespace = dut
        let name = network.prefix
        switchName = name
        let ready = FileManager.default.temporaryDirectory.appendingPathComponent("bt-bench-switch-\(name).ready").path
        try? FileManager.default.removeItem(atPath: ready)
        readyFile = ready
        // The sink's XDP program gives sink0 NAPI, so the fast path may redirect into
        // p-sink (a veth whose peer had none would drop redirected frames). The sink's MAC
        // is a static entry, as on the Linux bridge; the generator's are learnt, with an
        // aging that outlasts any run.
        let sinkEntry = "\(sinkPort.interface)=\(links.sinkMAC)" + (links.vlan.map { "@\($0)" } ?? "")
        // Tagged frames (--vlan) need trunks: an untagged port is in VLAN 1 only.
        let ports = [genPort, sinkPort].flatMap { port in
            links.vlan.map { ["--trunk", "\(port.interface)=\($0)"] } ?? ["--port", port.interface]
        }
        var arguments = [binary, "switch", "--name", name, "--netns", dut] + ports
            + ["--redirect", sinkPort.interface, "--static", sinkEntry, "--aging", String(Self.agingSeconds),
               "--ready-file", ready]
        if !fastPath { arguments.append("--no-fast-path") }
        let process = try ChildProcess(arguments, stderr: .log, ownGroup: true)
        self.process = process
        switchPID = process.pid
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: ready) {
            if process.hasExited || Date() > deadline {
                process.stop(signal: SIGTERM)
                let said = process.log
                self.process = nil
                throw UserError("\(self.name): `bridgetrace switch` did not become ready: "
                    + (said.isEmpty ? "no message" : String(said.suffix(800))))
            }
            usleep(10_000)
        }
        return DUTWiring(generator: gen, sink: sink, bridge: nil, ports: [genPort, sinkPort], sinkFacingPort: sinkPort,
                         receivePort: genPort, notes: [portPaths()].compactMap { $0 })
    }

    /// `bridgetrace switch show NAME --json` of the running switch, parsed; nil when it
    /// is not running or does not answer.
    public func show() -> [String: Any]? {
        guard process != nil, let binary, let switchName, let namespace,
              let output = try? CommandRunner().run([binary, "switch", "show", switchName, "--netns", namespace, "--json"])
        else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any]
    }

    /// The switch's own counters ("fast_path", "to_xsk", ...) from `switch show`.
    public func stats() -> [String: UInt64] {
        let stats = show()?["stats"] as? [String: Any] ?? [:]
        return stats.compactMapValues { ($0 as? NSNumber)?.uint64Value }
    }

    /// "switch NAME, egress per port: p-gen xsk, p-sink redirect", for the notes.
    private func portPaths() -> String? {
        guard let ports = show()?["ports"] as? [[String: Any]] else { return nil }
        let paths = ports.compactMap { port -> String? in
            guard let name = port["port"] as? String, let path = port["path"] as? String else { return nil }
            return "\(name) \(path)"
        }
        return "switch \(switchName ?? ""), egress per port: " + paths.joined(separator: ", ")
    }

    /// Where the frames went, and the switch's drops by reason, for the notes at teardown.
    private func finalCounters() -> String? {
        guard let snapshot = show() else { return nil }
        let stats = (snapshot["stats"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        var drops: [String] = []
        for (port, reasons) in (snapshot["drops"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (reason, count) in (reasons as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
                if (count as? NSNumber)?.uint64Value ?? 0 > 0 { drops.append("\(port) \(reason) \(count)") }
            }
        }
        return "switch counters over the whole run: " + stats.joined(separator: ", ")
            + "; drops: " + (drops.isEmpty ? "none" : drops.joined(separator: ", "))
    }

    public func pin(to cpu: Int32, network: BenchNetwork) throws -> String? {
        guard let process else { return nil }
        let threads = try process.pinThreads(to: cpu, realtime: NAPIThreads.dutThreadPriority)
        return "bridgetrace switch: its \(threads == 1 ? "thread runs" : "\(threads) threads run") on CPU \(cpu), "
            + "SCHED_FIFO \(NAPIThreads.dutThreadPriority)"
    }

    public func tearDown() -> [String] {
        var problems: [String] = []
        if process != nil, let counters = finalCounters() { problems.append(counters) }
        if let process {
            // SIGINT: the switch's own clean stop (links detached, pins removed).
            process.stop(signal: SIGINT)
            let said = process.log
            if kill(process.pid, 0) == 0 { problems.append("bridgetrace switch (pid \(process.pid)) is still running") }
            if said.contains("error") { problems.append("bridgetrace switch said on exit: \(said.suffix(400))") }
            self.process = nil
        }
        if let readyFile {
            try? FileManager.default.removeItem(atPath: readyFile)
            self.readyFile = nil
        }
        return problems
    }

    deinit { _ = tearDown() }
}
