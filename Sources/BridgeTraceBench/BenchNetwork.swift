import BridgeTraceCore
import BridgeTraceProcess
import BridgeTraceLab
import Foundation

/// The network namespaces one DUT of a benchmark lives in, named
/// `btb<pid>-<n>-<role>` ("gen", "sink", "dut"), so that they never collide with a lab or
/// another run, and so that a later run can tell a dead run's leftovers by the pid.
/// `tearDown()` deletes them all (veths and programs in them go too); it is idempotent
/// and runs on every exit path, failures included.
public final class BenchNetwork {
    public let prefix: String
    public private(set) var namespaces: [String] = []
    let runner = CommandRunner()
    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    public init() {
        let n = Self.lock.withLock { () -> Int in
            Self.counter += 1
            return Self.counter
        }
        prefix = "btb\(getpid())-\(n)"
    }

    /// The generator probe's (`GeneratorSelection`), numbered 0: it runs once per process,
    /// before any DUT, and leaves the DUTs' numbers as they were (1 for the first).
    static func forProbe() -> BenchNetwork { BenchNetwork(prefix: "btb\(getpid())-0") }

    private init(prefix: String) {
        self.prefix = prefix
    }

    /// Creates `<prefix>-<role>` with loopback up and IPv6 off (IPv6 would send router
    /// solicitations and MLD reports of its own into the measurement).
    public func addNamespace(_ role: String) throws -> String {
        let name = "\(prefix)-\(role)"
        try runner.run(["ip", "netns", "add", name])
        namespaces.append(name)
        if FileManager.default.fileExists(atPath: "/proc/sys/net/ipv6/conf/all/disable_ipv6") {
            try runner.run(["ip", "netns", "exec", name, "sysctl", "-q", "-w",
                            "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
        }
        try ip("-n", name, "link", "set", "lo", "up")
        return name
    }

    /// A veth pair with one end in each namespace, both up.
    public func addVeth(_ a: Endpoint, _ b: Endpoint, aMAC: String? = nil, bMAC: String? = nil, mtu: Int) throws {
        var command = ["-n", a.namespace, "link", "add", a.interface]
        if let aMAC { command += ["address", aMAC] }
        command += ["mtu", String(mtu), "type", "veth", "peer", "name", b.interface]
        if let bMAC { command += ["address", bMAC] }
        command += ["mtu", String(mtu), "netns", b.namespace]
        try ip(command)
        try ip("-n", a.namespace, "link", "set", a.interface, "up")
        try ip("-n", b.namespace, "link", "set", b.interface, "up")
    }

    /// The topology of every two-port DUT: namespaces "dut", "gen" and "sink"; veth
    /// p-gen (in dut) to gen0 and p-sink to sink0, the far ends with the generator's and
    /// the sink's MACs. The DUT then puts its forwarding between p-gen and p-sink.
    public func addTwoPortDUT(links: LinkSettings) throws -> TwoPortTopology {
        let dut = try addNamespace("dut")
        let topology = TwoPortTopology(
            generator: Endpoint(namespace: try addNamespace("gen"), interface: "gen0"),
            sink: Endpoint(namespace: try addNamespace("sink"), interface: "sink0"),
            generatorPort: Endpoint(namespace: dut, interface: "p-gen"),
            sinkPort: Endpoint(namespace: dut, interface: "p-sink"))
        try addVeth(topology.generatorPort, topology.generator, bMAC: links.generatorMAC, mtu: links.mtu)
        try addVeth(topology.sinkPort, topology.sink, bMAC: links.sinkMAC, mtu: links.mtu)
        return topology
    }

    func ip(_ arguments: String...) throws {
        try ip(arguments)
    }

    func ip(_ arguments: [String]) throws {
        try runner.run(["ip"] + arguments)
    }

    /// Runs a command inside one of the namespaces.
    @discardableResult
    public func exec(_ namespace: String, _ arguments: [String]) throws -> String {
        try runner.run(["ip", "netns", "exec", namespace] + arguments)
    }

    /// Deletes every namespace made here; returns the ones that could not be deleted.
    /// A process still running in one (a DUT's daemon its own teardown missed) is
    /// killed first: it would keep the namespace, and its CPU use, alive.
    @discardableResult
    public func tearDown() -> [String] {
        var left: [String] = []
        for namespace in namespaces.reversed() {
            Self.killProcesses(in: namespace)
            let result = try? runner.result(["ip", "netns", "del", namespace])
            if result?.succeeded != true && FileManager.default.fileExists(atPath: "/run/netns/\(namespace)") {
                left.append(namespace)
            }
        }
        namespaces = left
        return left
    }

    deinit { tearDown() }

    /// Deletes the namespaces of benchmark runs whose process is gone (killed with
    /// SIGKILL, or a crash). Returns their names.
    @discardableResult
    public static func removeStale() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        var removed: [String] = []
        for name in names {
            guard let pid = ownerPID(of: name), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            // A SIGKILLed run leaves its DUT's daemons (ovs-vswitchd, a switch) behind.
            killProcesses(in: name)
            removeTemporaryFiles(of: name)
            if (try? CommandRunner().result(["ip", "netns", "del", name]))?.succeeded == true { removed.append(name) }
        }
        return removed
    }

    /// Stops every process in `namespace` (`ip netns pids`): SIGTERM, so that a switch
    /// removes its pinned state and OVS its XDP programs, then SIGKILL after 2 s. Returns
    /// the pids that were there.
    @discardableResult
    static func killProcesses(in namespace: String) -> [pid_t] {
        func pids() -> [pid_t] { (try? Self.pids(in: namespace)) ?? [] }
        let found = pids()
        guard !found.isEmpty else { return [] }
        for signal in [SIGTERM, SIGKILL] {
            for pid in pids() { kill(pid, signal) }
            // A process leaves the namespace as it exits, before it is reaped.
            let deadline = Date().addingTimeInterval(2)
            while Date() < deadline && !pids().isEmpty { usleep(10_000) }
        }
        return found
    }

    /// The processes in `namespace` other than this one (`ip netns pids`).
    static func pids(in namespace: String) throws -> [pid_t] {
        let output = try CommandRunner().run(["ip", "netns", "pids", namespace])
        return output.split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }.filter { $0 != getpid() }
    }

