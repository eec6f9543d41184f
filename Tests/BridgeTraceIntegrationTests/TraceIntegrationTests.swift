import BridgeTraceLab
import Foundation
import Testing

/// `bridgetrace trace` on a real lab bridge: one rx event per frame at the port it
/// entered, one tx event per port it left, fields equal to what was sent.
@Suite(.serialized) struct TraceIntegrationTests {
    /// Same recipe as the counters tests: static neighbours and a warm FDB, so that only
    /// the injected frames and the pings cross the bridge.
    func prepare(_ lab: LabTopology) throws {
        try exec(inNetns: lab.vmNamespace(1), ["ip", "neigh", "replace", lab.vmIP(2), "lladdr", lab.vmMAC(2), "dev", "eth0", "nud", "permanent"])
        try exec(inNetns: lab.vmNamespace(2), ["ip", "neigh", "replace", lab.vmIP(1), "lladdr", lab.vmMAC(1), "dev", "eth0", "nud", "permanent"])
        try exec(inNetns: lab.vmNamespace(1), ["ping", "-c", "1", "-W", "2", lab.vmIP(2)])
    }

    /// 3 ARP requests, 2 ARP requests tagged VLAN 100, 2 DHCP discovers and 4 frames of an
    /// unknown ethertype, broadcast from vm1; then 3 pings vm1 -> vm2.
    func sendTraffic(_ lab: LabTopology) throws {
        let before = try portCounters(lab)
        let sent = try Injector.send(in: lab.vmNamespace(1), arpRequests: 3, arpTarget: "198.18.0.250",
                                     vlanARP: [(vid: 100, count: 2)], dhcpDiscovers: 2,
                                     ethertypes: [(type: 0x88b5, count: 4)])
        #expect(sent.total == 11)
        try exec(inNetns: lab.vmNamespace(1), ["ping", "-c", "3", "-i", "0.2", "-W", "2", lab.vmIP(2)])
        // The 11 broadcasts flood to vm2 and uplink; the 3 echo requests go to vm2.
        try waitForPortTx(lab, ["vm2": 14, "uplink": 11], since: before)
    }

    func traceArguments(_ lab: LabTopology, _ extra: [String]) -> [String] {
        ["trace", lab.bridgeName, "--netns", lab.bridgeNamespace] + extra
    }

    func events(_ lines: [[String: Any]], port: String, dir: String, kind: String? = nil) -> [[String: Any]] {
        lines.filter { $0["port"] as? String == port && $0["dir"] as? String == dir && (kind == nil || $0["kind"] as? String == kind) }
    }

    @Test func oneEventPerFramePerPortWithTheFieldsThatWereSent() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try prepare(lab)
            let tracer = try BackgroundBridgetrace(traceArguments(lab, ["--json"]))
            try tracer.waitUntilReady()
            try sendTraffic(lab)
            #expect(try tracer.stop() == 0)
            let lines = try tracer.jsonLines()

            // No --all: the unknown ethertype is not traced.
            #expect(lines.allSatisfy { $0["kind"] as? String != "other" })
            // The broadcasts reach the host too (tx at br0, the bridge's own interface).
            #expect(lines.count == 40, "got \(lines.count) events")

            let arpIn = events(lines, port: "vm1", dir: "rx", kind: "arp")
            #expect(arpIn.count == 5)
            for event in arpIn {
                let arp = try #require(event["arp"] as? [String: Any])
                #expect(arp["op"] as? String == "request")
                #expect(arp["target_ip"] as? String == "198.18.0.250")
                #expect(arp["sender_ip"] as? String == lab.vmIP(1))
                #expect(event["src_mac"] as? String == lab.vmMAC(1))
                #expect(event["dst_mac"] as? String == "ff:ff:ff:ff:ff:ff")
            }
            #expect(arpIn.filter { ($0["vlan"] as? [Int]) == [100] }.count == 2)
            #expect(arpIn.filter { ($0["vlan"] as? [Int]) == [] }.count == 3)
            for port in ["vm2", "uplink", lab.bridgeName] {
                let out = events(lines, port: port, dir: "tx", kind: "arp")
                #expect(out.count == 5, "arp tx at \(port)")
                // The tag left the bridge with the frame (offloaded or not, it is shown).
                #expect(out.filter { ($0["vlan"] as? [Int]) == [100] }.count == 2, "tagged arp tx at \(port)")
                #expect(events(lines, port: port, dir: "tx", kind: "dhcp").count == 2, "dhcp tx at \(port)")
            }
            let discovers = events(lines, port: "vm1", dir: "rx", kind: "dhcp")
            #expect(discovers.count == 2)
            for event in discovers {
                let dhcp = try #require(event["dhcp"] as? [String: Any])
                // Option 53 lies beyond the 128-byte snap; the kernel reads it for us.
                #expect(dhcp["message_type"] as? String == "discover")
                #expect(dhcp["client_mac"] as? String == lab.vmMAC(1))
                #expect(event["src_ip"] as? String == "0.0.0.0")
                #expect(event["dst_ip"] as? String == "255.255.255.255")
            }
            #expect(events(lines, port: "uplink", dir: "rx").isEmpty)
            #expect(events(lines, port: lab.bridgeName, dir: "rx").isEmpty, "the host sent nothing")
            #expect(events(lines, port: lab.bridgeName, dir: "tx", kind: "icmp").isEmpty, "the pings were not for the host")

