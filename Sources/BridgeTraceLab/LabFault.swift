import BridgeTraceCore

/// The faults `bridgetrace lab fault NAME` can inject: one per fault class of FAULTS.md,
/// named by the cause code `diagnose` reports for it.
public enum LabFault: String, CaseIterable, Sendable, Equatable {
    case netfilterDrop = "netfilter_drop"
    case stpNotForwarding = "stp_not_forwarding"
    case portDown = "port_down"
    case noCarrier = "no_carrier"
    case mtuMismatch = "mtu_mismatch"
    case portIsolated = "port_isolated"
    case arpUnanswered = "arp_unanswered"
    case icmpUnanswered = "icmp_unanswered"
    case vlanMismatch = "vlan_mismatch"
    case ipConflict = "ip_conflict"
    case macFlapping = "mac_flapping"
    case arpSpoofing = "arp_spoofing"
    case dhcpUnanswered = "dhcp_unanswered"
    case upstreamMACFilter = "upstream_mac_filter"
    case dhcpMultipleServers = "dhcp_multiple_servers"
    case hostFirewallDrop = "host_firewall_drop"
    case brNetfilterDrop = "br_netfilter_drop"
    case portFloodOff = "port_flood_off"
    case subnetMismatch = "subnet_mismatch"

    /// The cause `diagnose` should report for this fault.
    public var cause: CauseCode { CauseCode(rawValue: rawValue)! }

    /// One line for `lab fault list`; PORT is the port the fault lands on.
    public var summary: String {
        switch self {
        case .netfilterDrop:
            return "nft table bridge bridgetrace_fault drops forwarded ICMP echo requests (out of PORT if --port)"
        case .stpNotForwarding: return "bridge port PORT in STP state disabled (bridge link set dev PORT state 0)"
        case .portDown: return "bridge port PORT administratively down (ip link set PORT down)"
        case .noCarrier: return "the host behind PORT takes its eth0 down, so PORT loses carrier (a stopped VM)"
        case .mtuMismatch: return "PORT and its host at MTU 9000, every other port at 1500"
        case .portIsolated: return "isolated on: every port, or PORT and the uplink with --port"
        case .arpUnanswered: return "the host behind PORT stops answering ARP (arp_ignore=8)"
        case .icmpUnanswered: return "a firewall in the host behind PORT drops ICMP echo requests (nft inet table)"
        case .vlanMismatch: return "the host behind PORT tags every frame it sends with VLAN 100 (tc egress BPF)"
        case .ipConflict: return "the host behind PORT also takes vm1's IP address"
        case .macFlapping: return "the host behind PORT takes vm1's MAC address (a cloned VM)"
        case .arpSpoofing: return "the host behind PORT sends gratuitous ARP replies claiming the gateway's IP every 0.5 s"
        case .dhcpUnanswered: return "the host behind PORT sends a DHCPDISCOVER every second; the lab runs no DHCP server"
        case .upstreamMACFilter:
            return "the gateway drops every frame from PORT's host's MAC (nft netdev ingress: port security upstream)"
        case .dhcpMultipleServers:
            return "DHCP servers on the gateway and (rogue) in the host behind PORT; vm1 sends a DHCPDISCOVER every second"
        case .hostFirewallDrop:
            return "the host's own firewall (the bridge's namespace, nft inet table, hook input) drops ICMP echo requests"
        case .brNetfilterDrop:
            return "bridge-nf-call-iptables=1 and iptables -P FORWARD DROP in the bridge's namespace (what Docker does)"
        case .portFloodOff:
            return "PORT gets flood off and learning off (libvirt's macTableManager), and its host changes its MAC"
        case .subnetMismatch:
            return "the host behind PORT moves to 198.18.1.0/24 (gateway 198.18.1.1), a subnet nobody else on the bridge uses"
        }
    }

