import BridgeTraceLab
import BridgeTraceSwitch
import Foundation
import Testing

/// `bridgetrace switch` in real namespaces: veths, the switch's XDP program, AF_XDP
/// sockets, ping and scapy frames. Counts are checked with the kernel's `ip -s link`.
@Suite(.serialized) struct SwitchIntegrationTests {
    /// The three ways a unicast frame crosses the switch.
    enum Path: String, CaseIterable {
        /// Fast path, redirected in the kernel (host veths have GRO, hence NAPI).
        case redirect
        /// Fast path decisions, but sent with AF_XDP TX (the default for veth ports).
        case xsk
        /// --no-fast-path: every frame through userspace.
        case userspace

        func arguments(ports: [String]) -> [String] {
            switch self {
            case .redirect: return ports.flatMap { ["--redirect", $0] }
            case .xsk: return []
            case .userspace: return ["--no-fast-path"]
            }
        }
    }

    func start(_ lab: SwitchLab, _ arguments: [String]) throws -> BackgroundBridgetrace {
        let sw = try BackgroundBridgetrace(["switch", "--name", lab.switchName, "--netns", lab.switchNamespace] + arguments)
        try sw.waitUntilReady()
        return sw
    }

    @Test(arguments: Path.allCases)
    func pingAndARPCrossTheSwitchAndTheFDBLearnsThePorts(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2, gro: path == .redirect) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2"] + path.arguments(ports: ["p1", "p2"]))
            let ports = try lab.show()["ports"] as? [[String: Any]] ?? []
            let expectedPath = path == .redirect ? "redirect" : "xsk"
            #expect(ports.map { $0["path"] as? String } == [expectedPath, expectedPath])
            #expect(ports.map { $0["mode"] as? String } == ["access", "access"])

