import BridgeTraceLab
import Foundation
import Testing

/// A bridge built by hand with plain `ip` commands, the way an operator's hypervisor has
/// one (not through `lab up` or `lab fault`): namespace NAME-br holds br0 with veth ports
/// vm1, vm2, vm3 and uplink; NAME-vm1..3 hold the "VMs" (198.18.0.11-13) and NAME-lan the
/// gateway (198.18.0.1). STP, multicast snooping and IPv6 are off so that traffic is only
/// what the test makes. Nothing is pinned: hosts resolve each other with ARP.
struct HandBuiltBridge {
    let name: String
    static let hosts = ["vm1", "vm2", "vm3", "lan"]

    var bridgeNamespace: String { "\(name)-br" }
    func namespace(_ host: String) -> String { "\(name)-\(host)" }
    static func port(_ host: String) -> String { host == "lan" ? "uplink" : host }
    static func ip(_ host: String) -> String { host == "lan" ? "198.18.0.1" : "198.18.0.1\(host.last!)" }
    static func mac(_ host: String) -> String { host == "lan" ? "52:54:00:aa:00:fe" : "52:54:00:aa:00:0\(host.last!)" }

    /// Builds it, runs `body`, and deletes every namespace whatever happens.
    static func with<T>(_ body: (HandBuiltBridge) throws -> T) throws -> T {
        let lab = HandBuiltBridge(name: TestLab.uniqueName())
        defer { lab.down() }
        try lab.up()
        return try body(lab)
    }

    func up() throws {
        for ns in [bridgeNamespace] + Self.hosts.map(namespace) {
            try run(["ip", "netns", "add", ns])
            try run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                     "net.ipv6.conf.default.disable_ipv6=1"])
            try run(["ip", "-n", ns, "link", "set", "lo", "up"])
        }
        try br(["ip", "link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0"])
        try br(["ip", "link", "set", "br0", "up"])
        for host in Self.hosts {
            let port = Self.port(host)
            try br(["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace(host)])
            try br(["ip", "link", "set", port, "master", "br0", "up"])
            try inHost(host, ["ip", "link", "set", "eth0", "address", Self.mac(host), "up"])
            try inHost(host, ["ip", "addr", "add", Self.ip(host) + "/24", "dev", "eth0"])
        }
    }

    func down() {
        for ns in [bridgeNamespace] + Self.hosts.map(namespace) {
            _ = try? runResult(["ip", "netns", "del", ns])
        }
    }

    @discardableResult
    func br(_ arguments: [String]) throws -> String { try exec(inNetns: bridgeNamespace, arguments) }

    @discardableResult
    func inHost(_ host: String, _ arguments: [String]) throws -> String { try exec(inNetns: namespace(host), arguments) }

    /// Every neighbour cache emptied and the FDB's learned entries flushed: the next
    /// packet needs ARP again, as after a reboot.
    func forget() throws {
        for host in Self.hosts { try inHost(host, ["ip", "neigh", "flush", "all"]) }
        try br(["bridge", "fdb", "flush", "dev", "br0", "dynamic"])
    }

    /// `arguments` in `host`'s namespace, in a process group of its own that stopping
    /// ends whole (trafgen's workers, a shell loop's children), and that ends by itself
    /// after `deadline` seconds even if the test process is killed.
    func background(_ host: String, _ arguments: [String], deadline: Int = 180) throws -> BackgroundProcess {
        try BackgroundProcess(["/usr/bin/python3", "-c", Self.groupRunner, String(deadline),
                               "ip", "netns", "exec", namespace(host)] + arguments)
    }

    /// The test process may run with SIGTERM blocked, and children inherit the mask: the
    /// runner unblocks it, starts the command in a new session, and on SIGTERM (or at the
    /// deadline) signals the whole group (INT, TERM, then KILL) until it is empty.
    static let groupRunner = #"""
import os, signal, subprocess, sys, time
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
child = subprocess.Popen(sys.argv[2:], start_new_session=True)
def alive():
    try:
        os.killpg(child.pid, 0)
        return True
    except ProcessLookupError:
        return False
def stop(*_):
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        end = time.time() + 1.0
        while time.time() < end:
            child.poll()
            if not alive():
                break
            time.sleep(0.05)
    child.poll()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
deadline = time.time() + float(sys.argv[1])
while child.poll() is None and time.time() < deadline:
    time.sleep(0.1)
stop()
"""#

    /// `ping -i 1 IP` from `host`, as a VM that cannot reach something keeps trying.
    func ping(_ host: String, _ target: String, interval: String = "1") throws -> BackgroundProcess {
        try background(host, ["ping", "-i", interval, "-W", "1", target])
    }

    struct Diagnosis {
        var status: Int32
        var report: [String: Any]
        var stdout: String
        var stderr: String
        var findings: [[String: Any]] { report["findings"] as? [[String: Any]] ?? [] }
        var summary: String { findings.map { "\($0["cause"] ?? "?")@\($0["port"].map { "\($0)" } ?? "?")" }.joined(separator: ", ") }
    }

    /// `bridgetrace diagnose br0 --duration 8 --json`, recording what it saw to `record`.
    func diagnose(duration: Int = 8, record: String) throws -> Diagnosis {
        let result = try BridgeTraceBinary.run(["diagnose", "br0", "--netns", bridgeNamespace, "--duration", String(duration),
                                                "--json", "--record", record])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "stdout: \(result.stdout) stderr: \(result.stderr)")
        return Diagnosis(status: result.status, report: report, stdout: result.stdout, stderr: result.stderr)
    }
}

/// Where `diagnose --record` writes: a temporary directory, or, with
/// BRIDGETRACE_RECORD_FIXTURES=DIR, DIR itself (to refresh the committed fixtures in
/// Tests/BridgeTraceCoreTests/DiagnosisRecordings).
enum RecordingDirectory {
    static let path: String = {
        if let dir = ProcessInfo.processInfo.environment["BRIDGETRACE_RECORD_FIXTURES"], !dir.isEmpty { return dir }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bt-recordings-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    static func file(_ name: String) -> String { "\(path)/\(name).jsonl" }

    /// For the tests' own files (configurations, leases): never the fixtures directory.
    static let scratch: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bt-scratch-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()
}