            let requestsIn = events(lines, port: "vm1", dir: "rx", kind: "icmp")
            let requestsOut = events(lines, port: "vm2", dir: "tx", kind: "icmp")
            let repliesIn = events(lines, port: "vm2", dir: "rx", kind: "icmp")
            let repliesOut = events(lines, port: "vm1", dir: "tx", kind: "icmp")
            for (set, type) in [(requestsIn, 8), (requestsOut, 8), (repliesIn, 0), (repliesOut, 0)] {
                #expect(set.count == 3)
                let icmp = set.compactMap { $0["icmp"] as? [String: Any] }
                #expect(icmp.map { $0["type"] as? Int } == [type, type, type])
                #expect(icmp.compactMap { $0["seq"] as? Int } == [1, 2, 3])
            }
            #expect(requestsIn.allSatisfy { $0["src_ip"] as? String == lab.vmIP(1) && $0["dst_ip"] as? String == lab.vmIP(2) })
            #expect(tracer.stderr.contains("40 events"))
            #expect(tracer.stderr.contains(", 0 lost"))
        }
    }

    @Test func tcpdumpFilterSelectsExactlyTheMatchingEvents() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try prepare(lab)
            let tracer = try BackgroundBridgetrace(traceArguments(lab, ["--json", "icmp and host \(lab.vmIP(2))"]))
            try tracer.waitUntilReady()
            try sendTraffic(lab)
            #expect(try tracer.stop() == 0)
            let lines = try tracer.jsonLines()
            #expect(lines.count == 12)
            #expect(lines.allSatisfy { $0["kind"] as? String == "icmp" })
            #expect(events(lines, port: "vm1", dir: "rx").count == 3)
            #expect(events(lines, port: "vm2", dir: "tx").count == 3)
            #expect(events(lines, port: "vm2", dir: "rx").count == 3)
            #expect(events(lines, port: "vm1", dir: "tx").count == 3)
        }
    }

    @Test func allTracesEveryFrameAndTextOutputIsTcpdumpLike() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try prepare(lab)
            let tracer = try BackgroundBridgetrace(traceArguments(lab, ["--all", "ether proto 0x88b5 or arp or (vlan and arp)"]))
            try tracer.waitUntilReady()
            try sendTraffic(lab)
            #expect(try tracer.stop() == 0)
            let lines = tracer.stdout.split(separator: "\n").map(String.init)
            // 4 unknown-ethertype + 3 ARP + 2 tagged ARP frames (libpcap: `arp` alone matches
            // untagged frames only), each rx at vm1 and tx at vm2, uplink and br0 (the host).
            #expect(lines.count == 36, "\(tracer.stdout)")
            #expect(lines.filter { $0.contains(" vm1 rx ") && $0.contains("ARP who-has 198.18.0.250 tell \(lab.vmIP(1))") }.count == 5)
            #expect(lines.filter { $0.contains(" uplink tx vlan 100 ") }.count == 2)
        }
    }

    @Test func pcapngIsReadByTsharkWithTheSameFrames() throws {
        try requireRoot()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bt-pcap-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestLab.with(vms: 2) { lab in
            try prepare(lab)
            let file = directory + "/all.pcapng"
            let tracer = try BackgroundBridgetrace(traceArguments(lab, ["-w", file]))
            try tracer.waitUntilReady()
            try sendTraffic(lab)
            #expect(try tracer.stop() == 0)
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)

            let fields = try run(["tshark", "-r", file, "-T", "fields", "-E", "separator=|",
                                  "-e", "frame.interface_name", "-e", "arp.dst.proto_ipv4", "-e", "icmp.seq", "-e", "vlan.id"])
            let rows = fields.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
            #expect(rows.count == 40)
            #expect(Set(rows.map { $0[0] }) == ["vm1", "vm2", "uplink", lab.bridgeName])
            #expect(rows.filter { $0[1] == "198.18.0.250" }.count == 20)  // 5 ARP x (rx vm1, tx vm2, uplink, br0)
            #expect(rows.filter { !$0[2].isEmpty }.map { $0[2] }.sorted() == Array(repeating: ["1", "2", "3"], count: 4).flatMap { $0 }.sorted())
            #expect(rows.filter { $0[3] == "100" }.count == 8)

            // -c N: exactly N frames, and the file is complete.
            let limited = directory + "/five.pcapng"
            let five = try BackgroundBridgetrace(traceArguments(lab, ["-w", limited, "-c", "5"]))
            try five.waitUntilReady()
            try sendTraffic(lab)
            let deadline = Date().addingTimeInterval(TestTime.scaled(10))
            while !five.hasExited && Date() < deadline { usleep(50_000) }
            #expect(five.hasExited, "-c 5 did not stop the trace")
            #expect(try five.stop() == 0)
            let count = try run(["tshark", "-r", limited, "-T", "fields", "-e", "frame.number"])
            #expect(count.split(separator: "\n").count == 5)
        }
    }

    /// -w with --print or --json writes the file and prints too (tcpdump's --print);
    /// --sample N reports exactly the events it skipped.
    @Test func writeAlsoPrintsWhenAskedAndSampleCountsWhatItSkips() throws {
        try requireRoot()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bt-print-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestLab.with(vms: 2) { lab in
            try prepare(lab)
            for (option, file) in [("--json", directory + "/json.pcapng"), ("--print", directory + "/text.pcapng")] {
                let tracer = try BackgroundBridgetrace(traceArguments(lab, ["-w", file, option, "ether proto 0x88b5"]))
                try tracer.waitUntilReady()
                let before = try portCounters(lab)
                try Injector.send(in: lab.vmNamespace(1), ethertypes: [(type: 0x88b5, count: 4)])
                try waitForPortTx(lab, ["vm2": 4, "uplink": 4], since: before)
                #expect(try tracer.stop() == 0)
                // 4 frames, each rx at vm1 and tx at vm2, uplink and br0: printed and written.
                let printed = tracer.stdout.split(separator: "\n")
                #expect(printed.count == 16, "\(option): \(tracer.stdout)")
                if option == "--json" { #expect(try tracer.jsonLines().count == 16) }
                let frames = try run(["tshark", "-r", file, "-T", "fields", "-e", "frame.number"])
                #expect(frames.split(separator: "\n").count == 16, "\(option)")
                #expect(tracer.stderr.contains("writing \(file) and printing"), "\(tracer.stderr)")
            }

            // vlan 300 is decided in the kernel, so every wanted event is either emitted or
            // counted as skipped: 30 frames x 4 ports (the host's too).
            let sampled = try BackgroundBridgetrace(traceArguments(lab, ["--json", "--sample", "3", "vlan 300"]))
            try sampled.waitUntilReady()
            let before = try portCounters(lab)
            try Injector.send(in: lab.vmNamespace(1), arpTarget: "198.18.0.250", vlanARP: [(vid: 300, count: 30)])
            try waitForPortTx(lab, ["vm2": 30, "uplink": 30], since: before)
            #expect(try sampled.stop() == 0)
            let emitted = try sampled.jsonLines().count
            let summary = try #require(sampled.stderr.split(separator: "\n").last.map(String.init))
            let skipped = Int(summary.components(separatedBy: ", ").last?.split(separator: " ").first ?? "") ?? -1
            #expect(summary.hasSuffix("skipped by --sample 3"), "\(summary)")
            #expect(emitted + skipped == 120, "emitted \(emitted), skipped \(skipped): \(summary)")
            #expect(emitted >= 40 && emitted <= 42, "\(emitted)")  // one in three per CPU
        }
    }

    @Test func aStalledConsumerLosesEventsVisiblyAndTheBridgeKeepsForwarding() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try prepare(lab)
            // A 4 KiB ring holds about a dozen events.
            let tracer = try BackgroundBridgetrace(traceArguments(lab, ["--json", "--all", "-B", "4"]))
            try tracer.waitUntilReady()
            kill(tracer.pid, SIGSTOP)
            let before = try portCounters(lab)
            try Injector.send(in: lab.vmNamespace(1), ethertypes: [(type: 0x88b5, count: 200)])
            // The datapath does not wait for the tracer.
            try exec(inNetns: lab.vmNamespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", lab.vmIP(2)])
            // Every frame has passed every hook before the consumer wakes (its stop drains the ring).
            try waitForPortTx(lab, ["vm2": 202, "uplink": 200], since: before)
            kill(tracer.pid, SIGCONT)
            #expect(try tracer.stop() == 0)
            #expect(tracer.stderr.contains("warning:"), "\(tracer.stderr)")
            #expect(tracer.stderr.contains("event(s) lost"))
            let summary = try #require(tracer.stderr.split(separator: "\n").last)
            let lost = Int(summary.split(separator: " ").dropLast().last ?? "") ?? 0
            #expect(lost > 0, "\(summary)")
            // What was not lost was delivered: events + lost covers every frame the ports saw
            // (200 broadcast frames x 4 ports, the host's too, + 2 pings x 4).
            let delivered = try tracer.jsonLines().count
            #expect(delivered + lost == 800 + 8, "delivered \(delivered), lost \(lost)")
        }
    }

    @Test func badFilterGivesLibpcapsMessageAndExitTwo() throws {
        let result = try BridgeTraceBinary.run(["trace", "br0", "icmp and and"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("syntax error"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