    /// The port a fault lands on when `--port` is not given; nil when it is bridge-wide.
    public func defaultPort(in topology: LabTopology) -> String? {
        switch self {
        case .netfilterDrop, .portIsolated, .hostFirewallDrop, .brNetfilterDrop: return nil
        case .portFloodOff: return topology.vmCount >= 2 ? topology.vmPort(2) : topology.vmPort(1)
        case .subnetMismatch: return topology.vmPort(1)
        case .stpNotForwarding, .portDown, .arpUnanswered, .icmpUnanswered: return topology.uplinkPort
        case .noCarrier, .mtuMismatch, .vlanMismatch, .dhcpUnanswered, .upstreamMACFilter: return topology.vmPort(1)
        case .dhcpMultipleServers: return topology.vmCount >= 2 ? topology.vmPort(2) : topology.vmPort(1)
        case .ipConflict, .macFlapping, .arpSpoofing:
            // Someone other than vm1 (the victim) and, for spoofing, other than the gateway.
            return topology.vmCount >= 2 ? topology.vmPort(2) : (self == .arpSpoofing ? topology.vmPort(1) : topology.uplinkPort)
        }
    }

    /// How `lab fault list` names the default port.
    public var defaultPortDescription: String {
        switch self {
        case .netfilterDrop: return "all ports"
        case .portIsolated: return "all ports"
        case .stpNotForwarding, .portDown, .arpUnanswered, .icmpUnanswered: return "uplink"
        case .noCarrier, .mtuMismatch, .vlanMismatch, .dhcpUnanswered, .upstreamMACFilter: return "vm1"
        case .dhcpMultipleServers: return "vm2 (needs 2 VMs)"
        case .ipConflict, .macFlapping: return "vm2 (uplink in a 1-VM lab)"
        case .arpSpoofing: return "vm2 (vm1 in a 1-VM lab)"
        case .hostFirewallDrop: return "the bridge host"
        case .brNetfilterDrop: return "all ports"
        case .portFloodOff: return "vm2 (vm1 in a 1-VM lab)"
        case .subnetMismatch: return "vm1"
        }
    }

    /// A fault name as typed on the command line, or a UserError listing the names.
    public static func named(_ name: String) throws -> LabFault {
        guard let fault = LabFault(rawValue: name) else {
            throw UserError(
                "unknown fault '\(name)'; faults: \(allCases.map(\.rawValue).joined(separator: ", "))"
                    + " (see `bridgetrace lab fault list`)")
        }
        return fault
    }

    /// The text of `bridgetrace lab fault list`.
    public static var listText: String {
        let rows = allCases.map { [$0.rawValue, "[\($0.defaultPortDescription)]", $0.summary] }
        return (["faults (NAME [default PORT] what it does); inject with `bridgetrace lab fault NAME [--port PORT]`,"
            + " remove all with `bridgetrace lab fault clear`:"]
            + TextTable.render(rows, indent: "  ")).joined(separator: "\n")
    }
}

/// What `lab fault NAME` did, and how to undo it.
public struct LabFaultReport: Sendable, Equatable {
    public var lab: String
    public var fault: LabFault
    /// The port it landed on, nil when bridge-wide.
    public var port: String?
    /// The commands run, as an operator would type them.
    public var commands: [String]
    /// Commands that undo just this fault (`lab fault clear` undoes every fault).
    public var undo: [String]
    public var notes: [String]

    public var text: String {
        var lines = ["injected \(fault.rawValue) into lab \(lab)" + (port.map { " at port \($0)" } ?? "") + ":"]
        lines += commands.map { "  \($0)" }
        lines += notes.map { "note: \($0)" }
        lines.append("undo: bridgetrace lab fault clear --name \(lab)   (or by hand:)")
        lines += undo.map { "  \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// What `lab fault clear` did.
public struct LabFaultClearReport: Sendable, Equatable {
    public var lab: String
    /// Things that were found and removed (tables, processes, tc programs, addresses).
    public var removed: [String]

    public var text: String {
        var lines = ["lab \(lab): cleared faults; every port forwarding, up, not isolated, flooding and learning, MTU 1500;"
            + " every host up, with its own MAC and address, arp_ignore 0, neighbour caches flushed"]
        if removed.isEmpty {
            lines.append("nothing else was in place")
        } else {
            lines += removed.map { "removed: \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}
