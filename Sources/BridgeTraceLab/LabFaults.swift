import BridgeTraceCore
import BridgeTraceProcess
import BridgeTraceKernel
import Foundation

/// Injects the faults of FAULTS.md into a running lab and removes them. Every fault is
/// idempotent (injecting it twice leaves one), and `clear` returns the lab to the state
/// `lab up` built, whatever was injected.
public enum LabFaults {
    /// The nft table both netfilter faults create (family bridge in the bridge namespace,
    /// family inet in a host's namespace).
    public static let nftTable = "bridgetrace_fault"
    /// The VLAN ID vlan_mismatch tags with.
    public static let vlanID: UInt16 = 100
    /// subnet_mismatch moves its host into this subnet, with this gateway; nobody else is there.
    public static let strayPrefix = "198.18.1"
    /// port_flood_off gives the host behind the port this MAC's last byte, offset from its own.
    static let changedMACOffset: UInt8 = 0x80

    /// Injects `fault` into lab `name`, at `port` (a bridge port of the lab) or the fault's
    /// default port. Throws UserError for an unknown lab or port, or a command that fails.
    @discardableResult
    public static func inject(_ fault: LabFault, lab name: String, port: String? = nil) throws -> LabFaultReport {
        let topology = try labTopology(name)
        let port = try port.map { try checkPort($0, in: topology) } ?? fault.defaultPort(in: topology)
        var shell = FaultShell()
        var undo: [String] = []
        var notes: [String] = []
        let br = topology.bridgeNamespace
        func host(_ port: String?) -> LabTopology.Host { hostBehind(port ?? topology.uplinkPort, in: topology) }

        switch fault {
        case .netfilterDrop:
            // Add-then-delete makes a second injection replace the first instead of adding a rule.
            try shell.run(["ip", "netns", "exec", br, "nft", "add", "table", "bridge", nftTable])
            try shell.run(["ip", "netns", "exec", br, "nft", "delete", "table", "bridge", nftTable])
            try shell.run(["ip", "netns", "exec", br, "nft", "add", "table", "bridge", nftTable])
            try shell.run([
                "ip", "netns", "exec", br, "nft", "add", "chain", "bridge", nftTable, "forward",
                "{ type filter hook forward priority 0 ; policy accept ; }",
            ])
            try shell.run(
                ["ip", "netns", "exec", br, "nft", "add", "rule", "bridge", nftTable, "forward"]
                    + (port.map { ["oifname", $0] } ?? []) + ["icmp", "type", "echo-request", "counter", "drop"])
            undo = ["ip netns exec \(br) nft delete table bridge \(nftTable)"]

        case .stpNotForwarding:
            let p = port!
            try shell.run(["ip", "netns", "exec", br, "bridge", "link", "set", "dev", p, "state", "0"])
            undo = ["ip netns exec \(br) bridge link set dev \(p) state 3"]

        case .portDown:
            let p = port!
            try shell.run(["ip", "-n", br, "link", "set", p, "down"])
            undo = ["ip -n \(br) link set \(p) up"]

        case .noCarrier:
            let h = host(port)
            if let vm = topology.vms.firstIndex(of: h).map({ $0 + 1 }), isQEMUGuest(h) {
                // A real VM on a tap: stop it. QEMU's tap fd closes and the port loses carrier.
                _ = QEMUGuest.stop(lab: topology.name, vm: vm)
                undo = ["bridgetrace lab fault clear --name \(topology.name)   # boots the guest again"]
                notes.append("the QEMU guest behind tap \(h.port) is stopped, so \(h.port) has NO-CARRIER")
            } else {
                try shell.run(["ip", "-n", h.namespace, "link", "set", h.interface, "down"])
                undo = ["ip -n \(h.namespace) link set \(h.interface) up"]
                notes.append("a veth lab has no tap: the host's side is down, so port \(h.port) has NO-CARRIER")
            }

        case .mtuMismatch:
            let h = host(port)
            for other in topology.bridgePorts where other != h.port {
                try shell.run(["ip", "-n", br, "link", "set", other, "mtu", "1500"])
            }
            try shell.run(["ip", "-n", br, "link", "set", h.port, "mtu", "9000"])
            try shell.run(["ip", "-n", h.namespace, "link", "set", h.interface, "mtu", "9000"])
            undo = [
                "ip -n \(h.namespace) link set \(h.interface) mtu 1500",
                "ip -n \(br) link set \(h.port) mtu 1500",
            ]
            notes.append("try: ip netns exec \(h.namespace) ping -c 3 -s 4000 -M do \(pingTarget(for: h, in: topology))")

        case .portIsolated:
            let ports = port.map { Array(Set([$0, topology.uplinkPort])).sorted() } ?? topology.bridgePorts
            for p in ports {
                try shell.run(["ip", "netns", "exec", br, "bridge", "link", "set", "dev", p, "isolated", "on"])
            }
            undo = ports.map { "ip netns exec \(br) bridge link set dev \($0) isolated off" }

        case .arpUnanswered:
            let h = host(port)
            try shell.run(["ip", "netns", "exec", h.namespace, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=8"])
            // Forget cached answers, so the next packet to it needs ARP at once.
            for ns in topology.namespaces where ns != h.namespace {
                try shell.run(["ip", "-n", ns, "neigh", "flush", "all"])
            }
            undo = ["ip netns exec \(h.namespace) sysctl -w net.ipv4.conf.all.arp_ignore=0"]

        case .icmpUnanswered:
            let h = host(port)
            let ns = h.namespace
            try shell.nftDropRule(namespace: ns, family: "inet", chain: "input", hook: "input",
                                  match: ["icmp", "type", "echo-request"])
            undo = ["ip netns exec \(ns) nft delete table inet \(nftTable)"]

        case .vlanMismatch:
            let h = host(port)
            // No 8021q and no tc vlan action here: a tiny cls_bpf program pushes the tag.
            // `ip netns exec` remounts /sys (hiding bpffs), so tc runs through nsenter.
            let pin = "/sys/fs/bpf/bridgetrace-lab-\(topology.name)-vlan\(vlanID)"
            try VLANPushProgram.pin(vid: vlanID, at: pin)
            defer { unlink(pin) }
            shell.record("(load a tc program that calls bpf_skb_vlan_push(\(vlanID)) and pin it at \(pin))")
            let enter = ["nsenter", "--net=/var/run/netns/\(h.namespace)"]
            try shell.run(enter + ["tc", "qdisc", "replace", "dev", h.interface, "clsact"])
            try shell.run(enter + ["tc", "filter", "del", "dev", h.interface, "egress"])
            try shell.run(
                enter + ["tc", "filter", "add", "dev", h.interface, "egress", "bpf", "direct-action", "pinned", pin])
            undo = ["ip netns exec \(h.namespace) tc qdisc del dev \(h.interface) clsact"]
            notes.append("everything \(h.label) sends now carries VLAN \(vlanID); the others expect untagged frames")

        case .ipConflict:
            let h = host(port)
            let victim = topology.vm(1)
            guard h.namespace != victim.namespace else {
                throw UserError("ip_conflict needs a port other than \(victim.port): that host would conflict with itself")
            }
            try shell.run(["ip", "-n", h.namespace, "addr", "replace", topology.cidr(victim.ip), "dev", h.interface])
            undo = ["ip -n \(h.namespace) addr del \(topology.cidr(victim.ip)) dev \(h.interface)"]
            notes.append("\(h.label) and \(victim.label) both answer ARP for \(victim.ip)")

        case .macFlapping:
            let h = host(port)
            let victim = topology.vm(1)
            guard h.namespace != victim.namespace else {
                throw UserError("mac_flapping needs a port other than \(victim.port): it clones \(victim.label)'s MAC")
            }
            try shell.run(["ip", "-n", h.namespace, "link", "set", h.interface, "address", victim.mac])
            undo = ["ip -n \(h.namespace) link set \(h.interface) address \(h.mac)"]
            notes.append("\(victim.mac) now sits behind \(victim.port) and \(h.port); it flaps when both send")

        case .arpSpoofing:
            let h = host(port)
            guard h.namespace != topology.lanNamespace else {
                throw UserError("arp_spoofing needs a VM port: the gateway cannot spoof its own address")
            }
            let extra = [topology.gatewayIP]
            let command = LabFaultBackground.arguments(
                namespace: h.namespace, mode: "arp-spoof", interface: h.interface, interval: 0.5, extra: extra)
            let pid = try LabFaultBackground.start(
                lab: topology.name, fault: fault, namespace: h.namespace, mode: "arp-spoof",
                interface: h.interface, interval: 0.5, extra: extra)
            shell.record(summarize(command) + " &   (pid \(pid))")
            undo = ["kill \(pid)"]
            notes.append(
                "\(h.label) claims \(topology.gatewayIP) is at \(h.mac); pid in "
                    + LabFaultBackground.pidFile(lab: topology.name, fault: fault))

        case .dhcpUnanswered:
            let h = host(port)
            let command = LabFaultBackground.arguments(
                namespace: h.namespace, mode: "dhcp-discover", interface: h.interface, interval: 1, extra: [])
            let pid = try LabFaultBackground.start(
                lab: topology.name, fault: fault, namespace: h.namespace, mode: "dhcp-discover",
                interface: h.interface, interval: 1, extra: [])
            shell.record(summarize(command) + " &   (pid \(pid))")
            undo = ["kill \(pid)"]
            notes.append("the lab runs no DHCP server, so no DHCPOFFER ever comes back")

        case .upstreamMACFilter:
            let h = host(port)
            guard h.namespace != topology.lanNamespace else {
                throw UserError("upstream_mac_filter needs a VM port: the gateway would filter its own MAC")
            }
            // The gateway plays the physical switch with port security: a netdev ingress
            // hook on its interface sees frames before anything else on that side.
            let lan = topology.gateway
            let ns = lan.namespace
            try shell.nftDropRule(namespace: ns, family: "netdev", chain: "ingress",
                                  hook: "ingress device \(lan.interface)", match: ["ether", "saddr", h.mac])
            undo = ["ip netns exec \(ns) nft delete table netdev \(nftTable)"]
            notes.append("frames from \(h.label) (\(h.mac)) die on the gateway side; the other hosts still reach it")

        case .hostFirewallDrop:
            // The host is the bridge's namespace, where br0 holds its address.
            try shell.nftDropRule(namespace: br, family: "inet", chain: "input", hook: "input",
                                  match: ["icmp", "type", "echo-request"])
            undo = ["ip netns exec \(br) nft delete table inet \(nftTable)"]
            notes.append("try: ip netns exec \(topology.vm(1).namespace) ping -c 3 \(topology.hostIP)")

        case .brNetfilterDrop:
            // br_netfilter is a module on most kernels (built in on some): its sysctls appear once loaded.
            if !FileManager.default.fileExists(atPath: "/proc/sys/net/bridge") {
                try shell.run(["modprobe", "br_netfilter"])
            }
            try shell.run(["ip", "netns", "exec", br, "sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"])
            try shell.run(["ip", "netns", "exec", br, "iptables", "-P", "FORWARD", "DROP"])
            undo = ["ip netns exec \(br) iptables -P FORWARD ACCEPT",
                    "ip netns exec \(br) sysctl -w net.bridge.bridge-nf-call-iptables=0"]
            notes.append("bridged IPv4 now goes through iptables' FORWARD chain, whose policy drops it; ARP still passes. "
                         + "try: ip netns exec \(topology.vm(1).namespace) ping -c 3 \(topology.gatewayIP)")

        case .portFloodOff:
            let h = host(port)
            guard h.namespace != topology.lanNamespace else {
                throw UserError("port_flood_off needs a VM port: its guest changes its MAC")
            }
            var octets = h.mac.split(separator: ":").compactMap { UInt8($0, radix: 16) }
            octets[5] ^= Self.changedMACOffset
            let changed = octets.map { String(format: "%02x", $0) }.joined(separator: ":")
            try shell.run(["ip", "netns", "exec", br, "bridge", "link", "set", "dev", h.port, "flood", "off", "learning", "off"])
            try shell.run(["ip", "-n", h.namespace, "link", "set", h.interface, "address", changed])
            try shell.run(["ip", "netns", "exec", br, "bridge", "fdb", "flush", "dev", topology.bridgeName, "dynamic"])
            for ns in topology.namespaces { try shell.run(["ip", "-n", ns, "neigh", "flush", "all"]) }
            undo = ["ip netns exec \(br) bridge link set dev \(h.port) flood on learning on",
                    "ip -n \(h.namespace) link set \(h.interface) address \(h.mac)"]
            notes.append("\(h.label) is now \(changed), which the bridge never learns at \(h.port) and never floods to; "
                         + "try: ip netns exec \(topology.vm(1).namespace) ping -c 3 \(h.ip)")

        case .subnetMismatch:
            let h = host(port)
            guard h.namespace != topology.lanNamespace else {
                throw UserError("subnet_mismatch needs a VM port: the gateway defines the segment's subnet")
            }
            let last = h.ip.split(separator: ".").last ?? "11"
            let stray = "\(Self.strayPrefix).\(last)"
            try shell.run(["ip", "-n", h.namespace, "addr", "flush", "dev", h.interface])
            try shell.run(["ip", "-n", h.namespace, "addr", "add", "\(stray)/24", "dev", h.interface])
            try shell.run(["ip", "-n", h.namespace, "route", "replace", "default", "via", "\(Self.strayPrefix).1"])
            undo = ["ip -n \(h.namespace) addr flush dev \(h.interface)",
                    "ip -n \(h.namespace) addr add \(topology.cidr(h.ip)) dev \(h.interface)",
                    "ip -n \(h.namespace) route replace default via \(topology.gatewayIP)"]
            notes.append("\(h.label) is now \(stray)/24 with gateway \(Self.strayPrefix).1, which nobody has; "
                         + "try: ip netns exec \(h.namespace) ping -c 3 \(Self.strayPrefix).1")

        case .dhcpMultipleServers:
            let rogue = host(port)
            let client = topology.vm(1)
            guard rogue.namespace != topology.lanNamespace, rogue.namespace != client.namespace else {
                throw UserError(
                    "dhcp_multiple_servers needs a VM port other than the client's (\(client.port)) for the rogue server "
                        + "(a lab with 2 VMs or more)")
            }
            let servers: [(role: String, host: LabTopology.Host, offered: String)] = [
                ("server", topology.gateway, "198.18.0.100"), ("rogue", rogue, "198.18.0.200"),
            ]
            for server in servers {
                let extra = [server.host.ip, server.offered]
                let command = LabFaultBackground.arguments(
                    namespace: server.host.namespace, mode: "dhcp-server", interface: server.host.interface,
                    interval: 0, extra: extra)
                let pid = try LabFaultBackground.start(
                    lab: topology.name, fault: fault, role: server.role, namespace: server.host.namespace,
                    mode: "dhcp-server", interface: server.host.interface, interval: 0, extra: extra)
                shell.record(summarize(command) + " &   (pid \(pid))")
                undo.append("kill \(pid)")
            }
            let command = LabFaultBackground.arguments(
                namespace: client.namespace, mode: "dhcp-discover", interface: client.interface, interval: 1, extra: [])
            let pid = try LabFaultBackground.start(
                lab: topology.name, fault: fault, role: "client", namespace: client.namespace, mode: "dhcp-discover",
                interface: client.interface, interval: 1, extra: [])
            shell.record(summarize(command) + " &   (pid \(pid))")
            undo.append("kill \(pid)")
            notes.append("\(client.label)'s DISCOVERs get two OFFERs: 198.18.0.100 from \(topology.gatewayIP) (behind "
                         + "\(topology.uplinkPort)) and 198.18.0.200 from \(rogue.ip) (behind \(rogue.port))")
        }
        return LabFaultReport(
            lab: topology.name, fault: fault, port: port, commands: shell.log, undo: undo, notes: notes)
    }

    /// Removes every fault from lab `name`: stops the background senders and puts every
    /// port, host and namespace back as `lab up` built it.
    @discardableResult
    public static func clear(lab name: String) throws -> LabFaultClearReport {
        let topology = try labTopology(name)
        let runner = CommandRunner()
        let br = topology.bridgeNamespace
        var removed = LabFaultBackground.stopAll(lab: topology.name)

        // Deletions that may find nothing to delete: their success says something was there.
        func delete(_ arguments: [String], _ what: String) throws {
            if try runner.result(arguments).succeeded { removed.append(what) }
        }
        try delete(["ip", "netns", "exec", br, "nft", "delete", "table", "bridge", nftTable],
                   "nft table bridge \(nftTable) in \(br)")
        try delete(["ip", "netns", "exec", br, "nft", "delete", "table", "inet", nftTable],
                   "nft table inet \(nftTable) in \(br) (the host's firewall)")
        // br_netfilter_drop: the FORWARD policy back to ACCEPT, in whichever iptables set it.
        for tool in ["iptables", "iptables-legacy"] where Executable.find(tool) != nil {
            let policy = try runner.result(["ip", "netns", "exec", br, tool, "-S", "FORWARD"])
            if policy.succeeded && policy.stdout.contains("-P FORWARD DROP") {
                try runner.run(["ip", "netns", "exec", br, tool, "-P", "FORWARD", "ACCEPT"])
                removed.append("\(tool) FORWARD policy DROP in \(br)")
            }
        }
        let victim = topology.vm(1)
        // A QEMU guest has no namespace to repair; a stopped one is booted again.
        for (index, h) in topology.vms.enumerated() where isQEMUGuest(h) {
            if QEMUGuest.runningPid(lab: topology.name, vm: index + 1) == nil {
                try QEMUGuest.start(QEMUGuest.Config(topology: topology, vm: index + 1))
                removed.append("stopped QEMU guest vm\(index + 1) (booted again)")
            }
        }
        for h in topology.vms + [topology.gateway] where !isQEMUGuest(h) {
            let ns = h.namespace
            try runner.run(["ip", "-n", ns, "link", "set", h.interface, "address", h.mac, "mtu", "1500", "up"])
            // subnet_mismatch moved it: its own address back (replace keeps an unchanged one).
            let addresses = try runner.run(["ip", "-n", ns, "-4", "-o", "addr", "show", "dev", h.interface])
            if addresses.contains(" \(Self.strayPrefix).") {
                try runner.run(["ip", "-n", ns, "addr", "flush", "dev", h.interface])
                removed.append("the \(Self.strayPrefix).0/24 address of \(h.label)")
            }
            try runner.run(["ip", "-n", ns, "addr", "replace", topology.cidr(h.ip), "dev", h.interface])
            try runner.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=0"])
            try delete(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", nftTable],
                       "nft table inet \(nftTable) in \(ns)")
            try delete(["ip", "netns", "exec", ns, "nft", "delete", "table", "netdev", nftTable],
                       "nft table netdev \(nftTable) in \(ns)")
            try delete(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", h.interface, "clsact"],
                       "tc clsact qdisc (VLAN tagger) on \(h.interface) in \(ns)")
            if ns != victim.namespace {
                try delete(["ip", "-n", ns, "addr", "del", topology.cidr(victim.ip), "dev", h.interface],
                           "\(victim.ip) from \(h.interface) in \(ns)")
            }
            // A host whose link went down lost its default route with it.
            if h.ip != topology.gatewayIP {
                try runner.run(["ip", "-n", ns, "route", "replace", "default", "via", topology.gatewayIP])
            }
        }
        // Ports after hosts: a port without carrier refuses a state change ("Network is
        // down"); it is disabled then, and the kernel makes it forwarding again (STP off)
        // when carrier returns, so that failure is harmless.
        for p in topology.bridgePorts {
            try runner.run(["ip", "-n", br, "link", "set", p, "mtu", "1500", "up"])
            try runner.run(["ip", "netns", "exec", br, "bridge", "link", "set", "dev", p, "isolated", "off",
                            "flood", "on", "learning", "on"])
            _ = try runner.result(["ip", "netns", "exec", br, "bridge", "link", "set", "dev", p, "state", "3"])
        }
        // Spoofed, conflicting or cloned answers linger in caches; start them afresh.
        for ns in topology.namespaces {
            try runner.run(["ip", "-n", ns, "neigh", "flush", "all"])
        }
        try runner.run(["ip", "netns", "exec", br, "bridge", "fdb", "flush", "dev", topology.bridgeName, "dynamic"])
        return LabFaultClearReport(lab: topology.name, removed: removed)
    }

    /// Stops lab `name`'s background fault senders and removes its state directory; `lab
    /// down` calls this before deleting the namespaces. Returns what it stopped.
    @discardableResult
    public static func stopBackground(lab name: String) -> [String] {
        LabFaultBackground.stopAll(lab: name)
    }

    /// The pid of fault's running background sender in lab `name` (arp_spoofing,
    /// dhcp_unanswered; dhcp_multiple_servers has roles server, rogue, client), or nil.
    public static func backgroundPid(of fault: LabFault, lab name: String, role: String = "") -> Int32? {
        LabFaultBackground.runningPid(lab: name, fault: fault, role: role)
    }

    // MARK: Helpers

    static func labTopology(_ name: String) throws -> LabTopology {
        try LabTopology.validate(name: name)
        guard geteuid() == 0 else {
            throw UserError("lab fault needs root (it changes links in network namespaces); run it with sudo")
        }
        guard let status = try LabStatus.read(name: name, runner: CommandRunner()) else {
            throw UserError("lab \(name) is not up; start it with `bridgetrace lab up --name \(name)`")
        }
        guard status.isComplete else {
            throw UserError(
                "lab \(name) is incomplete (netns \(status.missingNamespaces.joined(separator: ", ")) missing); "
                    + "run `bridgetrace lab down --name \(name)` and bring it up again")
        }
        return status.topology
    }

    private static func checkPort(_ port: String, in topology: LabTopology) throws -> String {
        guard topology.bridgePorts.contains(port) else {
            throw UserError(
                "lab \(topology.name) has no port '\(port)'; ports: \(topology.bridgePorts.joined(separator: ", "))")
        }
        return port
    }

    /// A VM whose port is a tap to a QEMU guest has no namespace of its own.
    static func isQEMUGuest(_ host: LabTopology.Host) -> Bool {
        !FileManager.default.fileExists(atPath: "/var/run/netns/\(host.namespace)")
    }

    private static func hostBehind(_ port: String, in topology: LabTopology) -> LabTopology.Host {
        (topology.vms + [topology.gateway]).first { $0.port == port } ?? topology.gateway
    }

    private static func pingTarget(for host: LabTopology.Host, in topology: LabTopology) -> String {
        host.ip == topology.gatewayIP ? topology.vmIP(1) : topology.gatewayIP
    }

    /// The sender's command line without the script body, for printing.
    private static func summarize(_ arguments: [String]) -> String {
        var shown = arguments
        if let i = shown.firstIndex(of: "-c"), i + 1 < shown.count { shown[i + 1] = "<sender script>" }
        return shown.joined(separator: " ")
    }
}

/// Runs commands strictly and keeps them, as typed, for the report.
private struct FaultShell {
    var log: [String] = []
    let runner = CommandRunner()

    mutating func run(_ arguments: [String]) throws {
        log.append(arguments.map(quote).joined(separator: " "))
        // `tc filter del` with no filter yet fails with ENOENT on some iproute2 versions.
        if arguments.contains("filter") && arguments.contains("del") {
            _ = try runner.result(arguments)
            return
        }
        try runner.run(arguments)
    }

    mutating func record(_ line: String) { log.append(line) }

    /// A fresh `nft` table LabFaults.nftTable of `family` in `namespace` with one chain
    /// on `hook` and one rule that drops what `match` matches. Add-then-delete makes a
    /// second injection replace the first instead of adding a rule.
    mutating func nftDropRule(namespace ns: String, family: String, chain: String, hook: String,
                              match: [String]) throws {
        let nft = ["ip", "netns", "exec", ns, "nft"]
        try run(nft + ["add", "table", family, LabFaults.nftTable])
        try run(nft + ["delete", "table", family, LabFaults.nftTable])
        try run(nft + ["add", "table", family, LabFaults.nftTable])
        try run(nft + ["add", "chain", family, LabFaults.nftTable, chain,
                       "{ type filter hook \(hook) priority 0 ; policy accept ; }"])
        try run(nft + ["add", "rule", family, LabFaults.nftTable, chain] + match + ["counter", "drop"])
    }

    private func quote(_ word: String) -> String {
        word.contains(" ") || word.contains(";") ? "'\(word)'" : word
    }
}
