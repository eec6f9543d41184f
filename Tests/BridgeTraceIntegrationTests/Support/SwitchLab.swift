import BridgeTraceLab
import Foundation

/// A namespace for a `bridgetrace switch` and one namespace per host, each host's eth0
/// a veth whose peer p1, p2... sits in the switch namespace. Fixed MACs and addresses
/// (02:00:00:00:00:0N, 198.18.0.N), IPv6 off, so that counts are exact. Always torn down.
struct SwitchLab {
    let id: String
    let switchNamespace: String
    let hosts: Int

    func hostNamespace(_ index: Int) -> String { "\(id)h\(index)" }
    func port(_ index: Int) -> String { "p\(index)" }
    func hostIP(_ index: Int) -> String { "198.18.0.\(index)" }
    func hostMAC(_ index: Int) -> String { String(format: "02:00:00:00:00:%02x", index) }
    var switchName: String { id }

    /// - Parameter queues: rx and tx queues of every veth (both ends).
    /// - Parameter mtu: of every veth (both ends); nil leaves the kernel's 1500.
    static func with<T>(hosts: Int, gro: Bool = false, queues: Int = 1, mtu: Int? = nil,
                        _ body: (SwitchLab) throws -> T) throws -> T {
        let id = TestLab.uniqueName()
        let lab = SwitchLab(id: id, switchNamespace: id + "s", hosts: hosts)
        defer { lab.down() }
        try lab.up(gro: gro, queues: queues, mtu: mtu)
        return try body(lab)
    }

    private func up(gro: Bool, queues: Int, mtu: Int?) throws {
        try run(["ip", "netns", "add", switchNamespace])
        try quiet(switchNamespace)
        for index in 1...hosts {
            let ns = hostNamespace(index)
            try run(["ip", "netns", "add", ns])
            try quiet(ns)
            let shape = ["numtxqueues", "\(queues)", "numrxqueues", "\(queues)"] + (mtu.map { ["mtu", "\($0)"] } ?? [])
            try run(["ip", "-n", ns, "link", "add", "eth0"] + shape + ["address", hostMAC(index), "type", "veth",
                     "peer", "name", port(index)] + shape + ["netns", switchNamespace])
            try run(["ip", "-n", ns, "addr", "add", "\(hostIP(index))/24", "dev", "eth0"])
            try run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            try run(["ip", "-n", switchNamespace, "link", "set", port(index), "up"])
            // GRO gives the host's veth NAPI, so the switch's fast path may redirect into it.
            if gro { try exec(inNetns: ns, ["ethtool", "-K", "eth0", "gro", "on"]) }
        }
    }

    private func quiet(_ ns: String) throws {
        for key in ["all", "default"] {
            try exec(inNetns: ns, ["sysctl", "-qw", "net.ipv6.conf.\(key).disable_ipv6=1"])
        }
    }

    func down() {
        for index in 1...hosts { _ = try? run(["ip", "netns", "del", hostNamespace(index)]) }
        _ = try? run(["ip", "netns", "del", switchNamespace])
    }

    /// Static neighbours between every pair of hosts: no ARP while counting.
    func staticNeighbours() throws {
        for index in 1...hosts {
            for other in 1...hosts where other != index {
                try exec(inNetns: hostNamespace(index), ["ip", "neigh", "replace", hostIP(other), "lladdr", hostMAC(other),
                                                         "dev", "eth0", "nud", "permanent"])
            }
        }
    }

    /// A host's eth0 counters (`ip -s link`).
    func hostCounters(_ index: Int) throws -> LinkCounters {
        try LinkCounters.read("eth0", inNetns: hostNamespace(index))
    }

    /// `switch show --json`'s drops, by port and reason.
    func drops() throws -> [String: [String: Int]] {
        try show()["drops"] as? [String: [String: Int]] ?? [:]
    }

    /// `switch show --json`'s stats.
    func stats() throws -> [String: Int] {
        try show()["stats"] as? [String: Int] ?? [:]
    }

    /// rx packets of a host's eth0, from the kernel (`ip -s link`), not from bridgetrace.
    func hostRxPackets(_ index: Int) throws -> Int {
        try LinkCounters.read("eth0", inNetns: hostNamespace(index)).rxPackets
    }

    /// `switch show --json`, parsed.
    func show() throws -> [String: Any] {
        let result = try BridgeTraceBinary.run(["switch", "show", switchName, "--netns", switchNamespace, "--json"])
        guard result.status == 0,
              let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw BackgroundFailure("switch show failed (\(result.status)): \(result.stderr)")
        }
        return object
    }

    /// FDB entries as "mac@vlan=port".
    func fdb() throws -> Set<String> {
        let entries = try show()["fdb"] as? [[String: Any]] ?? []
        return Set(entries.map { "\($0["mac"] as? String ?? "?")@\($0["vlan"] as? Int ?? -1)=\($0["port"] as? String ?? "?")" })
    }

    /// XDP program ids attached to the switch's ports (from `ip link`, not our code).
    func attachedXDP() throws -> [Int] {
        let output = try run(["ip", "-n", switchNamespace, "-j", "-d", "link", "show"])
        let links = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        return links.compactMap { (($0["xdp"] as? [String: Any])?["prog"] as? [String: Any])?["id"] as? Int }
    }

    /// `count` ARP requests for 198.18.0.99 from host `index`'s eth0 with scapy, from
    /// `source` (default: the host's own MAC) to `destination` (default: broadcast).
    func sendARP(from index: Int, count: Int, source: String? = nil, destination: String = "ff:ff:ff:ff:ff:ff") throws {
        let src = source ?? hostMAC(index)
        let script = """
        import logging; logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        from scapy.all import Ether, ARP, sendp
        sendp([Ether(src="\(src)", dst="\(destination)") / ARP(op="who-has", hwsrc="\(src)", psrc="\(hostIP(index))", pdst="198.18.0.99")] * \(count), iface="eth0", verbose=False)
        """
        try exec(inNetns: hostNamespace(index), [Injector.python, "-c", script])
    }

    /// One broadcast ARP request from `mac`, sent alternately out of host `first`'s and
    /// host `second`'s eth0, `frames` in all, a few milliseconds apart: a MAC flapping
    /// between two ports well within one second, each port's frames sent from a CPU of their
    /// own. One process, so no start-up between frames.
    func sendFlapping(mac: String, between first: Int, and second: Int, frames: Int) throws {
        let script = """
        import ctypes, os, socket, struct, time
        libc = ctypes.CDLL(None, use_errno=True)
        def opened(ns):
            fd = os.open("/run/netns/" + ns, os.O_RDONLY)
            if libc.setns(fd, 0x40000000) != 0: raise OSError(ctypes.get_errno(), "setns " + ns)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind(("eth0", 0))
            return s
        sockets = [opened("\(hostNamespace(first))"), opened("\(hostNamespace(second))")]
        src = bytes.fromhex("\(mac)".replace(":", ""))
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + src + socket.inet_aton("\(hostIP(first))") + bytes(6) + socket.inet_aton("198.18.0.99")
        frame = b"\\xff" * 6 + src + b"\\x08\\x06" + arp
        cpus = sorted(os.sched_getaffinity(0))
        for i in range(\(frames)):
            # Each port's frames on a CPU of their own: the kernel side learns on both.
            os.sched_setaffinity(0, {cpus[(i % 2) % len(cpus)]})
            sockets[i % 2].send(frame)
            time.sleep(0.005)
        """
        try exec(inNetns: hostNamespace(first), [Injector.python, "-c", script])
    }
}
