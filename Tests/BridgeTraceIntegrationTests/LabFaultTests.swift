import BridgeTraceCore
import BridgeTraceLab
import BridgeTraceProcess
import Foundation
import Testing

/// Every lab fault, injected into a real lab and observed with tools bridgetrace did not
/// write (ping, arping, nft, bridge, ip, tcpdump); then `clear` must bring vm1's ping to the
/// gateway back. Faults share a few labs (one per group, the groups run in parallel).
struct LabFaultTests {
    @Test func bridgeSideFaults() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            let br = lab.bridgeNamespace
            try expectHealthy(lab)

            try inject(.netfilterDrop, lab)
            try inject(.netfilterDrop, lab)  // idempotent: still one rule
            let rules = try exec(inNetns: br, ["nft", "list", "table", "bridge", LabFaults.nftTable])
            #expect(rules.components(separatedBy: "echo-request").count == 2, "\(rules)")
            #expect(!pings(lab))
            try clearAndExpectHealthy(lab)

            try inject(.stpNotForwarding, lab)
            #expect(try bridgeLink(br, "uplink").contains("\"state\":\"disabled\""))
            #expect(!pings(lab))
            try clearAndExpectHealthy(lab)

            try inject(.portDown, lab)
            #expect(!(try ipLinkFlags(br, "uplink").contains("UP")))
            #expect(!pings(lab))
            try clearAndExpectHealthy(lab)

            try inject(.portIsolated, lab)
            for port in lab.bridgePorts {
                #expect(try bridgeLink(br, port).contains("\"isolated\":true"), "\(port)")
            }
            #expect(!pings(lab))
            try clearAndExpectHealthy(lab)

            try inject(.mtuMismatch, lab)
            #expect(try ipLinkJSON(br, "vm1").contains("\"mtu\":9000"))
            #expect(try ipLinkJSON(lab.vmNamespace(1), "eth0").contains("\"mtu\":9000"))
            #expect(try ipLinkJSON(br, "uplink").contains("\"mtu\":1500"))
            #expect(pings(lab), "small frames still pass")
            #expect(!pings(lab, size: 4000), "a 4000-byte ping does not fit the uplink")
            try clearAndExpectHealthy(lab)
            #expect(pings(lab, size: 1400))
        }
    }

    @Test func hostSideFaults() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            let br = lab.bridgeNamespace
            try expectHealthy(lab)

            try inject(.noCarrier, lab)  // vm1 "stops"
            let flags = try ipLinkFlags(br, "vm1")
            #expect(flags.contains("NO-CARRIER") || !flags.contains("LOWER_UP"), "\(flags)")
            #expect(!pings(lab, from: lab.lanNamespace, to: lab.vmIP(1)))
            try clearAndExpectHealthy(lab)

            try inject(.arpUnanswered, lab)
            #expect(!pings(lab))
            let neigh = try run(["ip", "-n", lab.vmNamespace(1), "neigh", "show", lab.gatewayIP])
            #expect(!neigh.contains(lab.gatewayMAC), "the gateway never answered ARP: \(neigh)")
            try clearAndExpectHealthy(lab)

            try inject(.icmpUnanswered, lab)
            #expect(try exec(inNetns: lab.lanNamespace, ["nft", "list", "table", "inet", LabFaults.nftTable])
                .contains("echo-request"))
            #expect(!pings(lab))
            let answered = try run(["ip", "-n", lab.vmNamespace(1), "neigh", "show", lab.gatewayIP])
            #expect(answered.contains(lab.gatewayMAC), "ARP still works: \(answered)")
            try clearAndExpectHealthy(lab)

            try inject(.vlanMismatch, lab)
            let capture = try capture(br, "uplink", filter: "vlan 100") {
                _ = pings(lab)
            }
            #expect(capture.contains("vlan 100"), "\(capture)")
            #expect(!pings(lab))
            try clearAndExpectHealthy(lab)
        }
    }

    @Test func identityFaults() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            let br = lab.bridgeNamespace
            try expectHealthy(lab)

            try inject(.ipConflict, lab)
            try inject(.ipConflict, lab)
            let replies = try runResult([
                "ip", "netns", "exec", lab.lanNamespace, "arping", "-c", "2", "-w", "3", "-I", "eth0", lab.vmIP(1),
            ]).stdout
            #expect(replies.contains(lab.vmMAC(1).uppercased()) && replies.contains(lab.vmMAC(2).uppercased()),
                    "both VMs answer for \(lab.vmIP(1)): \(replies)")
            try clearAndExpectHealthy(lab)

            try inject(.macFlapping, lab)
            #expect(try ipLinkJSON(lab.vmNamespace(2), "eth0").contains(lab.vmMAC(1)))
            _ = pings(lab, from: lab.vmNamespace(2), to: lab.gatewayIP)
            #expect(try fdbPort(br, lab.vmMAC(1)) == "vm2")
            _ = pings(lab)
            #expect(try fdbPort(br, lab.vmMAC(1)) == "vm1", "the entry moved back: it flaps")
            try clearAndExpectHealthy(lab)

            // vm1 knows the gateway; vm2's gratuitous replies then rebind the gateway's IP.
            #expect(pings(lab))
            let spoof = try inject(.arpSpoofing, lab)
            let pid = try #require(LabFaults.backgroundPid(of: .arpSpoofing, lab: lab.name))
            #expect(spoof.text.contains("pid \(pid)"))
            var entry = ""
            let deadline = Date().addingTimeInterval(TestTime.scaled(4))
            repeat {
                Thread.sleep(forTimeInterval: 0.2)
                entry = try run(["ip", "-n", lab.vmNamespace(1), "neigh", "show", lab.gatewayIP])
            } while !entry.contains(lab.vmMAC(2)) && Date() < deadline
            #expect(entry.contains(lab.vmMAC(2)), "vm1 believes the gateway is vm2: \(entry)")
            try clearAndExpectHealthy(lab)
            #expect(!isRunning(pid))
            #expect(LabFaults.backgroundPid(of: .arpSpoofing, lab: lab.name) == nil)

            try inject(.dhcpUnanswered, lab)
            let dhcpPid = try #require(LabFaults.backgroundPid(of: .dhcpUnanswered, lab: lab.name))
            let discover = try capture(br, "vm1", filter: "udp dst port 67", seconds: 4) {}
            #expect(discover.contains("BOOTP/DHCP, Request"), "\(discover)")
            // `lab down` (here: the end of TestLab.with) must stop the sender too.
            try Lab.down(name: lab.name)
            #expect(!isRunning(dhcpPid))
            try Lab.up(lab)  // for TestLab.with's own `down`
        }
    }
}

