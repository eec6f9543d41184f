import BridgeTraceCore
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
            if (try? CommandRunner().result(["ip", "netns", "del", name]))?.succeeded == true { removed.append(name) }
        }
        return removed
    }

    /// SIGKILLs every process in `namespace` (`ip netns pids`) and waits up to 2 s for
    /// them to go. Returns the pids that were there.
    @discardableResult
    static func killProcesses(in namespace: String) -> [pid_t] {
        func pids() -> [pid_t] {
            let output = (try? CommandRunner().result(["ip", "netns", "pids", namespace]))?.stdout ?? ""
            return output.split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }.filter { $0 != getpid() }
        }
        let found = pids()
        guard !found.isEmpty else { return [] }
        for pid in found { kill(pid, SIGKILL) }
        let deadline = Date().addingTimeInterval(2)
        // A killed process leaves the namespace as it exits, before it is reaped.
        while Date() < deadline && !pids().isEmpty { usleep(10_000) }
        return found
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
