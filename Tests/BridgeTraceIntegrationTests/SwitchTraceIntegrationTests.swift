import BridgeTraceLab
import BridgeTraceSwitch
import Foundation
import Testing

/// `trace NAME` and `diagnose NAME` on a running `bridgetrace switch`: the switch's own
/// programs (its XDP path, and its userspace through BPF_PROG_TEST_RUN) emit the events;
/// nothing is attached to its ports. Exact counts per port and direction.
@Suite(.serialized) struct SwitchTraceIntegrationTests {
    typealias Path = SwitchIntegrationTests.Path

    func start(_ lab: SwitchLab, _ arguments: [String]) throws -> BackgroundBridgetrace {
        let sw = try BackgroundBridgetrace(["switch", "--name", lab.switchName, "--netns", lab.switchNamespace] + arguments)
        try sw.waitUntilReady()
        return sw
    }

    func trace(_ lab: SwitchLab, _ arguments: [String] = ["--json"]) throws -> BackgroundBridgetrace {
        let trace = try BackgroundBridgetrace(["trace", lab.switchName] + arguments)
        try trace.waitUntilReady()
        return trace
    }

    /// Events as "port dir kind detail", e.g. "p1 rx icmp 8" or "p4 rx drop VLAN_NOT_ALLOWED".
    func summary(_ events: [[String: Any]]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for event in events {
            let kind = event["kind"] as? String ?? "?"
            let detail: String
            if kind == "drop" {
                detail = "\(event["reason"] as? String ?? "?")@\(event["location"] as? String ?? "?")"
            } else if let icmp = event["icmp"] as? [String: Any] {
                detail = "\(icmp["type"] as? Int ?? -1)"
            } else if let arp = event["arp"] as? [String: Any] {
                detail = arp["op"] as? String ?? "?"
            } else {
                detail = "-"
            }
            let vlans = (event["vlan"] as? [Int] ?? []).map { " vlan \($0)" }.joined()
            counts["\(event["port"] as? String ?? "?") \(event["dir"] as? String ?? "?") \(kind) \(detail)\(vlans)", default: 0] += 1
        }
        return counts
    }

