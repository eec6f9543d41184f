import BridgeTraceCore
import BridgeTraceProcess
import Foundation

/// How the lab is built, beyond its topology; the topology's names and addresses stay the same.
public struct LabOptions: Sendable, Equatable {
    /// What VM 1 is: a namespace behind a veth, or a real QEMU guest behind a tap.
    public enum VMKind: String, Sendable, Equatable, CaseIterable {
        case veth, qemu
    }

    /// Keep IPv6 on in the lab namespaces. Off by default: IPv6 sends router solicitations,
    /// MLD reports and DAD probes on its own, and those would show up in every counter.
    public var ipv6: Bool
    /// With `.qemu`, VM 1 is a QEMU guest on tap port vm1 (no vm1 namespace); the other VMs
    /// stay veth namespaces.
    public var vmKind: VMKind
    /// The QEMU guest's `bt.send`: "A.B.C.D:PORT:MB", bulk TCP out of the guest.
    public var guestSend: String?

    public init(ipv6: Bool = false, vmKind: VMKind = .veth, guestSend: String? = nil) {
        self.ipv6 = ipv6
        self.vmKind = vmKind
        self.guestSend = guestSend
    }

    /// The VMs that are QEMU guests rather than namespaces.
    public func qemuVMs(in topology: LabTopology) -> [Int] {
        vmKind == .qemu ? [1] : []
    }
}

/// Something that runs a command and returns its stdout, throwing on failure. Tests swap in a
/// runner that fails on purpose to check that a half-built lab is removed.
protocol CommandRunning: Sendable {
    @discardableResult
    func run(_ arguments: [String]) throws -> String
}

extension CommandRunner: CommandRunning {}

/// Builds a lab from its topology with `ip` and `sysctl`, all-or-nothing: when a step fails,
/// every namespace it created is deleted again (deleting a namespace takes its veths with it).
struct LabBuilder {
    let topology: LabTopology
    let options: LabOptions
    let runner: any CommandRunning
    var isCancelled: @Sendable () -> Bool = { false }

    func build() throws {
        var created: [String] = []
        let guests = options.qemuVMs(in: topology)
        do {
            for namespace in topology.namespaces where !guests.map(topology.vmNamespace).contains(namespace) {
                try ip("netns", "add", namespace)
                created.append(namespace)
                try prepare(namespace)
            }
            try addBridge()
            for i in topology.vmIndices where !guests.contains(i) {
                try addPort(host: topology.vm(i))
            }
            try addPort(host: topology.gateway)
            // Last: the guest boots for seconds, and everything else is ready to talk to it.
            for i in guests {
                var guest = QEMUGuest.Config(topology: topology, vm: i, ipv6: options.ipv6)
                guest.send = options.guestSend
                try QEMUGuest.start(guest, isCancelled: isCancelled)
            }
        } catch {
            let failure = (error as? any OperatorError)?.message ?? "\(error)"
            QEMUGuest.stopAll(lab: topology.name)  // before the namespaces: QEMU holds its tap
            let leftovers = removeQuietly(created)
            var message = "could not bring lab \(topology.name) up: \(failure)."
            if leftovers.isEmpty {
                message += " Removed the namespaces it had created."
            } else {
                message += " Could not remove \(leftovers.joined(separator: ", "));"
                    + " run `bridgetrace lab down --name \(topology.name)`."
            }
            throw UserError(message)
        }
    }

    /// Quiet before any link exists: `default.disable_ipv6` only applies to links made later.
    private func prepare(_ namespace: String) throws {
        if !options.ipv6 && Self.kernelHasIPv6 {
            try runner.run([
                "ip", "netns", "exec", namespace, "sysctl", "-q", "-w",
                "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
            ])
        }
        try ip("-n", namespace, "link", "set", "lo", "up")
    }

    /// br0 with a fixed MAC (so it does not follow the lowest port MAC), STP off, so ports
    /// forward at once, and multicast snooping off, so the bridge sends no queries of its own.
    private func addBridge() throws {
        let ns = topology.bridgeNamespace
        let bridge = topology.bridgeName
        try ip(
            "-n", ns, "link", "add", bridge, "address", topology.bridgeMAC,
            "type", "bridge", "stp_state", "0", "mcast_snooping", "0")
        // The alias records the VM count in the lab itself, so `status` can tell a missing VM
        // namespace from a smaller lab without a state file that could go stale.
        try ip("-n", ns, "link", "set", bridge, "alias", LabStatus.bridgeAlias(vms: topology.vmCount))
        try ip("-n", ns, "addr", "add", topology.cidr(topology.hostIP), "dev", bridge)
        try ip("-n", ns, "link", "set", bridge, "up")
    }

    /// A veth pair made inside the bridge namespace with its peer placed straight into the
    /// host's namespace, so no interface ever appears in the root namespace.
    private func addPort(host: LabTopology.Host) throws {
        let ns = topology.bridgeNamespace
        try ip(
            "-n", ns, "link", "add", host.port, "address", host.portMAC, "type", "veth",
            "peer", "name", host.interface, "address", host.mac, "netns", host.namespace)
        try ip("-n", ns, "link", "set", host.port, "master", topology.bridgeName)
        try ip("-n", ns, "link", "set", host.port, "up")
        try ip("-n", host.namespace, "addr", "add", topology.cidr(host.ip), "dev", host.interface)
        try ip("-n", host.namespace, "link", "set", host.interface, "up")
        if host.ip != topology.gatewayIP {
            try ip("-n", host.namespace, "route", "add", "default", "via", topology.gatewayIP)
        }
    }

    private func ip(_ arguments: String...) throws {
        try runner.run(["ip"] + arguments)
    }

    /// Deletes `namespaces`, ignoring failures; returns the ones still there.
    private func removeQuietly(_ namespaces: [String]) -> [String] {
        namespaces.reversed().filter { namespace in
            (try? runner.run(["ip", "netns", "del", namespace])) == nil
        }
    }

    /// Without IPv6 in the kernel the sysctls do not exist, and there is nothing to quiet.
    private static var kernelHasIPv6: Bool {
        FileManager.default.fileExists(atPath: "/proc/sys/net/ipv6/conf/all/disable_ipv6")
    }
}