            // ARP resolution (broadcast request, unicast reply) then 5 echo round trips.
            let output = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "5", "-i", "0.2", "-W", "2", lab.hostIP(2)])
            #expect(output.contains("5 received"))
            let neighbours = try exec(inNetns: lab.hostNamespace(1), ["ip", "neigh", "show", lab.hostIP(2)])
            #expect(neighbours.contains(lab.hostMAC(2)))

            #expect(try lab.fdb() == ["\(lab.hostMAC(1))@1=p1", "\(lab.hostMAC(2))@1=p2"])
            let stats = try lab.show()["stats"] as? [String: Int] ?? [:]
            #expect(stats["learned"] == 2)
            #expect(stats["mac_moves"] == 0)
            // show carries the per-port counters too: 5 echo requests left h1 (plus ARP).
            let counted = (try lab.show()["counters"] as? [String: Any])?["ports"] as? [[String: Any]] ?? []
            let p1 = counted.first { $0["port"] as? String == "p1" }?["rx"] as? [String: Any]
            #expect(p1?["icmp_echo_request"] as? Int == 5)
            // Only the first ARP request is flooded; the rest is known unicast.
            if path == .userspace {
                #expect(stats["fast_path"] == 0)
            } else if path == .redirect {
                #expect((stats["fast_path"] ?? 0) >= 9)
            }
            #expect(try sw.stop() == 0)
        }
    }

    @Test func fdbEntriesAgeOut() throws {
        try requireRoot()
        // 2 s on the host. Under TCG one look at the FDB (`switch show`, a process) takes
        // about that long, so the aging grows with TestTime and the bounds with it.
        let aging = Int(TestTime.scaled(2).rounded())
        try SwitchLab.with(hosts: 2) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2", "--aging", String(aging)])
            let before = Date()
            try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
            let after = Date()  // learnt somewhere in [before, after]
            #expect(try lab.fdb().count == 2)
            // An entry lives while now - last_seen <= aging; the sweep runs each second.
            // A test about time: the entries must outlive the aging and go soon after it.
            // Each look takes a while, so the bounds use when a look began, not when the
            // wait noticed: an entry was alive some time after `lastAlive`, gone by `goneBy`.
            var lastAlive = after
            try waitFor("the FDB to age out", timeout: 10, interval: 0.1) {
                let start = Date()
                if try lab.fdb().isEmpty { return true }
                lastAlive = start
                return false
            }
            let goneBy = Date()
            #expect(goneBy.timeIntervalSince(before) >= Double(aging),
                    "the entries were gone \(goneBy.timeIntervalSince(before)) s after learning, with --aging \(aging)")
            #expect(lastAlive.timeIntervalSince(after) < Double(aging + 2),
                    "an entry was still there \(lastAlive.timeIntervalSince(after)) s after learning, with --aging \(aging)")
            // And it learns again.
            try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
            #expect(try lab.fdb().count == 2)
            #expect(try sw.stop() == 0)
        }
    }

    /// p1, p2 access VLAN 10; p3 access VLAN 20; p4 trunk 10,20. A broadcast from h1
    /// reaches h2 and h4 (tagged) and never h3.
    @Test(arguments: [Path.xsk, Path.userspace])
    func floodingReachesEveryPortOfTheVLANAndNoOther(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 4) { lab in
            let sw = try start(lab, ["--access", "p1=10", "--access", "p2=10", "--access", "p3=20", "--trunk", "p4=10,20"]
                + path.arguments(ports: []))
            let before = try (1...4).map { try lab.hostRxPackets($0) }
            let sent = try Injector.send(in: lab.hostNamespace(1), arpRequests: 5, arpTarget: "198.18.0.99")
            #expect(sent.total == 5)
            let received = try waitFor("h2 and h4 to get the 5 broadcasts", { try (1...4).map { try lab.hostRxPackets($0) - before[$0 - 1] } },
                                       until: { $0[1] >= 5 && $0[3] >= 5 })
            #expect(received == [0, 5, 0, 5])
            let drops = try lab.show()["drops"] as? [String: [String: Int]] ?? [:]
            #expect(drops.values.allSatisfy { $0.isEmpty }, "\(drops)")
            #expect(try sw.stop() == 0)
        }
    }

    /// Tagged frames from scapy on a trunk: VLAN 20 requests reach the access port of
    /// VLAN 20 untagged (h3 answers them, and its kernel has no 8021q, so it only can if
    /// the tag was popped), the replies go back tagged; a VID the trunk does not carry is
    /// dropped and counted as VLAN_NOT_ALLOWED.
    @Test(arguments: Path.allCases)
    func accessAndTrunkPortsTagAndUntag(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 4, gro: path == .redirect) { lab in
            let sw = try start(lab, ["--access", "p1=10", "--access", "p2=10", "--access", "p3=20", "--trunk", "p4=10,20"]
                + path.arguments(ports: ["p1", "p2", "p3", "p4"]))
            let before = try (1...4).map { try lab.hostRxPackets($0) }
            let sent = try Injector.send(in: lab.hostNamespace(4), arpTarget: lab.hostIP(3),
                                         vlanARP: [(vid: 20, count: 3), (vid: 30, count: 2)])
            #expect(sent.total == 5)
            let received = try waitFor("h3 to get 3 requests and h4 3 replies", { try (1...4).map { try lab.hostRxPackets($0) - before[$0 - 1] } },
                                       until: { $0[2] >= 3 && $0[3] >= 3 })
            // h3 got 3 requests; h4 got 3 replies; h1 and h2 (VLAN 10) nothing.
            #expect(received == [0, 0, 3, 3])
            let show = try lab.show()
            let drops = show["drops"] as? [String: [String: Int]] ?? [:]
            #expect(drops["p4"] == ["VLAN_NOT_ALLOWED": 2])
            #expect(try lab.fdb() == ["\(lab.hostMAC(4))@20=p4", "\(lab.hostMAC(3))@20=p3"])
            #expect(try sw.stop() == 0)
        }
    }

    @Test func nothingStaysAttachedAfterSIGINTOrSIGKILL() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2) { lab in
            let pins = "/sys/fs/bpf/bridgetrace/switch/\(lab.switchName)"
            for signal in [SIGINT, SIGKILL] {
                let sw = try start(lab, ["--port", "p1", "--port", "p2"])
                let ids = try lab.attachedXDP()
                #expect(ids.count == 2)
                #expect(FileManager.default.fileExists(atPath: pins))
                try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
                let status = try sw.stop(signal: signal)
                if signal == SIGINT { #expect(status == 0) }
                #expect(try lab.attachedXDP().isEmpty, "XDP left attached after signal \(signal)")
                // bpftool sees no program with those ids any more (the link held the only ref
                // apart from the pin, which a SIGKILLed switch leaves until the next start).
                if signal == SIGINT {
                    #expect(!FileManager.default.fileExists(atPath: pins))
                    for id in ids { #expect(try runResult(["bpftool", "prog", "show", "id", "\(id)"]).status != 0) }
                }
            }
            // The pins of the killed switch are stale: `show` says so and removes them.
            let show = try BridgeTraceBinary.run(["switch", "show", lab.switchName, "--netns", lab.switchNamespace])
            #expect(show.status == 2)
            #expect(show.stderr.contains("not running"))
            #expect(!FileManager.default.fileExists(atPath: pins))
        }
    }

    @Test func aPortHeldByAnotherSwitchOrAForeignProgramIsRefused() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 3) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2"])
            let second = try BridgeTraceBinary.run(["switch", "--name", lab.switchName + "b", "--netns", lab.switchNamespace,
                                                    "--port", "p3", "--port", "p2"])
            #expect(second.status == 2)
            #expect(second.stderr.contains("p2 is already a port of switch \(lab.switchName)"), "\(second.stderr)")
            #expect(try lab.attachedXDP().count == 2)

            let object = try ForeignXDP.compile()
            defer { try? FileManager.default.removeItem(atPath: object) }
            try run(["ip", "-n", lab.switchNamespace, "link", "set", "dev", "p3", "xdp", "obj", object, "sec", "xdp"])
            let third = try BridgeTraceBinary.run(["switch", "--name", lab.switchName + "c", "--netns", lab.switchNamespace,
                                                   "--port", "p3"])
            #expect(third.status == 2)
            #expect(third.stderr.contains("p3 already runs an XDP program that is not this switch's: foreign_xdp"), "\(third.stderr)")
            // The foreign program is still there, and the first switch still forwards.
            #expect(try lab.attachedXDP().count == 3)
            try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
            #expect(try sw.stop() == 0)
            _ = try? run(["ip", "-n", lab.switchNamespace, "link", "set", "dev", "p3", "xdp", "off"])
        }
    }

    /// `counters NAME` and `drops NAME` on a running switch: the same JSON shapes as for a
    /// bridge, exact per-port counts equal to what was sent and to the hosts' `ip -s link`.
    @Test(arguments: Path.allCases)
    func countersAndDropsOfARunningSwitchAreExact(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 4, gro: path == .redirect) { lab in
            // Static neighbours: no ARP while counting, so every frame is one we sent.
            try exec(inNetns: lab.hostNamespace(1), ["ip", "neigh", "replace", lab.hostIP(2), "lladdr", lab.hostMAC(2), "dev", "eth0", "nud", "permanent"])
            try exec(inNetns: lab.hostNamespace(2), ["ip", "neigh", "replace", lab.hostIP(1), "lladdr", lab.hostMAC(1), "dev", "eth0", "nud", "permanent"])
            let sw = try start(lab, ["--access", "p1=10", "--access", "p2=10", "--access", "p3=20", "--trunk", "p4=10,20"]
                + path.arguments(ports: ["p1", "p2", "p3", "p4"]))
            let before = try (1...4).map { try LinkCounters.read("eth0", inNetns: lab.hostNamespace($0)) }
            try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "4", "-i", "0.2", "-W", "2", lab.hostIP(2)])
            // 3 tagged requests on VLAN 20 (h3 answers each), 2 on VLAN 30 (not carried).
            try Injector.send(in: lab.hostNamespace(4), arpTarget: lab.hostIP(3), vlanARP: [(vid: 20, count: 3), (vid: 30, count: 2)])
            // h1: 4 replies, h2: 4 requests, h3: 3 ARP requests, h4: 3 ARP replies and the flooded first echo request.
            let after = try waitFor("the hosts to receive [4, 4, 3, 4] frames", {
                try (1...4).map { try LinkCounters.read("eth0", inNetns: lab.hostNamespace($0)) }
            }, until: { after in zip(after, before).map { $0.rxPackets - $1.rxPackets } == [4, 4, 3, 4] })

            let counters = try BridgeTraceBinary.run(["counters", lab.switchName, "--json", "--duration", "0.3", "--interval", "0.3"])
            #expect(counters.status == 0, "\(counters.stderr)")
            let lines = try counters.stdout.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
            }
            #expect(lines.last?["bridge"] as? String == lab.switchName)
            #expect(lines.last?["netns"] as? String == lab.switchNamespace)
            let p1 = try CountersReading.last(lines, port: "p1"), p2 = try CountersReading.last(lines, port: "p2")
            let p3 = try CountersReading.last(lines, port: "p3"), p4 = try CountersReading.last(lines, port: "p4")
            #expect(p1.value("rx", "frames") == 4)
            #expect(p1.value("rx", "icmp_echo_request") == 4)
            #expect(p1.value("tx", "icmp_echo_reply") == 4)
            #expect(p2.value("tx", "frames") == 4)
            #expect(p2.value("rx", "icmp_echo_reply") == 4)
            #expect(p4.value("rx", "frames") == 5)
            #expect(p4.value("rx", "arp_request") == 5)
            #expect(p4.vlan("rx") == ["20": 3, "30": 2])
            // The first echo request is unknown unicast: flooded in VLAN 10, so also to p4, tagged.
            #expect(p4.value("tx", "arp_reply") == 3)
            #expect(p4.value("tx", "icmp_echo_request") == 1)
            #expect(p4.vlan("tx") == ["10": 1, "20": 3])
            #expect(p3.value("tx", "arp_request") == 3)
            #expect(p3.value("tx", "vlan_tagged") == 0)
            #expect(p3.value("rx", "arp_reply") == 3)
            // The switch's tx per port is what the host's eth0 received, by the kernel's count.
            for (index, port) in [p1, p2, p3, p4].enumerated() {
                #expect(port.value("tx", "frames") == after[index].rxPackets - before[index].rxPackets, "p\(index + 1)")
                #expect(port.value("rx", "frames") == after[index].txPackets - before[index].txPackets, "p\(index + 1)")
            }
            let p4Drops = p4.object["drops"] as? [String: Any]
            #expect(p4Drops?["total"] as? Int == 2)
            #expect((p4Drops?["reasons"] as? [String: Int])?["VLAN_NOT_ALLOWED"] == 2)

            let drops = try BridgeTraceBinary.run(["drops", lab.switchName, "--netns", lab.switchNamespace, "--json",
                                                   "--duration", "0.3", "--interval", "0.3"])
            #expect(drops.status == 0, "\(drops.stderr)")
            #expect(drops.stdout.contains("VLAN_NOT_ALLOWED"), "\(drops.stdout)")
            // trace takes a switch too (SwitchTraceIntegrationTests has its counts).
            let trace = try BridgeTraceBinary.run(["trace", lab.switchName, "--netns", lab.switchNamespace, "--duration", "0.5"])
            #expect(trace.status == 0, "\(trace.stderr)")
            #expect(trace.stderr.contains("is a bridgetrace switch"), "\(trace.stderr)")
            #expect(try sw.stop() == 0)
        }
    }

    /// --port-glob: an interface that appears later joins (a VM starting), one that
    /// vanishes leaves, and the other ports keep forwarding throughout.
    @Test func hotPluggedPortsJoinAndLeave() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 3) { lab in
            // Host 3's veth is made after the switch starts, named vm3 on the switch side.
            try run(["ip", "-n", lab.hostNamespace(3), "link", "del", "eth0"])
            let sw = try start(lab, ["--port", "p1", "--port", "p2", "--port-glob", "vm*"])
            #expect(try (lab.show()["ports"] as? [[String: Any]] ?? []).count == 2)
            // 60 pings over ~6 s from h1 to h2 while vm3 comes and goes.
            let pingLog = FileManager.default.temporaryDirectory.appendingPathComponent("bt-ping-\(lab.id)").path
            defer { unlink(pingLog) }
            let pings = try BackgroundProcess(["sh", "-c", "ip netns exec \(lab.hostNamespace(1)) ping -c 60 -i 0.1 -W 1 \(lab.hostIP(2)) > \(pingLog) 2>&1"])
            defer { pings.stop() }

            try run(["ip", "-n", lab.hostNamespace(3), "link", "add", "eth0", "address", lab.hostMAC(3), "type", "veth",
                     "peer", "name", "vm3", "netns", lab.switchNamespace])
            try run(["ip", "-n", lab.hostNamespace(3), "addr", "add", "\(lab.hostIP(3))/24", "dev", "eth0"])
            try run(["ip", "-n", lab.hostNamespace(3), "link", "set", "eth0", "up"])
            try run(["ip", "-n", lab.switchNamespace, "link", "set", "vm3", "up"])
            var names: [String] = []
            for _ in 0..<30 where !names.contains("vm3") {
                usleep(200_000)
                names = (try lab.show()["ports"] as? [[String: Any]] ?? []).compactMap { $0["port"] as? String }
            }
            #expect(names == ["p1", "p2", "vm3"])
            #expect(try lab.attachedXDP().count == 3)
            let toNew = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "3", "-i", "0.2", "-W", "2", lab.hostIP(3)])
            #expect(toNew.contains("3 received"))

            try run(["ip", "-n", lab.switchNamespace, "link", "del", "vm3"])
            // Until the switch's next netlink look (each second) show lists the gone port by ifindex.
            for _ in 0..<30 where names.count != 2 {
                usleep(200_000)
                names = (try lab.show()["ports"] as? [[String: Any]] ?? []).compactMap { $0["port"] as? String }
            }
            #expect(names == ["p1", "p2"])
            #expect(!(try lab.fdb()).contains { $0.hasSuffix("=vm3") })
            #expect(sw.stderr.contains("vm3: joined the switch"))
            #expect(sw.stderr.contains("vm3: vanished"))
            // h1 -> h2 was never disturbed: every echo of the background ping came back.
            var summary = ""
            for _ in 0..<100 where !summary.contains("packet loss") {
                usleep(100_000)
                summary = (try? String(contentsOfFile: pingLog, encoding: .utf8)) ?? ""
            }
            #expect(summary.contains("60 received"), "\(summary)")
            #expect(try sw.stop() == 0)
        }
    }

    /// A MAC that turns up on another port moves (counted: mac_flapping evidence); a
    /// destination learned on the ingress port is not sent back (HAIRPIN); a full FDB
    /// refuses new sources (FDB_FULL) and still forwards by flooding.
    @Test func macMovesHairpinAndAFullFDBAreCounted() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 3) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2", "--port", "p3", "--fdb-max", "3",
                                     "--static", "p2=02:00:00:00:00:77"])
            try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
            let staticMAC = "02:00:00:00:00:77"
            #expect(try lab.fdb() == ["\(lab.hostMAC(1))@1=p1", "\(lab.hostMAC(2))@1=p2", "\(staticMAC)@1=p2"])
            // h3 claims h1's MAC: the entry moves to p3. It claims the static MAC: that stays.
            try lab.sendARP(from: 3, count: 2, source: lab.hostMAC(1))
            try lab.sendARP(from: 3, count: 1, source: staticMAC)
            let moved: Set = ["\(lab.hostMAC(1))@1=p3", "\(lab.hostMAC(2))@1=p2", "\(staticMAC)@1=p2"]
            #expect(try waitFor("h1's MAC to move to p3", { try lab.fdb() }, until: { $0.contains("\(lab.hostMAC(1))@1=p3") }) == moved)
            let staticEntry = (try lab.show()["fdb"] as? [[String: Any]] ?? []).first { $0["mac"] as? String == staticMAC }
            #expect(staticEntry?["static"] as? Bool == true)
            // h3's own MAC finds the FDB full (3 entries): not learned, counted, still flooded.
            let before = try lab.hostRxPackets(2)
            try lab.sendARP(from: 3, count: 3)
            #expect(try waitFor("h2 to get the 3 flooded frames", { try lab.hostRxPackets(2) - before }, until: { $0 >= 3 }) == 3)
            // h3 sends to h1's MAC, which the FDB now places on p3 itself: a hairpin.
            try lab.sendARP(from: 3, count: 4, destination: lab.hostMAC(1))
            let show = try waitFor("4 HAIRPIN drops on p3", { try lab.show() }, until: { show in
                ((show["drops"] as? [String: [String: Int]])?["p3"]?["HAIRPIN"] ?? 0) >= 4
            })
            let stats = show["stats"] as? [String: Int] ?? [:]
            #expect(stats["mac_moves"] == 1)
            let entries = show["fdb"] as? [[String: Any]] ?? []
            #expect(entries.first { $0["mac"] as? String == lab.hostMAC(1) }?["moves"] as? Int == 1)
            let drops = show["drops"] as? [String: [String: Int]] ?? [:]
            #expect(drops["p3"] == ["FDB_FULL": 7, "HAIRPIN": 4], "\(drops)")
            #expect(try sw.stop() == 0)
        }
    }

    /// The learning shortcut (a source seen again on the same port within the same
    /// clock second skips the FDB lookup) never hides a move: a MAC flapping between two
    /// ports every 5 ms is followed and counted at every change.
    @Test func aMACFlappingWithinOneSecondIsCountedAtEveryMove() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 3) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2", "--port", "p3"])
            // p1, p3, p1, p3, p1, p3: learnt once, then five moves.
            try lab.sendFlapping(mac: lab.hostMAC(1), between: 1, and: 3, frames: 6)
            usleep(200_000)
            let show = try lab.show()
            #expect((show["stats"] as? [String: Int] ?? [:])["mac_moves"] == 5)
            let entry = (show["fdb"] as? [[String: Any]] ?? []).first { $0["mac"] as? String == lab.hostMAC(1) }
            #expect(entry?["port"] as? String == "p3")
            #expect(entry?["moves"] as? Int == 5)
            #expect(try sw.stop() == 0)
        }
    }

    /// The in-process API the bench uses: launch returns with every port attached, stop
    /// leaves nothing.
    @Test func switchThreadRunsInProcess() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2) { lab in
            let config = SwitchConfig(name: lab.switchName, netns: lab.switchNamespace,
                                      ports: [SwitchPortSpec(name: "p1"), SwitchPortSpec(name: "p2")], fastPath: false)
            let sw = try SwitchThread.launch(config, cpu: 1)
            #expect(sw.ports.map(\.name) == ["p1", "p2"])
            #expect(sw.ports.map(\.path) == [.xsk, .xsk])
            #expect(try lab.attachedXDP().count == 2)
            let output = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "3", "-i", "0.2", "-W", "2", lab.hostIP(2)])
            #expect(output.contains("3 received"))
            sw.stop()
            #expect(try lab.attachedXDP().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/bpf/bridgetrace/switch/\(lab.switchName)"))
            // A second launch on a missing port fails cleanly, with the error, and leaves nothing.
            var bad = config
            bad.ports.append(SwitchPortSpec(name: "nope"))
            #expect(throws: (any Error).self) { try SwitchThread.launch(bad) }
            #expect(try lab.attachedXDP().isEmpty)
        }
    }

    /// PORT_DOWN and MTU_EXCEEDED, on the fast path's decision for known unicast.
    @Test(arguments: [Path.xsk, Path.userspace])
    func aDownPortAndATooSmallMTUAreCountedDrops(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2) { lab in
            let sw = try start(lab, ["--port", "p1", "--port", "p2"] + path.arguments(ports: []))
            try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
            try run(["ip", "-n", lab.switchNamespace, "link", "set", "p2", "mtu", "1000"])
            // The switch reads MTU and carrier each second.
            try waitFor("the switch to see p2's MTU 1000") { try Self.port("p2", of: lab)?["mtu"] as? Int == 1000 }
            let big = try runResult(["ip", "netns", "exec", lab.hostNamespace(1), "ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", "1200", lab.hostIP(2)])
            #expect(!big.succeeded)
            try run(["ip", "-n", lab.switchNamespace, "link", "set", "p2", "mtu", "1500"])
            try run(["ip", "-n", lab.hostNamespace(2), "link", "set", "eth0", "down"])
            try waitFor("the switch to see p2 down") {
                let p2 = try Self.port("p2", of: lab)
                return p2?["up"] as? Bool == false && p2?["mtu"] as? Int == 1500
            }
            let down = try runResult(["ip", "netns", "exec", lab.hostNamespace(1), "ping", "-c", "2", "-i", "0.2", "-W", "1", lab.hostIP(2)])
            #expect(!down.succeeded)
            let show = try lab.show()
            let ports = show["ports"] as? [[String: Any]] ?? []
            #expect(ports.first { $0["port"] as? String == "p2" }?["up"] as? Bool == false)
            let drops = show["drops"] as? [String: [String: Int]] ?? [:]
            #expect(drops["p2"] == ["MTU_EXCEEDED": 3, "PORT_DOWN": 2], "\(drops)")
            #expect(sw.stderr.contains("p2: port down"))
            #expect(try sw.stop() == 0)
        }
    }
}

extension SwitchIntegrationTests {
    /// Port `name` as `switch show` lists it.
    static func port(_ name: String, of lab: SwitchLab) throws -> [String: Any]? {
        (try lab.show()["ports"] as? [[String: Any]] ?? []).first { $0["port"] as? String == name }
    }
}