    /// Files a run keeps in the temporary directory ("bt-bench-ovs-btb<pid>-<n>", ...),
    /// removed with a dead run's namespaces.
    static func removeTemporaryFiles(of namespace: String) {
        let parts = namespace.split(separator: "-")
        guard parts.count == 3 else { return }
        let run = "\(parts[0])-\(parts[1])"
        let directory = FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        where name.hasPrefix("bt-bench-") && (name.hasSuffix("-\(run)") || name.contains("-\(run).")) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// The pid in "btb<pid>-<n>-<role>", or nil for any other name.
    public static func ownerPID(of namespace: String) -> pid_t? {
        guard namespace.hasPrefix("btb") else { return nil }
        let parts = namespace.dropFirst(3).split(separator: "-")
        guard parts.count == 3, parts[1].allSatisfy(\.isNumber), let pid = pid_t(parts[0]) else { return nil }
        return pid
    }
}

/// An interface in a namespace.
public struct Endpoint: Codable, Sendable, Equatable {
    public var namespace: String
    public var interface: String

    public init(namespace: String, interface: String) {
        self.namespace = namespace
        self.interface = interface
    }
}

/// What `BenchNetwork.addTwoPortDUT` built.
public struct TwoPortTopology: Sendable {
    public var generator: Endpoint
    public var sink: Endpoint
    /// The DUT's port towards the generator, where its frames arrive.
    public var generatorPort: Endpoint
    /// The DUT's port towards the sink.
    public var sinkPort: Endpoint
    public var dutNamespace: String { generatorPort.namespace }
    public var ports: [Endpoint] { [generatorPort, sinkPort] }
}
