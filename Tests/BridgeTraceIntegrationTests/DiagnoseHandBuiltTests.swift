import BridgeTraceLab
import Foundation
import Testing

/// `diagnose --duration 8 --json` on bridges built by hand (`HandBuiltBridge`: plain ip,
/// bridge and nft commands, no `lab fault`), with the traffic a VM makes: ping, which
/// resolves with ARP, and busybox's DHCP client and server. Quiet links (a few frames in
/// 8 s) and half-broken bridges must give the right cause at the right port and exit 1;
/// the healthy bridge must stay healthy run after run. Each run's event stream is recorded
/// (`--record`) for the replay tests in BridgeTraceCoreTests.
@Suite(.serialized) struct DiagnoseHandBuiltTests {
    typealias Lab = HandBuiltBridge

    func expectOnly(_ d: Lab.Diagnosis, _ cause: String, port: String?, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(d.status == 1, "exit status \(d.status): \(d.stderr)", sourceLocation: sourceLocation)
        #expect(d.report["healthy"] as? Bool == false, sourceLocation: sourceLocation)
        #expect(d.findings.count == 1, "\(d.summary)\n\(d.stdout)", sourceLocation: sourceLocation)
        let finding = d.findings.first
        #expect(finding?["cause"] as? String == cause, "\(d.summary)\n\(d.stdout)", sourceLocation: sourceLocation)
        if let port {
            #expect(finding?["port"] as? String == port, "\(d.summary)", sourceLocation: sourceLocation)
        } else {
            #expect(finding?["port"] is NSNull, "port must be JSON null: \(d.summary)", sourceLocation: sourceLocation)
        }
        let evidence = finding?["evidence"] as? [String] ?? []
        #expect(evidence.count > 0, sourceLocation: sourceLocation)
        #expect(d.report["events_not_examined"] != nil, "the output says what it could not look at",
                sourceLocation: sourceLocation)
    }

    @Test func aVMPingingAnAddressNobodyHasIsArpUnansweredAtItsPort() throws {
        try requireRoot()
        try Lab.with { lab in
            let ping = try lab.ping("vm1", "198.18.0.99")
            defer { ping.stop() }
            let d = try lab.diagnose(record: RecordingDirectory.file("arp_unanswered_nobody"))
            expectOnly(d, "arp_unanswered", port: "vm1")
            let evidence = d.findings.first?["evidence"] as? [String] ?? []
            #expect(evidence.contains { $0.contains("for 198.18.0.99 from 198.18.0.11 entering at vm1") }, "\(evidence)")
        }
    }

    @Test func isolatedVMPortAndUplinkWithAThirdPortNotIsolated() throws {
        try requireRoot()
        try Lab.with { lab in
            try lab.br(["bridge", "link", "set", "dev", "vm1", "isolated", "on"])
            try lab.br(["bridge", "link", "set", "dev", "uplink", "isolated", "on"])
            let ping = try lab.ping("vm1", Lab.ip("lan"))
            defer { ping.stop() }
            let d = try lab.diagnose(record: RecordingDirectory.file("port_isolated_third_port"))
            expectOnly(d, "port_isolated", port: "vm1")
            let evidence = d.findings.first?["evidence"] as? [String] ?? []
            #expect(evidence.contains("vm1: isolated on; also isolated: uplink"), "\(evidence)")
            // br0 is the host's port: isolation does not keep frames from the host.
            #expect(evidence.contains { $0.contains("flooded to br0, vm2 and vm3 only, never to uplink") }, "\(evidence)")
        }
    }

    @Test func silentHostWhoseMACTheBridgeHasNotLearnedHasNoPort() throws {
        try requireRoot()
        try Lab.with { lab in
            // vm3 answers ARP but drops pings, and the bridge does not learn behind its port.
            try lab.inHost("vm3", ["nft", "add", "table", "inet", "bt_silent"])
            try lab.inHost("vm3", ["nft", "add", "chain", "inet", "bt_silent", "input",
                                   "{ type filter hook input priority 0; policy accept; }"])
            try lab.inHost("vm3", ["nft", "add", "rule", "inet", "bt_silent", "input", "icmp", "type", "echo-request", "drop"])
            try lab.br(["bridge", "link", "set", "dev", "vm3", "learning", "off"])
            // vm1 resolves vm3 once (its entry stays REACHABLE for at least 15 s, longer
            // than the watch, so vm3 sends nothing while diagnose looks).
            _ = try? lab.inHost("vm1", ["ping", "-c", "1", "-W", "1", Lab.ip("vm3")])
            #expect(!(try lab.br(["bridge", "fdb", "show", "br", "br0"])).contains(Lab.mac("vm3")))
            let ping = try lab.ping("vm1", Lab.ip("vm3"))
            defer { ping.stop() }
            let d = try lab.diagnose(record: RecordingDirectory.file("flooded_unknown_mac"))
            expectOnly(d, "icmp_unanswered", port: nil)
            #expect(d.stdout.contains("\"port\": null"), "\(d.stdout)")
            let evidence = d.findings.first?["evidence"] as? [String] ?? []
            #expect(evidence.contains { $0.contains("candidates: uplink, vm2, vm3") || $0.contains("candidates: vm2, vm3, uplink") },
                    "\(evidence)")
            #expect((d.findings.first?["fix"] as? String ?? "").contains("bridge fdb show br br0"))
        }
    }

    @Test func upstreamMACFilterAtTheUplink() throws {
        try requireRoot()
        try Lab.with { lab in
            // Port security on the "switch" behind the uplink: the gateway side drops vm1's MAC.
            try lab.inHost("lan", ["nft", "add", "table", "netdev", "bt_psec"])
            try lab.inHost("lan", ["nft", "add", "chain", "netdev", "bt_psec", "ingress",
                                   "{ type filter hook ingress device eth0 priority 0; policy accept; }"])
            try lab.inHost("lan", ["nft", "add", "rule", "netdev", "bt_psec", "ingress", "ether", "saddr", Lab.mac("vm1"), "drop"])
            let pings = [try lab.ping("vm1", Lab.ip("lan")), try lab.ping("vm2", Lab.ip("lan"))]
            defer { pings.forEach { $0.stop() } }
            let d = try lab.diagnose(record: RecordingDirectory.file("upstream_mac_filter"))
            expectOnly(d, "upstream_mac_filter", port: "uplink")
            let evidence = d.findings.first?["evidence"] as? [String] ?? []
            #expect(evidence.contains { $0.contains("from \(Lab.mac("vm1")) (entering at vm1) for 198.18.0.1") }, "\(evidence)")
            #expect(evidence.contains { $0.contains("answered \(Lab.mac("vm2")) behind vm2") }, "\(evidence)")
        }
    }

    @Test func twoDHCPServersAnswer() throws {
        try requireRoot()
        try Lab.with { lab in
            let servers = try ["lan", "vm2"].map { try udhcpd(lab, $0) }
            defer { servers.forEach { $0.stop() } }
            let client = try udhcpcLoop(lab, "vm3")
            defer { client.stop() }
            let d = try lab.diagnose(record: RecordingDirectory.file("dhcp_multiple_servers"))
            // Nothing in the frames says which server is the rogue: port null, both listed.
            expectOnly(d, "dhcp_multiple_servers", port: nil)
            let evidence = d.findings.first?["evidence"] as? [String] ?? []
            #expect(evidence.contains { $0.hasPrefix("server 198.18.0.1 (\(Lab.mac("lan"))) entering at uplink") }, "\(evidence)")
            #expect(evidence.contains { $0.hasPrefix("server 198.18.0.12 (\(Lab.mac("vm2"))) entering at vm2") }, "\(evidence)")
        }
    }

    /// One lab, ten watches: pings across the bridge and to the gateway (fresh ARP each
    /// time) and a DHCP client with one server. Never a finding.
    @Test func healthyBridgeStaysHealthyOverTenRuns() throws {
        try requireRoot()
        try Lab.with { lab in
            let server = try udhcpd(lab, "lan")
            defer { server.stop() }
            var outcomes: [String] = []
            for run in 1...10 {
                try lab.forget()
                let traffic = [try lab.ping("vm1", Lab.ip("lan"), interval: "0.5"),
                               try lab.ping("vm2", Lab.ip("vm3"), interval: "0.5"),
                               try udhcpcLoop(lab, "vm3")]
                let d = try lab.diagnose(record: RecordingDirectory.file("healthy-\(run)"))
                traffic.forEach { $0.stop() }
                outcomes.append("run \(run): exit \(d.status) \(d.summary)")
                #expect(d.status == 0 && d.findings.isEmpty, "run \(run): \(d.stdout)")
                #expect((d.report["frames"] as? Int ?? 0) > 20, "run \(run) saw the traffic: \(d.stdout)")
            }
            print(outcomes.joined(separator: "\n"))
        }
    }

    // MARK: DHCP helpers (busybox)

    func udhcpd(_ lab: Lab, _ host: String) throws -> BackgroundProcess {
        let dir = RecordingDirectory.scratch + "/\(lab.name)-dhcp"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let pool = host == "lan" ? 100 : 200
        let conf = "\(dir)/\(host).conf"
        try """
            start 198.18.0.\(pool)
            end 198.18.0.\(pool + 9)
            interface eth0
            lease_file \(dir)/\(host).leases
            option subnet 255.255.255.0
            option router 198.18.0.1

            """.write(toFile: conf, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: "\(dir)/\(host).leases", contents: nil)
        let process = try lab.background(host, ["busybox", "udhcpd", "-f", conf])
        try waitFor("udhcpd in \(host) to bind port 67") {
            try lab.inHost(host, ["ss", "-Hlun", "sport = :67"]).contains(":67")
        }
        return process
    }

    /// udhcpc asking again and again (it does not touch the address: -s /bin/true), as a
    /// VM whose lease keeps failing would.
    func udhcpcLoop(_ lab: Lab, _ host: String) throws -> BackgroundProcess {
        try lab.background(host, ["sh", "-c",
            "while :; do busybox udhcpc -i eth0 -f -q -n -t 2 -T 1 -s /bin/true >/dev/null 2>&1; sleep 1; done"])
    }
}
