import BridgeTraceLab
import Foundation
import Testing

/// The host's side and the segment, on a real lab with real traffic sent while diagnose
/// watches, exact evidence counts: the host's own firewall, iptables through br_netfilter
/// (iptables-nft and iptables-legacy), a flood-off port whose guest changed its MAC, a VM in
/// another subnet, quiet senders (one ARP request: arping -c 1), and no false alarm on the
/// healthy lab, run after run.
@Suite(.serialized) struct DiagnoseHostAndSegmentTests {
    /// Starts diagnose, runs `traffic` once it is attached, and returns its JSON report.
    static func diagnose(_ lab: LabTopology, seconds: Int = 5, traffic: () throws -> Void) throws -> [String: Any] {
        let diagnose = try BackgroundBridgetrace(["diagnose", lab.bridgeName, "--netns", lab.bridgeNamespace,
                                                  "--duration", String(seconds), "--json"])
        try diagnose.waitUntilReady()
        try traffic()
        try diagnose.waitForStdout("the report", timeout: Double(seconds) + 20) { $0.hasSuffix("}\n") }
        _ = try diagnose.stop()
        return try #require(try JSONSerialization.jsonObject(with: Data(diagnose.stdout.utf8)) as? [String: Any],
                            "stdout: \(diagnose.stdout) stderr: \(diagnose.stderr)")
    }

    static func findings(_ report: [String: Any]) -> [[String: Any]] { report["findings"] as? [[String: Any]] ?? [] }

    static func summary(_ report: [String: Any]) -> String {
        findings(report).map { "\($0["cause"] ?? "?")@\($0["port"] ?? "null")" }.joined(separator: ", ")
    }

    /// The report's only finding, which must be `cause` at `port`.
    static func only(_ report: [String: Any], _ cause: String, at port: String?,
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> (evidence: [String], fix: String, summary: String) {
        let all = findings(report)
        #expect(all.count == 1, "\(summary(report))", sourceLocation: sourceLocation)
        let finding = try #require(all.first { $0["cause"] as? String == cause }, "\(summary(report))", sourceLocation: sourceLocation)
        #expect(finding["port"] as? String == port, "\(summary(report))", sourceLocation: sourceLocation)
        return (finding["evidence"] as? [String] ?? [], finding["fix"] as? String ?? "", finding["summary"] as? String ?? "")
    }

    static func ping(_ lab: LabTopology, from vm: Int, _ target: String, count: Int, interval: Double = 0.3) {
        _ = try? runResult(["ip", "netns", "exec", lab.vmNamespace(vm), "ping", "-c", String(count), "-i", String(interval),
                            "-W", "1", target])
    }

    static func arpingOnce(_ namespace: String, _ target: String) throws {
        _ = try runResult(["ip", "netns", "exec", namespace, "arping", "-c", "1", "-w", "1", "-I", "eth0", target])
    }

    @Test func hostFirewallDropAtTheBridgesOwnInterface() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            _ = try LabFaults.inject(.hostFirewallDrop, lab: lab.name)
            let report = try Self.diagnose(lab) { Self.ping(lab, from: 1, lab.hostIP, count: 4) }
            let finding = try Self.only(report, "host_firewall_drop", at: lab.bridgeName)
            #expect(finding.evidence.first?.hasPrefix("4 drops NETFILTER_DROP in nft_do_chain on br0 (skb->dev)") == true,
                    "\(finding.evidence)")
            #expect(finding.evidence.contains("4 of these frames left the bridge at br0 (tx): delivered to the host, then dropped in its input path"))
            #expect(finding.evidence.contains("can drop: table inet \(LabFaults.nftTable), chain input (hook input): 1 rule that drops"))
            #expect(finding.fix.hasPrefix("nft -a list chain inet \(LabFaults.nftTable) input"))
            #expect(finding.summary.contains("enter at vm1"))
        }
    }

    /// The host answers nothing and nothing is dropped: icmp_echo_ignore_all in its namespace.
    @Test func aHostThatIgnoresPingsIsIcmpUnansweredAtItsPort() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try exec(inNetns: lab.bridgeNamespace, ["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=1"])
            // Unanswered echo requests must span 2 s before they count.
            let report = try Self.diagnose(lab, seconds: 6) { Self.ping(lab, from: 1, lab.hostIP, count: 4, interval: 0.8) }
            let finding = try Self.only(report, "icmp_unanswered", at: lab.bridgeName)
            #expect(finding.evidence.first?.hasPrefix("4 echo requests from 198.18.0.11 to \(lab.hostIP)") == true, "\(finding.evidence)")
            #expect(finding.evidence.first?.hasSuffix("entering at vm1, sent out of br0") == true, "\(finding.evidence)")
            #expect(finding.fix.contains("icmp_echo_ignore_all"))
        }
    }

    @Test(arguments: ["iptables", "iptables-legacy"])
    func iptablesForwardThroughBrNetfilter(_ tool: String) throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            if tool == "iptables" {
                _ = try LabFaults.inject(.brNetfilterDrop, lab: lab.name)
            } else {
                try exec(inNetns: lab.bridgeNamespace, ["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"])
                try exec(inNetns: lab.bridgeNamespace, [tool, "-P", "FORWARD", "DROP"])
            }
            defer { _ = try? LabFaults.clear(lab: lab.name) }
            let report = try Self.diagnose(lab) { Self.ping(lab, from: 1, lab.gatewayIP, count: 4) }
            let finding = try Self.only(report, "br_netfilter_drop", at: lab.uplinkPort)
            let location = tool == "iptables" ? "nft_do_chain" : "nf_hook_slow"
            #expect(finding.evidence.first?.hasPrefix("4 drops NETFILTER_DROP in \(location) on uplink (skb->dev)") == true,
                    "\(finding.evidence)")
            #expect(finding.evidence.contains("net.bridge.bridge-nf-call-iptables = 1 in the bridge's namespace: bridged IPv4 "
                + "frames go through the iptables chains (br_netfilter)"))
            let table = tool == "iptables" ? "filter" : "filter (legacy)"
            #expect(finding.evidence.contains("can drop: table ip \(table), chain FORWARD (hook forward): policy drop"))
            #expect(finding.fix.hasPrefix("sysctl -w net.bridge.bridge-nf-call-iptables=0"))
            #expect(finding.fix.contains("iptables -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT"))
        }
    }

    @Test func aFloodOffPortWhoseGuestChangedItsMAC() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            _ = try LabFaults.inject(.portFloodOff, lab: lab.name)
            let report = try Self.diagnose(lab) { Self.ping(lab, from: 1, lab.vmIP(2), count: 4) }
            let finding = try Self.only(report, "port_flood_off", at: "vm2")
            let moved = "52:54:00:00:00:82"
            #expect(finding.evidence.first == "4 frames to \(moved) (ICMP echo requests from 198.18.0.11 to 198.18.0.12) "
                + "entering at vm1 were flooded out of uplink; none left at vm2", "\(finding.evidence)")
            #expect(finding.evidence.contains("vm2: flood off, learning off (bridge -d link show dev vm2)"))
            #expect(finding.evidence.contains("\(moved) is behind vm2: 1 frame from it entered there"))
            #expect(finding.fix.hasPrefix("bridge fdb add \(moved) dev vm2 master static"))
            // The fix works: with the static entry, vm1 reaches vm2.
            try exec(inNetns: lab.bridgeNamespace, ["bridge", "fdb", "add", moved, "dev", "vm2", "master", "static"])
            let pinged = try runResult(["ip", "netns", "exec", lab.vmNamespace(1), "ping", "-c", "1", "-W", "2", lab.vmIP(2)])
            #expect(pinged.succeeded, "\(pinged.stdout)")
        }
    }

    @Test func aVMInAnotherSubnet() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            _ = try LabFaults.inject(.subnetMismatch, lab: lab.name)
            let report = try Self.diagnose(lab) { Self.ping(lab, from: 1, "198.18.1.1", count: 3) }
            let finding = try Self.only(report, "subnet_mismatch", at: "vm1")
            #expect(finding.summary.contains("uses 198.18.1.11, in 198.18.1.0/24"))
            #expect(finding.summary.contains("(they are in 198.18.0.0/24)"))
            #expect(finding.evidence.first?.hasPrefix("3 ARP requests from 198.18.1.11 (52:54:00:00:00:01) entering at vm1 for 198.18.1.1")
                    == true, "\(finding.evidence)")
            #expect(finding.evidence.contains { $0.hasPrefix("the segment is 198.18.0.0/24: \(lab.hostIP) (the bridge's own address, br0)") })
        }
    }

    // MARK: Quiet senders: one request

    @Test func oneUnansweredARPRequestIsArpUnanswered() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            let report = try Self.diagnose(lab, seconds: 4) { try Self.arpingOnce(lab.vmNamespace(1), "198.18.0.99") }
            let finding = try Self.only(report, "arp_unanswered", at: "vm1")
            #expect(finding.summary.hasSuffix("(1 request seen)"))
            #expect(finding.evidence.first?.hasPrefix("1 ARP request for 198.18.0.99 from 198.18.0.11 entering at vm1") == true,
                    "\(finding.evidence)")
            #expect(finding.evidence.contains { $0.hasSuffix("bridgetrace diagnose br0 --host 198.18.0.99 --probe") })
        }
    }

    /// vm1 and the uplink isolated; the FDB knows the gateway's MAC behind the uplink.
    @Test func oneRequestFromAnIsolatedPortIsPortIsolated() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            Self.ping(lab, from: 2, lab.gatewayIP, count: 1)  // the FDB learns the gateway
            _ = try LabFaults.inject(.portIsolated, lab: lab.name, port: "vm1")
            let report = try Self.diagnose(lab, seconds: 4) { try Self.arpingOnce(lab.vmNamespace(1), lab.gatewayIP) }
            let finding = try Self.only(report, "port_isolated", at: "vm1")
            #expect(finding.evidence.contains { $0.hasPrefix("1 broadcast (ARP requests from 198.18.0.11 for 198.18.0.1) entered at vm1")
                && $0.hasSuffix("were flooded to br0 and vm2 only, never to uplink (isolated like vm1)") }, "\(finding.evidence)")
        }
    }

    /// The gateway filters vm1's MAC; vm2's one request is answered, vm1's is not.
    @Test func oneRequestFilteredUpstreamIsUpstreamMACFilter() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            _ = try LabFaults.inject(.upstreamMACFilter, lab: lab.name)
            let report = try Self.diagnose(lab, seconds: 4) {
                try Self.arpingOnce(lab.vmNamespace(2), lab.gatewayIP)
                try Self.arpingOnce(lab.vmNamespace(1), lab.gatewayIP)
            }
            let finding = try Self.only(report, "upstream_mac_filter", at: "uplink")
            #expect(finding.evidence.first?.hasPrefix("1 request from 52:54:00:00:00:01 (entering at vm1) for 198.18.0.1") == true,
                    "\(finding.evidence)")
        }
    }

    /// Ten watches of the healthy lab with ARP and pings (each request answered at once or
    /// late), no finding.
    @Test func theHealthyLabStaysHealthy() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            for run in 1...10 {
                try exec(inNetns: lab.vmNamespace(1), ["ip", "neigh", "flush", "all"])
                let report = try Self.diagnose(lab, seconds: 3) {
                    try Self.arpingOnce(lab.vmNamespace(1), lab.gatewayIP)
                    try Self.arpingOnce(lab.vmNamespace(2), lab.hostIP)
                    Self.ping(lab, from: 1, lab.vmIP(2), count: 2)
                    Self.ping(lab, from: 2, lab.hostIP, count: 1)
                }
                #expect(Self.findings(report).isEmpty, "run \(run): \(Self.summary(report))")
                #expect(report["healthy"] as? Bool == true)
            }
        }
    }
}