    /// N pings, on each path a unicast frame can take across the switch: exactly N echo
    /// requests rx at p1 and tx at p2, and N replies the other way; nothing else.
    @Test(arguments: Path.allCases)
    func pingsGiveOneRxAndOneTxEventPerFrame(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2, gro: path == .redirect) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2"] + path.arguments(ports: ["p1", "p2"]))
            // Resolve and learn first, so that every traced frame is known unicast.
            try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
            let tracer = try trace(lab, ["--json", "icmp"])
            let output = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "5", "-i", "0.2", "-W", "2", lab.hostIP(2)])
            #expect(output.contains("5 received"))
            #expect(tracer.waitForOutput { $0.count >= 20 })
            #expect(try tracer.stop() == 0)
            #expect(summary(try tracer.jsonLines()) == ["p1 rx icmp 8": 5, "p2 tx icmp 8": 5, "p2 rx icmp 0": 5, "p1 tx icmp 0": 5],
                    "\(tracer.stderr)")
            #expect(tracer.stderr.contains("20 events (icmp 20), 0 lost"), "\(tracer.stderr)")
            #expect(!SwitchTraceSource.isTraced(lab.switchName))
            #expect(try sw.stop() == 0)
        }
    }

    /// p1, p2 access VLAN 10; p3 access VLAN 20; p4 trunk 10,20. An ARP broadcast from h1 is
    /// one rx event at p1 and one tx event at each other port of VLAN 10 (tagged at p4).
    @Test(arguments: [Path.xsk, Path.userspace])
    func floodedBroadcastGivesOneTxEventPerOtherPortOfTheVLAN(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 4) { lab in
            let sw = try start(lab, ["--access", "p1=10", "--access", "p2=10", "--access", "p3=20", "--trunk", "p4=10,20"]
                + path.arguments(ports: []))
            // No filter: tcpdump's `arp` would not match the copies tagged at p4.
            let tracer = try trace(lab)
            let sent = try Injector.send(in: lab.hostNamespace(1), arpRequests: 3, arpTarget: "198.18.0.99")
            #expect(sent.total == 3)
            #expect(tracer.waitForOutput { $0.count >= 9 })
            usleep(200_000)
            #expect(try tracer.stop() == 0)
            #expect(summary(try tracer.jsonLines()) == ["p1 rx arp request": 3, "p2 tx arp request": 3, "p4 tx arp request vlan 10": 3],
                    "\(tracer.stderr)")
            #expect(try sw.stop() == 0)
        }
    }

    /// A VID the trunk does not carry: an rx event and a drop event with the switch's
    /// reason; `diagnose --json` names the port and the cause.
    @Test func vlanNotAllowedIsADropEventAndADiagnosis() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 4) { lab in
            let sw = try start(lab, ["--access", "p1=10", "--access", "p2=10", "--access", "p3=20", "--trunk", "p4=10,20"])
            let tracer = try trace(lab)
            let sent = try Injector.send(in: lab.hostNamespace(4), arpTarget: lab.hostIP(3), vlanARP: [(vid: 30, count: 2)])
            #expect(sent.total == 2)
            #expect(tracer.waitForOutput { $0.count >= 4 })
            #expect(try tracer.stop() == 0)
            #expect(summary(try tracer.jsonLines()) == ["p4 rx arp request vlan 30": 2, "p4 rx drop VLAN_NOT_ALLOWED@bt_sw_xdp vlan 30": 2],
                    "\(tracer.stderr)")

            // The window must hold the injection: starting scapy takes seconds under TCG.
            let diagnose = try BackgroundBridgetrace(["diagnose", lab.switchName, "--duration", "\(TestTime.scaled(3))", "--json"])
            try diagnose.waitUntilReady()
            _ = try Injector.send(in: lab.hostNamespace(4), arpTarget: lab.hostIP(3), vlanARP: [(vid: 30, count: 3)])
            #expect(try diagnose.stop(signal: 0) == 1, "\(diagnose.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(diagnose.stdout.utf8)) as? [String: Any] ?? [:]
            let findings = report["findings"] as? [[String: Any]] ?? []
            #expect(findings.map { "\($0["cause"] as? String ?? "?")@\($0["port"] as? String ?? "-")" } == ["vlan_mismatch@p4"],
                    "\(diagnose.stdout)")
            #expect((findings.first?["summary"] as? String ?? "").contains("VLAN_NOT_ALLOWED"))
            #expect(report["drops"] as? Int == 3)
            #expect(try sw.stop() == 0)
        }
    }

    /// A flood that cannot reach a port that is down: the switch's userspace drops that copy,
    /// and its drop event (run through bt_sw_trace_user) arrives like the kernel's, tx at p3.
    @Test func userspaceDropsAreDropEventsToo() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 3) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2", "--port", "p3"])
            try exec(inNetns: lab.hostNamespace(3), ["ip", "link", "set", "eth0", "down"])
            // The switch follows carrier once a second.
            let deadline = Date().addingTimeInterval(TestTime.scaled(5))
            func p3Up() throws -> Bool? {
                (try lab.show()["ports"] as? [[String: Any]])?.first { $0["port"] as? String == "p3" }?["up"] as? Bool
            }
            while try p3Up() != false && Date() < deadline { usleep(100_000) }
            #expect(try p3Up() == false)
            let tracer = try trace(lab)
            let sent = try Injector.send(in: lab.hostNamespace(1), arpRequests: 2, arpTarget: "198.18.0.99")
            #expect(sent.total == 2)
            #expect(tracer.waitForOutput { $0.count >= 6 })
            #expect(try tracer.stop() == 0)
            #expect(summary(try tracer.jsonLines()) == ["p1 rx arp request": 2, "p2 tx arp request": 2, "p3 tx drop PORT_DOWN@bt_sw_xdp": 2],
                    "\(tracer.stderr)")
            #expect(try sw.stop() == 0)
        }
    }

    /// `diagnose NAME` on a healthy switch with traffic across it: no findings, exit 0.
    @Test func diagnoseOfAHealthySwitchHasNoFindings() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2"])
            // The window must hold the pings, which start slowly under TCG.
            let diagnose = try BackgroundBridgetrace(["diagnose", lab.switchName, "--duration", "\(TestTime.scaled(3))", "--json"])
            try diagnose.waitUntilReady()
            let output = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "4", "-i", "0.3", "-W", "2", lab.hostIP(2)])
            #expect(output.contains("4 received"))
            #expect(try diagnose.stop(signal: 0) == 0, "\(diagnose.stdout) \(diagnose.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(diagnose.stdout.utf8)) as? [String: Any] ?? [:]
            #expect(report["healthy"] as? Bool == true)
            #expect((report["findings"] as? [Any])?.isEmpty == true)
            // ARP both ways (the first ping) and 4 round trips, each seen rx and tx.
            #expect((report["frames"] as? Int ?? 0) >= 16)
            #expect(try sw.stop() == 0)
        }
    }

    /// -w: tshark, not our code, reads the file: 4 frames per ping (request and reply, rx
    /// and tx), at the right ports.
    @Test func pcapngOfASwitchTraceIsReadByTshark() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2"])
            try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(lab.id).pcapng").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let tracer = try trace(lab, ["-w", file, "icmp"])
            try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "3", "-i", "0.2", "-W", "2", lab.hostIP(2)])
            usleep(300_000)
            #expect(try tracer.stop() == 0)
            let lines = try run(["tshark", "-r", file, "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name",
                                 "-e", "icmp.type"]).split(separator: "\n").map(String.init)
            var counts: [String: Int] = [:]
            for line in lines { counts[line, default: 0] += 1 }
            #expect(counts == ["p1|8": 3, "p2|8": 3, "p2|0": 3, "p1|0": 3], "\(lines)")
            #expect(try sw.stop() == 0)
        }
    }

    /// However trace ends (SIGINT, SIGKILL), the switch's events go off (the switch turns
    /// them off itself when the tracer was killed) and it forwards on.
    @Test func afterTraceEndsTheSwitchForwardsAndEventsAreOff() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2"])
            for signal in [SIGINT, SIGKILL] {
                let tracer = try trace(lab)
                #expect(SwitchTraceSource.isTraced(lab.switchName))
                try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
                let status = try tracer.stop(signal: signal)
                if signal == SIGINT { #expect(status == 0) }
                // The switch checks its tracer once a second.
                let deadline = Date().addingTimeInterval(TestTime.scaled(5))
                while SwitchTraceSource.isTraced(lab.switchName) && Date() < deadline { usleep(50_000) }
                #expect(!SwitchTraceSource.isTraced(lab.switchName), "signal \(signal)")
                let output = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", lab.hostIP(2)])
                #expect(output.contains("2 received"))
            }
            // A second tracer while one runs is refused, with who holds it.
            let first = try trace(lab)
            let second = try BridgeTraceBinary.run(["trace", lab.switchName, "--duration", "1"])
            #expect(second.status != 0)
            #expect(second.stderr.contains("already traced by pid"), "\(second.stderr)")
            #expect(try first.stop() == 0)
            #expect(try sw.stop() == 0)
        }
    }
}