extension LabFaultTests {
    @Test func upstreamAndDHCPServerFaults() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try expectHealthy(lab)

            try inject(.upstreamMACFilter, lab)
            try inject(.upstreamMACFilter, lab)  // idempotent: still one rule
            let rules = try exec(inNetns: lab.lanNamespace, ["nft", "list", "table", "netdev", LabFaults.nftTable])
            #expect(rules.components(separatedBy: "ether saddr \(lab.vmMAC(1))").count == 2, "\(rules)")
            #expect(!pings(lab), "vm1's MAC is filtered")
            #expect(pings(lab, from: lab.vmNamespace(2), to: lab.gatewayIP), "vm2 still reaches the gateway")
            try clearAndExpectHealthy(lab)

            try inject(.dhcpMultipleServers, lab)
            for role in ["server", "rogue", "client"] {
                #expect(LabFaults.backgroundPid(of: .dhcpMultipleServers, lab: lab.name, role: role) != nil, "\(role)")
            }
            // tcpdump sees OFFERs from both servers' MACs going to vm1.
            let offers = try capture(lab.bridgeNamespace, "vm1", filter: "udp src port 67", seconds: 4, count: 4) {}
            #expect(offers.contains(lab.gatewayMAC) && offers.contains(lab.vmMAC(2)), "\(offers)")
            let pids = ["server", "rogue", "client"].compactMap {
                LabFaults.backgroundPid(of: .dhcpMultipleServers, lab: lab.name, role: $0)
            }
            try clearAndExpectHealthy(lab)
            #expect(pids.allSatisfy { !isRunning($0) })
        }
    }

    @Test func hostAndSegmentFaults() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            let br = lab.bridgeNamespace
            try expectHealthy(lab)

            try inject(.hostFirewallDrop, lab)
            #expect(try exec(inNetns: br, ["nft", "list", "chain", "inet", LabFaults.nftTable, "input"]).contains("echo-request"))
            #expect(!pings(lab, to: lab.hostIP), "the host drops pings")
            #expect(pings(lab), "forwarding is untouched")
            try clearAndExpectHealthy(lab)
            #expect(pings(lab, to: lab.hostIP))

            try inject(.brNetfilterDrop, lab)
            #expect(try exec(inNetns: br, ["sysctl", "-n", "net.bridge.bridge-nf-call-iptables"]).hasPrefix("1"))
            #expect(try exec(inNetns: br, ["iptables", "-S", "FORWARD"]).contains("-P FORWARD DROP"))
            #expect(!pings(lab))
            try clearAndExpectHealthy(lab)

            try inject(.portFloodOff, lab)
            let link = try bridgeLink(br, "vm2")
            #expect(link.contains("\"flood\":false") && link.contains("\"learning\":false"), "\(link)")
            #expect(try ipLinkJSON(lab.vmNamespace(2), "eth0").contains("52:54:00:00:00:82"))
            #expect(!pings(lab, to: lab.vmIP(2)), "vm2's new MAC is unknown unicast that never reaches vm2")
            try clearAndExpectHealthy(lab)
            #expect(pings(lab, to: lab.vmIP(2)))

            try inject(.subnetMismatch, lab)
            let address = try run(["ip", "-n", lab.vmNamespace(1), "-4", "-o", "addr", "show", "dev", "eth0"])
            #expect(address.contains("198.18.1.11/24") && !address.contains(lab.vmIP(1)), "\(address)")
            #expect(!pings(lab, to: "198.18.1.1"))
            try clearAndExpectHealthy(lab)
        }
    }
}

