import BridgeTraceCore
import BridgeTraceProcess
import Foundation

/// What exists of a lab right now: its namespaces and the interfaces inside them.
public struct LabStatus: Sendable, Equatable {
    /// One interface in a lab namespace, as `ip -j -d addr show` reports it (loopback left out).
    public struct Interface: Sendable, Equatable {
        public var namespace: String
        public var name: String
        /// The kernel's operstate: "UP", "DOWN", "LOWERLAYERDOWN", ...
        public var state: String
        public var mac: String
        /// "198.18.0.11/24" and, with --ipv6, IPv6 addresses too.
        public var addresses: [String]
        /// The bridge the interface is a port of, if any.
        public var master: String?
        /// The port's STP state ("forwarding", "disabled", ...) when it is a bridge port.
        public var portState: String?
        /// The link kind: "veth", "bridge", "tun" (a QEMU guest's tap), ...
        public var kind: String? = nil
    }

    public var name: String
    /// The topology as `up` recorded it in br0's alias; when the bridge namespace is gone, the
    /// one the VM namespaces imply (VMs up to the highest number found).
    public var topology: LabTopology
    public var presentNamespaces: [String]
    /// Namespaces the topology expects that do not exist: a lab half taken down, or damaged.
    public var missingNamespaces: [String]
    public var interfaces: [Interface]
    /// VMs that are QEMU guests: their port in the bridge namespace is a tap, and they have
    /// no namespace of their own (`lab up --vm-kind qemu`).
    public var qemuVMs: [Int] = []

    public var isComplete: Bool { missingNamespaces.isEmpty }

    /// Reads the lab's state, or returns nil when none of its namespaces exist.
    static func read(name: String, runner: CommandRunner) throws -> LabStatus? {
        let present = LabNamespaces.owned(by: name)
        guard !present.isEmpty else { return nil }
        var interfaces: [Interface] = []
        var recordedVMs: Int?
        for namespace in present {
            let json = try runner.run(["ip", "-n", namespace, "-j", "-d", "addr", "show"])
            let (found, alias) = try parseInterfaces(json, namespace: namespace)
            interfaces += found
            if namespace == "\(name)-br" { recordedVMs = alias.flatMap(vmCount(fromAlias:)) }
        }
        // Without the bridge's alias, assume VMs up to the highest-numbered namespace found.
        let highestVM = present.compactMap { LabTopology.vmIndex(ofNamespace: $0, labName: name) }.max() ?? 1
        let vms = min(max(recordedVMs ?? highestVM, 1), LabTopology.maxVMCount)
        let topology = try LabTopology(name: name, vms: vms)
        let guests = topology.vmIndices.filter { i in
            interfaces.contains {
                $0.namespace == topology.bridgeNamespace && $0.name == topology.vmPort(i) && $0.kind == "tun"
            }
        }
        let guestNamespaces = guests.map(topology.vmNamespace)
        return LabStatus(
            name: name, topology: topology, presentNamespaces: present,
            missingNamespaces: topology.namespaces.filter { !present.contains($0) && !guestNamespaces.contains($0) },
            interfaces: interfaces, qemuVMs: guests)
    }

    private static let aliasPrefix = "bridgetrace lab, vms="

    /// The alias `up` gives br0: "bridgetrace lab, vms=2".
    static func bridgeAlias(vms: Int) -> String { aliasPrefix + String(vms) }

    static func vmCount(fromAlias alias: String) -> Int? {
        guard alias.hasPrefix(aliasPrefix) else { return nil }
        return Int(alias.dropFirst(aliasPrefix.count))
    }

    /// Parses `ip -j -d addr show` output into interfaces and the alias of the lab bridge, if any.
    static func parseInterfaces(
        _ json: String, namespace: String
    ) throws -> (interfaces: [Interface], bridgeAlias: String?) {
        let links: [IPLink]
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            links = try decoder.decode([IPLink].self, from: Data(json.utf8))
        } catch {
            throw UserError("cannot read `ip -n \(namespace) -j addr show` output: \(error)")
        }
        let alias = links.first { $0.linkinfo?.infoKind == "bridge" }?.ifalias
        let interfaces = links.filter { $0.ifname != "lo" }.map { link in
            Interface(
                namespace: namespace, name: link.ifname, state: link.operstate ?? "?",
                mac: link.address ?? "",
                addresses: (link.addrInfo ?? []).compactMap { info in
                    guard let local = info.local, let prefix = info.prefixlen else { return nil }
                    return "\(local)/\(prefix)"
                },
                master: link.master,
                portState: link.linkinfo?.infoSlaveKind == "bridge" ? link.linkinfo?.infoSlaveData?.state : nil,
                kind: link.linkinfo?.infoKind)
        }
        return (interfaces, alias)
    }

    /// The fields of iproute2's JSON that status shows (decoded from snake_case).
    private struct IPLink: Decodable {
        struct AddrInfo: Decodable {
            var local: String?
            var prefixlen: Int?
        }
        struct LinkInfo: Decodable {
            struct SlaveData: Decodable { var state: String? }
            var infoKind: String?
            var infoSlaveKind: String?
            var infoSlaveData: SlaveData?
        }
        var ifname: String
        var operstate: String?
        var address: String?
        var master: String?
        var ifalias: String?
        var addrInfo: [AddrInfo]?
        var linkinfo: LinkInfo?
    }
}

extension LabStatus {
    /// The text `bridgetrace lab status` prints: the address plan, then one row per interface.
    public var text: String {
        var lines: [String] = []
        if isComplete {
            lines.append(topology.summary)
        } else {
            lines.append(
                "lab \(name) is incomplete: netns \(missingNamespaces.joined(separator: ", ")) missing; "
                    + "run `bridgetrace lab down --name \(name)` and bring it up again")
        }
        lines.append("")
        let header = ["netns", "interface", "state", "mac", "bridge port", "addresses"]
        let rows = interfaces.map { interface in
            [
                interface.namespace, interface.name, interface.state, interface.mac,
                interface.master.map { "\($0) \(interface.portState ?? "")" } ?? "",
                interface.addresses.joined(separator: " "),
            ]
        }
        lines += TextTable.render([header] + rows)
        return lines.joined(separator: "\n")
    }
}