// MARK: Helpers

@discardableResult
private func inject(_ fault: LabFault, _ lab: LabTopology) throws -> LabFaultReport {
    let report = try LabFaults.inject(fault, lab: lab.name)
    #expect(report.text.contains("undo:"))
    return report
}

/// Whether `from` (vm1 by default) can ping `to` (the gateway by default).
private func pings(_ lab: LabTopology, from: String? = nil, to: String? = nil, size: Int? = nil) -> Bool {
    var arguments = ["ip", "netns", "exec", from ?? lab.vmNamespace(1), "ping", "-c", "1", "-W", "1"]
    if let size { arguments += ["-s", String(size), "-M", "do"] }
    arguments.append(to ?? lab.gatewayIP)
    return (try? runResult(arguments).succeeded) ?? false
}

private func expectHealthy(_ lab: LabTopology, sourceLocation: SourceLocation = #_sourceLocation) throws {
    // Right after clear, ARP and the bridge relearn: allow a few tries.
    var ok = false
    for _ in 0..<4 where !ok { ok = pings(lab) }
    #expect(ok, "vm1 pings the gateway", sourceLocation: sourceLocation)
}

private func clearAndExpectHealthy(_ lab: LabTopology, sourceLocation: SourceLocation = #_sourceLocation) throws {
    try LabFaults.clear(lab: lab.name)
    try expectHealthy(lab, sourceLocation: sourceLocation)
}

private func bridgeLink(_ ns: String, _ port: String) throws -> String {
    try exec(inNetns: ns, ["bridge", "-d", "-j", "link", "show", "dev", port])
}

private func ipLinkJSON(_ ns: String, _ dev: String) throws -> String {
    try run(["ip", "-n", ns, "-j", "link", "show", "dev", dev])
}

private func ipLinkFlags(_ ns: String, _ dev: String) throws -> [String] {
    struct Link: Decodable { var flags: [String] }
    let links = try JSONDecoder().decode([Link].self, from: Data(ipLinkJSON(ns, dev).utf8))
    return links.first?.flags ?? []
}

/// The port a learned (not local) FDB entry for `mac` sits on.
private func fdbPort(_ ns: String, _ mac: String) throws -> String? {
    struct Entry: Decodable { var mac: String; var ifname: String; var state: String }
    let json = try exec(inNetns: ns, ["bridge", "-j", "fdb", "show", "br", "br0"])
    let entries = try JSONDecoder().decode([Entry].self, from: Data(json.utf8))
    return entries.first { $0.mac == mac && $0.state != "permanent" }?.ifname
}

/// tcpdump on `device` in `ns` for at most `seconds`, one matching frame, while `during` runs.
private func capture(_ ns: String, _ device: String, filter: String, seconds: Int = 5, count: Int = 1,
                     during: () -> Void)
    throws -> String
{
    let tcpdump = try ChildProcess(
        ["timeout", String(seconds), "ip", "netns", "exec", ns, "tcpdump", "-nn", "-e", "-l", "-c", String(count), "-i", device]
            + filter.split(separator: " ").map(String.init),
        stdout: .log, stderr: .log)
    // It prints "listening on" once its socket is bound: from then on it sees every frame.
    try waitFor("tcpdump on \(device) in \(ns) to listen", { tcpdump.log }, until: { $0.contains("listening on") || tcpdump.hasExited })
    during()
    tcpdump.wait()
    tcpdump.stop()
    return tcpdump.log
}

private func isRunning(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != "Z" && state != "X"
}
