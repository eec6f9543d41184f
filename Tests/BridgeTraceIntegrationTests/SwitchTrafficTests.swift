import BridgeTraceLab
import BridgeTraceProcess
import Foundation
import Testing

/// A VM's traffic through `bridgetrace switch` (issue 19): TCP and UDP with the kernel's
/// offloads on, every rx queue of a multi-queue port, jumbo frames, the host port and
/// failed redirects. Counts are the kernel's (`ip -s link`, `ethtool -S`, `nstat`) and
/// iperf3's, checked against the switch's own.
@Suite(.serialized) struct SwitchTrafficTests {
    typealias Path = SwitchIntegrationTests.Path

    func start(_ lab: SwitchLab, _ arguments: [String], environment: [String: String] = [:]) throws -> BackgroundBridgetrace {
        let sw = try BackgroundBridgetrace(["switch", "--name", lab.switchName, "--netns", lab.switchNamespace] + arguments,
                                           environment: environment)
        try sw.waitUntilReady()
        return sw
    }

    /// Per-port counters from `counters NAME --json`, once the switch's tx equals what the
    /// hosts' eth0 received and its rx what they sent, by the kernel's count.
    func expectCountsMatchTheHosts(_ lab: SwitchLab, since before: [LinkCounters], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var last: [(rx: Int, tx: Int)] = []
        var hosts: [LinkCounters] = []
        for _ in 0..<50 {
            hosts = try (1...lab.hosts).map { try lab.hostCounters($0).since(before[$0 - 1]) }
            let result = try BridgeTraceBinary.run(["counters", lab.switchName, "--json", "--duration", "0.2", "--interval", "0.2"])
            let lines = try result.stdout.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
            }
            last = try (1...lab.hosts).map { index in
                let port = try CountersReading.last(lines, port: lab.port(index))
                return (port.value("rx", "frames"), port.value("tx", "frames"))
            }
            if zip(last, hosts).allSatisfy({ $0.rx == $1.txPackets && $0.tx == $1.rxPackets }) { return }
            usleep(100_000)
        }
        for (index, (port, host)) in zip(last, hosts).enumerated() {
            #expect(port.rx == host.txPackets, "p\(index + 1) rx vs h\(index + 1) tx", sourceLocation: sourceLocation)
            #expect(port.tx == host.rxPackets, "p\(index + 1) tx vs h\(index + 1) rx", sourceLocation: sourceLocation)
        }
    }

    // MARK: - 1. TCP and UDP with offloads

    /// iperf3 TCP, then UDP, h1 -> h2 through each path, with GSO, TSO and checksum offload
    /// as the kernel sets them (on). Nothing arrives with a bad checksum (nstat), every
    /// frame is counted where the kernel counts it, and the switch completed the partial
    /// checksums it was handed.
    @Test(arguments: Path.allCases)
    func tcpAndUDPWithOffloadsArriveWithGoodChecksums(path: Path) throws {
        try requireRoot()
        try requireTool("iperf3")
        try SwitchLab.with(hosts: 2, gro: path == .redirect) { lab in
            try lab.staticNeighbours()
            let offloads = try exec(inNetns: lab.hostNamespace(1), ["ethtool", "-k", "eth0"])
            #expect(offloads.contains("tx-checksumming: on"), "\(offloads)")
            let sw = try start(lab, ["--port", "p1", "--port", "p2"] + path.arguments(ports: ["p1", "p2"]))
            let before = try (1...2).map { try lab.hostCounters($0) }
            let tcp = try Iperf3.run(from: lab.hostNamespace(1), to: lab.hostNamespace(2), address: lab.hostIP(2), seconds: 2)
            #expect(tcp.receivedBytes > 10_000_000, "TCP moved \(tcp.receivedBytes) bytes")
            let udp = try Iperf3.run(from: lab.hostNamespace(1), to: lab.hostNamespace(2), address: lab.hostIP(2), seconds: 1,
                                     udpBitsPerSecond: 50_000_000)
            #expect(udp.packets > 1000, "UDP sent \(udp.packets) datagrams")
            for index in 1...2 {
                let errors = try Nstat.absolute(in: lab.hostNamespace(index), ["TcpInCsumErrors", "UdpInCsumErrors"])
                #expect(errors == ["TcpInCsumErrors": 0, "UdpInCsumErrors": 0], "h\(index)")
            }
            // Every datagram iperf3 lost, it lost at the receiving socket (its buffer fills
            // when AF_XDP TX delivers a burst), none on the way: the kernel's count says so.
            let receiver = try Nstat.absolute(in: lab.hostNamespace(2), ["UdpRcvbufErrors", "UdpInDatagrams"])
            #expect(udp.lostPackets == receiver["UdpRcvbufErrors"], "UDP lost \(udp.lostPackets) of \(udp.packets): \(receiver)")
            try expectCountsMatchTheHosts(lab, since: before)
            // Partial checksums: completed on the way to AF_XDP; on the kernel's way the skb
            // path keeps them partial (the receiver's stack trusts an skb that says so).
            let stats = try lab.stats()
            if path == .redirect {
                #expect((stats["skb_path"] ?? 0) > 1000, "\(stats)")
                #expect((stats["fast_path"] ?? 0) > 1000, "\(stats)")
            } else {
                #expect((stats["csum_completed"] ?? 0) > 1000, "\(stats)")
                #expect(stats["fast_path"] == 0, "\(stats)")
            }
            #expect(try lab.drops() == ["p1": [:], "p2": [:]])
            #expect(try sw.stop() == 0)
        }
    }

    /// What a virtio-net guest with TSO and checksum offload hands its tap, written by a
    /// process that holds the tap with IFF_VNET_HDR as QEMU does: TCP super-frames of
    /// 20000 bytes (GSO TCPV4, gso_size 1448, NEEDS_CSUM) and 1000-byte segments whose
    /// checksum holds only the pseudo-header sum (NEEDS_CSUM). The tap runs generic XDP on
    /// the GSO skbs: the switch passes them to its skb path, which forwards them with their
    /// offload state; the others it completes. h1's TCP sees no checksum error, and its
    /// veth received every byte.
    @Test(arguments: [Path.xsk, Path.userspace])
    func aGuestsOffloadedTCPFramesArriveWhole(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 1) { lab in
            try run(["ip", "-n", lab.switchNamespace, "tuntap", "add", "dev", "vt0", "mode", "tap", "vnet_hdr"])
            let guest = try VirtioTap(namespace: lab.switchNamespace, name: "vt0")
            defer { guest.stop() }
            try run(["ip", "-n", lab.switchNamespace, "link", "set", "vt0", "up"])
            let sw = try start(lab, ["--port", "p1", "--port", "vt0", "--static", "p1=\(lab.hostMAC(1))"] + path.arguments(ports: []))
            _ = try Nstat.absolute(in: lab.hostNamespace(1), ["TcpInSegs"])
            let before = try lab.hostCounters(1)
            try guest.send(to: lab.hostMAC(1), ip: lab.hostIP(1), superFrames: 5, partialSegments: 5)
            let got = try waitFor("h1 to receive 10 frames", { try lab.hostCounters(1).since(before) }, until: { $0.rxPackets >= 10 })
            // 14 + 20 + 20 bytes of headers on each.
            #expect(got.rxBytes == 5 * (54 + 20000) + 5 * (54 + 1000))
            #expect(try Nstat.absolute(in: lab.hostNamespace(1), ["TcpInCsumErrors"]) == ["TcpInCsumErrors": 0])
            #expect(try Nstat.absolute(in: lab.hostNamespace(1), ["TcpInSegs"])["TcpInSegs"] ?? 0 >= 10)
            let stats = try lab.stats()
            #expect(stats["skb_path"] == 5, "\(stats)")
            #expect(stats["csum_completed"] == 5, "\(stats)")
            // Before 6.15 a tap's XDP buffers (tun_build_skb) have no metadata room: its
            // sockets take the decision in-band on every kernel, or the segments were lost.
            let ports = try lab.show()["ports"] as? [[String: Any]] ?? []
            #expect(ports.first { $0["port"] as? String == "vt0" }?["meta_inband"] as? Bool == true, "\(ports)")
            #expect(try lab.drops()["p1"] == [:])
            #expect(try sw.stop() == 0)
        }
    }

    // MARK: - 2. Jumbo frames

    /// MTU 9000 on every veth: 8000-byte IP packets cross each path (ping, don't fragment),
    /// and TCP with 9000-byte segments arrives with good checksums.
    @Test(arguments: Path.allCases)
    func jumboFramesCrossEveryPath(path: Path) throws {
        try requireRoot()
        try requireTool("iperf3")
        try SwitchLab.with(hosts: 2, gro: path == .redirect, mtu: 9000) { lab in
            try lab.staticNeighbours()
            let sw = try start(lab, ["--port", "p1", "--port", "p2"] + path.arguments(ports: ["p1", "p2"]))
            // Both hosts learned first, as a TCP handshake would: a flood goes through the
            // sockets, which before 6.6 take no jumbo frame.
            _ = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "1", "-W", "2", lab.hostIP(2)])
            let before = try (1...2).map { try lab.hostCounters($0) }
            let ports = try lab.show()["ports"] as? [[String: Any]] ?? []
            #expect(ports.allSatisfy { $0["mtu"] as? Int == 9000 })
            if path != .redirect && !KernelFeatures.afXDPSG {
                // Before 6.6 the sockets take one UMEM frame: a jumbo frame bound for them is
                // FRAME_TOO_BIG where it enters, and never a full ring.
                let ping = try runResult(["ip", "netns", "exec", lab.hostNamespace(1), "ping", "-c", "3", "-i", "0.2", "-W", "1", "-M", "do",
                                          "-s", "7972", lab.hostIP(2)])
                #expect(!ping.succeeded)
                #expect(try lab.drops() == ["p1": ["FRAME_TOO_BIG": 3], "p2": [:]])
                #expect(try sw.stop() == 0)
                return
            }
            let ping = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "3", "-i", "0.2", "-W", "2", "-M", "do", "-s", "7972", lab.hostIP(2)])
            #expect(ping.contains("3 received"), "\(ping)")
            let after = try lab.hostCounters(2).since(before[1])
            #expect(after.rxBytes >= 3 * 8014, "h2 got \(after.rxBytes) bytes")
            // The switch counts each jumbo frame whole, as the kernel does.
            let counted = try BridgeTraceBinary.run(["counters", lab.switchName, "--json", "--duration", "0.2", "--interval", "0.2"])
            let lines = try counted.stdout.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
            }
            #expect(try CountersReading.last(lines, port: "p2").value("tx", "bytes") >= 3 * 8014, "\(counted.stdout)")
            // An amount, not a rate: under TCG (the kernel matrix) it takes longer.
            let tcp = try Iperf3.run(from: lab.hostNamespace(1), to: lab.hostNamespace(2), address: lab.hostIP(2),
                                     seconds: Int(TestTime.scaled(1)))
            #expect(tcp.receivedBytes > 10_000_000)
            for index in 1...2 {
                #expect(try Nstat.absolute(in: lab.hostNamespace(index), ["TcpInCsumErrors"]) == ["TcpInCsumErrors": 0])
            }
            #expect(try lab.drops() == ["p1": [:], "p2": [:]])
            #expect(try sw.stop() == 0)
        }
    }

    /// A frame over what a port carries is dropped with a reason that says so: over the
    /// egress port's MTU, MTU_EXCEEDED; longer than the AF_XDP sockets take (here made
    /// single-buffer with BRIDGETRACE_WITHOUT=af_xdp_sg, as on a kernel before 6.6),
    /// FRAME_TOO_BIG. Never a ring-full reason.
    @Test func oversizedFramesAreDroppedWithTheirReason() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2, mtu: 9000) { lab in
            try lab.staticNeighbours()
            let sw = try start(lab, ["--port", "p1", "--port", "p2", "--no-fast-path"], environment: ["BRIDGETRACE_WITHOUT": "af_xdp_sg"])
            let ports = try lab.show()["ports"] as? [[String: Any]] ?? []
            #expect(ports.map { $0["xsk_frame_max"] as? Int } == [1792, 1792])
            let before = try lab.hostCounters(2)
            let big = try runResult(["ip", "netns", "exec", lab.hostNamespace(1), "ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", "7972", lab.hostIP(2)])
            #expect(!big.succeeded)
            // 1500-byte frames still fit a UMEM frame and pass.
            let small = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", "-s", "1472", lab.hostIP(2)])
            #expect(small.contains("2 received"))
            #expect(try lab.hostCounters(2).since(before).rxPackets == 2)
            #expect(try lab.drops() == ["p1": ["FRAME_TOO_BIG": 3], "p2": [:]])
            #expect(try sw.stop() == 0)
        }
        try SwitchLab.with(hosts: 2, mtu: 9000) { lab in
            try lab.staticNeighbours()
            let sw = try start(lab, ["--port", "p1", "--port", "p2"])
            try run(["ip", "-n", lab.switchNamespace, "link", "set", "p2", "mtu", "4000"])
            try waitFor("the switch to see p2's MTU 4000") { try SwitchIntegrationTests.port("p2", of: lab)?["mtu"] as? Int == 4000 }
            let big = try runResult(["ip", "netns", "exec", lab.hostNamespace(1), "ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", "7972", lab.hostIP(2)])
            #expect(!big.succeeded)
            // Veth ports without NAPI on their peers send with AF_XDP TX: where the sockets
            // are single-buffer (before 6.6) the frame is too big for them before p2's MTU.
            let expected = KernelFeatures.afXDPSG ? ["p1": [:], "p2": ["MTU_EXCEEDED": 3]] : ["p1": ["FRAME_TOO_BIG": 3], "p2": [:]]
            #expect(try lab.drops() == expected)
            #expect(try sw.stop() == 0)
        }
    }

    // MARK: - 3. Every rx queue

    struct QueueCase: Sendable, CustomTestStringConvertible {
        var path: Path
        /// --cpus: forwarding threads.
        var cpus: String?
        var testDescription: String { "\(path)" + (cpus.map { " --cpus \($0)" } ?? "") }
    }

    /// Veths with 4 queues: 64 UDP broadcasts from 64 source ports land on every rx queue
    /// of p1 (ethtool -S), and each other host receives exactly 64; then 64 unicast
    /// datagrams from 64 ports reach h2 and not h3. With one
    /// forwarding thread, and with two (`--cpus 0,1`), which split the queues.
    @Test(arguments: [QueueCase(path: .xsk), QueueCase(path: .userspace), QueueCase(path: .xsk, cpus: "0,1"),
                      QueueCase(path: .userspace, cpus: "0,1")])
    func everyRxQueueHasASocket(_ queueCase: QueueCase) throws {
        try requireRoot()
        let path = queueCase.path
        try SwitchLab.with(hosts: 3, queues: 4) { lab in
            try lab.staticNeighbours()
            // h2's MAC is static: unicast to it is known from the first frame.
            let sw = try start(lab, ["--port", "p1", "--port", "p2", "--port", "p3", "--static", "p2=\(lab.hostMAC(2))"]
                + path.arguments(ports: []) + (queueCase.cpus.map { ["--cpus", $0] } ?? []))
            let ports = try lab.show()["ports"] as? [[String: Any]] ?? []
            #expect(ports.map { $0["queues"] as? Int } == [4, 4, 4])
            let queuesBefore = try Self.xdpPacketsPerQueue(lab, port: "p1")
            let before = try (1...3).map { try lab.hostCounters($0) }
            try Self.sendUDP(from: lab, host: 1, to: "ff:ff:ff:ff:ff:ff", ip: "198.18.0.255", sourcePorts: 64)
            let delivered = try waitFor("h2 and h3 to get 64 broadcasts", {
                try (1...3).map { try lab.hostCounters($0).since(before[$0 - 1]).rxPackets }
            }, until: { $0[1] >= 64 && $0[2] >= 64 })
            #expect(delivered == [0, 64, 64])
            let perQueue = zip(try Self.xdpPacketsPerQueue(lab, port: "p1"), queuesBefore).map { $0 - $1 }
            #expect(perQueue.count == 4)
            #expect(perQueue.reduce(0, +) == 64, "\(perQueue)")
            #expect(perQueue.allSatisfy { $0 > 0 }, "64 flows should hash onto every queue: \(perQueue)")

            try Self.sendUDP(from: lab, host: 1, to: lab.hostMAC(2), ip: lab.hostIP(2), sourcePorts: 64)
            let unicast = try waitFor("h2 to get 64 datagrams", {
                try (1...3).map { try lab.hostCounters($0).since(before[$0 - 1]).rxPackets }
            }, until: { $0[1] >= 128 })
            // Only h2: h3 has the 64 broadcasts alone. h1 gets the ICMP port unreachables
            // h2 answers with (as many as its rate limit lets out): counted below.
            #expect(unicast[1] == 128)
            #expect(unicast[2] == 64)
            try expectCountsMatchTheHosts(lab, since: before)
            #expect(try lab.drops() == ["p1": [:], "p2": [:], "p3": [:]])
            #expect(try sw.stop() == 0)
        }
    }

    /// A multi-queue tap (`ip tuntap ... multi_queue`) with four queues held by a process,
    /// as QEMU holds them for a virtio-net with queues=4: 16 broadcasts written to each
    /// queue's fd reach h1, 64 in all, through the switch's socket on every queue.
    @Test(arguments: [Path.xsk, Path.userspace])
    func aMultiQueueTapIsServedOnEveryQueue(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 1) { lab in
            try run(["ip", "-n", lab.switchNamespace, "tuntap", "add", "dev", "mq0", "mode", "tap", "multi_queue"])
            let holder = try MultiQueueTap(namespace: lab.switchNamespace, name: "mq0", queues: 4)
            defer { holder.stop() }
            try run(["ip", "-n", lab.switchNamespace, "link", "set", "mq0", "up"])
            let sw = try start(lab, ["--port", "p1", "--port", "mq0"] + path.arguments(ports: []))
            let ports = try lab.show()["ports"] as? [[String: Any]] ?? []
            #expect(ports.first { $0["port"] as? String == "mq0" }?["queues"] as? Int == 4)
            let before = try lab.hostCounters(1)
            try holder.send(broadcastsPerQueue: 16)
            let got = try waitFor("h1 to get 64 broadcasts", { try lab.hostCounters(1).since(before).rxPackets }, until: { $0 >= 64 })
            #expect(got == 64)
            let queues = try Self.xdpPacketsPerQueue(lab, port: "mq0")
            #expect(queues.isEmpty || queues.allSatisfy { $0 >= 16 }, "\(queues)")
            #expect(try lab.drops()["mq0"] == [:])
            #expect(try sw.stop() == 0)
        }
    }

    // MARK: - 4. The host port

    /// `--host-port hp0`: the host's address on hp0 answers a VM's pings on either path;
    /// counters and trace show hp0-sw as a port; the pair goes when the switch stops,
    /// and after SIGKILL the next start (or `bridgetrace cleanup`) removes it.
    @Test(arguments: [Path.xsk, Path.userspace])
    func aVMPingsTheHostPort(path: Path) throws {
        try requireRoot()
        try SwitchLab.with(hosts: 1) { lab in
            let sw = try start(lab, ["--port", "p1", "--host-port", "hp0"] + path.arguments(ports: []))
            try run(["ip", "-n", lab.switchNamespace, "addr", "add", "198.18.0.100/24", "dev", "hp0"])
            let ports = try lab.show()["ports"] as? [[String: Any]] ?? []
            #expect(Set(ports.compactMap { $0["port"] as? String }) == ["p1", "hp0-sw"])
            #expect(ports.first { $0["port"] as? String == "hp0-sw" }?["path"] as? String == "redirect")
            let trace = try BackgroundBridgetrace(["trace", lab.switchName, "--netns", lab.switchNamespace, "--json", "icmp"])
            try trace.waitUntilReady()
            let ping = try exec(inNetns: lab.hostNamespace(1), ["ping", "-c", "5", "-i", "0.2", "-W", "2", "198.18.0.100"])
            #expect(ping.contains("5 received"), "\(ping)")
            try trace.waitForStdout("10 ICMP events at hp0-sw", timeout: 10) { output in
                output.split(separator: "\n").filter { $0.contains("\"port\": \"hp0-sw\"") }.count >= 10
            }
            _ = try trace.stop()
            let events = try trace.jsonLines().filter { $0["port"] as? String == "hp0-sw" }
            #expect(events.filter { $0["dir"] as? String == "tx" }.count == 5)  // requests sent to the host
            #expect(events.filter { $0["dir"] as? String == "rx" }.count == 5)  // its replies
            let counters = try BridgeTraceBinary.run(["counters", lab.switchName, "--json", "--duration", "0.2", "--interval", "0.2"])
            let lines = try counters.stdout.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
            }
            let host = try CountersReading.last(lines, port: "hp0-sw")
            #expect(host.value("tx", "icmp_echo_request") == 5)
            #expect(host.value("rx", "icmp_echo_reply") == 5)
            // Everything the host sent out of hp0 entered the switch at hp0-sw, and back.
            let hp0 = try LinkCounters.read("hp0", inNetns: lab.switchNamespace)
            #expect(host.value("rx", "frames") == hp0.txPackets)
            #expect(host.value("tx", "frames") == hp0.rxPackets)
            #expect(try sw.stop() == 0)
            #expect(try runResult(["ip", "-n", lab.switchNamespace, "link", "show", "hp0"]).status != 0, "hp0 left after a clean stop")

            // SIGKILL leaves the pair; the next start removes it and makes a new one.
            let killed = try start(lab, ["--port", "p1", "--host-port", "hp0"])
            _ = try killed.stop(signal: SIGKILL)
            #expect(try runResult(["ip", "-n", lab.switchNamespace, "link", "show", "hp0"]).succeeded)
            let again = try start(lab, ["--port", "p1", "--host-port", "hp0"])
            #expect(again.stderr.contains("removed host port hp0 that switch \(lab.switchName) left"), "\(again.stderr)")
            _ = try again.stop(signal: SIGKILL)
            let cleanup = try BridgeTraceBinary.run(["cleanup", "--netns", lab.switchNamespace])
            #expect(cleanup.stdout.contains("removed hp0: host port of switch \(lab.switchName)"), "\(cleanup.stdout)")
            #expect(cleanup.stdout.contains("removed the pinned state of switch \(lab.switchName)"), "\(cleanup.stdout)")
            #expect(!FileManager.default.fileExists(atPath: SwitchPinsPath.directory(lab.switchName)))
            #expect(try runResult(["ip", "-n", lab.switchNamespace, "link", "show", "hp0"]).status != 0)
        }
    }

    // MARK: - 5. Failed redirects

    /// --redirect into a veth whose peer has no NAPI (no XDP, GRO off): the kernel refuses
    /// every redirected frame after the program returned. Each is counted as
    /// REDIRECT_FAILED at that port, and nothing arrives.
    @Test func failedRedirectsAreCountedAtTheEgressPort() throws {
        try requireRoot()
        try SwitchLab.with(hosts: 2) { lab in
            try lab.staticNeighbours()
            let gro = try exec(inNetns: lab.hostNamespace(2), ["ethtool", "-k", "eth0"])
            #expect(gro.contains("generic-receive-offload: off"))
            let sw = try start(lab, ["--port", "p1", "--port", "p2", "--redirect", "p2", "--static", "p2=\(lab.hostMAC(2))"])
            let before = try lab.hostCounters(2)
            let ping = try runResult(["ip", "netns", "exec", lab.hostNamespace(1), "ping", "-c", "5", "-i", "0.2", "-W", "1", lab.hostIP(2)])
            #expect(!ping.succeeded)
            #expect(try lab.hostCounters(2).since(before).rxPackets == 0)
            let drops = try waitFor("5 REDIRECT_FAILED at p2", { try lab.drops() }, until: { ($0["p2"]?["REDIRECT_FAILED"] ?? 0) >= 5 })
            #expect(drops == ["p1": [:], "p2": ["REDIRECT_FAILED": 5]])
            #expect(try sw.stop() == 0)
        }
    }
}

extension SwitchTrafficTests {
    /// `ethtool -S PORT`'s rx_queue_N_xdp_packets (veth), by queue; empty for a device
    /// that has no such statistics.
    static func xdpPacketsPerQueue(_ lab: SwitchLab, port: String) throws -> [Int] {
        let output = (try? exec(inNetns: lab.switchNamespace, ["ethtool", "-S", port])) ?? ""
        var counts: [Int: Int] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0].hasPrefix("rx_queue_"), parts[0].hasSuffix("_xdp_packets"),
                  let queue = Int(parts[0].dropFirst("rx_queue_".count).dropLast("_xdp_packets".count)),
                  let value = Int(parts[1]) else { continue }
            counts[queue] = value
        }
        return counts.keys.sorted().map { counts[$0]! }
    }

    /// One UDP datagram from each of `sourcePorts` source ports out of host `host`'s eth0
    /// (AF_PACKET: the kernel picks the tx queue by the flow's hash).
    static func sendUDP(from lab: SwitchLab, host: Int, to mac: String, ip: String, sourcePorts: Int) throws {
        let script = """
        import logging; logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        from scapy.all import Ether, IP, UDP, sendp
        sendp([Ether(src="\(lab.hostMAC(host))", dst="\(mac)") / IP(src="\(lab.hostIP(host))", dst="\(ip)") /
               UDP(sport=20000 + i, dport=9) / (b"x" * 18) for i in range(\(sourcePorts))], iface="eth0", verbose=False)
        """
        try exec(inNetns: lab.hostNamespace(host), [Injector.python, "-c", script])
    }
}

enum SwitchPinsPath {
    static func directory(_ name: String) -> String { "/sys/fs/bpf/bridgetrace/switch/\(name)" }
}

/// Fails the test where CI runs it and `tool` is missing; elsewhere skips it.
func requireTool(_ tool: String, package: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard Executable.find(tool) == nil else { return }
    let message = "needs \(tool) (Debian's \(package ?? tool); run scripts/setup)"
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        throw BackgroundFailure(message)
    }
    try Test.cancel(Comment(rawValue: message), sourceLocation: sourceLocation)
}

/// iperf3 between two namespaces: a one-off server in `to`, the client in `from`.
enum Iperf3 {
    struct Result {
        var receivedBytes: Int
        /// UDP only.
        var packets: Int
        var lostPackets: Int
        var bitsPerSecond: Double
    }

    static func run(from: String, to: String, address: String, seconds: Int, udpBitsPerSecond: Int? = nil) throws -> Result {
        let server = try ChildProcess(["ip", "netns", "exec", to, "iperf3", "-s", "-1"], stdout: .discard, stderr: .discard)
        defer { _ = server.stop(signal: SIGTERM, grace: 2) }
        try waitFor("iperf3 to listen in \(to)") {
            (try exec(inNetns: to, ["ss", "-ltnH", "sport", "=", ":5201"])).contains("5201")
        }
        var arguments = ["ip", "netns", "exec", from, "iperf3", "-c", address, "-t", "\(seconds)", "-J"]
        if let rate = udpBitsPerSecond { arguments += ["-u", "-b", "\(rate)", "-l", "1400"] }
        let output = try CommandRunner().run(arguments)
        guard let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let end = json["end"] as? [String: Any] else {
            throw BackgroundFailure("iperf3 printed no result: \(output.prefix(500))")
        }
        if udpBitsPerSecond != nil, let sum = end["sum"] as? [String: Any] {
            return Result(receivedBytes: sum["bytes"] as? Int ?? 0, packets: sum["packets"] as? Int ?? 0,
                          lostPackets: sum["lost_packets"] as? Int ?? -1, bitsPerSecond: sum["bits_per_second"] as? Double ?? 0)
        }
        let received = end["sum_received"] as? [String: Any] ?? [:]
        return Result(receivedBytes: received["bytes"] as? Int ?? 0, packets: 0, lostPackets: 0,
                      bitsPerSecond: received["bits_per_second"] as? Double ?? 0)
    }
}

/// `nstat -az`: the namespace's SNMP counters, absolute.
enum Nstat {
    static func absolute(in namespace: String, _ names: [String]) throws -> [String: Int] {
        let output = try exec(inNetns: namespace, ["nstat", "-az"] + names)
        var values: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, names.contains(String(fields[0])), let value = Int(fields[1]) { values[String(fields[0])] = value }
        }
        return values
    }
}

/// A process holding a tap with IFF_VNET_HDR, as QEMU holds a virtio-net's, that writes
/// TCP frames with a virtio_net_hdr the way a guest with TSO and checksum offload does.
final class VirtioTap {
    private let process: ChildProcess
    private let control: String

    init(namespace: String, name: String) throws {
        control = FileManager.default.temporaryDirectory.appendingPathComponent("bt-vt-\(UUID().uuidString.prefix(8))").path
        let script = """
        import fcntl, os, socket, struct, time
        TUNSETIFF = 0x400454ca
        IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"\(name)", IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
        def fold(b):
            if len(b) % 2: b += b"\\0"
            s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
            while s >> 16: s = (s & 0xffff) + (s >> 16)
            return s
        def frame(dst, dip, n, payload):
            sip = socket.inet_aton("198.18.0.50")
            tcp_len = 20 + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_len, n, 0x4000, 64, 6, 0, sip, dip)
            ip = ip[:10] + struct.pack("!H", 0xffff - fold(ip)) + ip[12:]
            pseudo = fold(sip + dip + struct.pack("!BBH", 0, 6, tcp_len))  # the partial checksum
            tcp = struct.pack("!HHIIBBHHH", 40000, 5201, 1000 + n * 20000, 0, 5 << 4, 0x18, 65535, pseudo, 0)
            return dst + bytes.fromhex("020000000050") + b"\\x08\\x00" + ip + tcp + bytes([65 + n % 26]) * payload
        open("\(control).ready", "w").close()
        while True:
            if os.path.exists("\(control).go"):
                dst, dip, big, small = open("\(control).go").read().split()
                os.unlink("\(control).go")
                dst, dip = bytes.fromhex(dst.replace(":", "")), socket.inet_aton(dip)
                for n in range(int(big)):  # virtio_net_hdr: NEEDS_CSUM, GSO TCPV4, hdr_len, gso_size, csum_start/offset
                    os.write(fd, struct.pack("<BBHHHH", 1, 1, 54, 1448, 34, 16) + frame(dst, dip, n, 20000))
                for n in range(int(small)):
                    os.write(fd, struct.pack("<BBHHHH", 1, 0, 0, 0, 34, 16) + frame(dst, dip, 100 + n, 1000))
                open("\(control).done", "w").close()
            try:
                while os.read(fd, 70000): pass
            except BlockingIOError:
                pass
            time.sleep(0.01)
        """
        process = try ChildProcess(["ip", "netns", "exec", namespace, Injector.python, "-c", script], stdout: .discard, stderr: .discard)
        try waitFor("the tap to be held") { FileManager.default.fileExists(atPath: control + ".ready") }
    }

    func send(to mac: String, ip: String, superFrames: Int, partialSegments: Int) throws {
        try "\(mac) \(ip) \(superFrames) \(partialSegments)".write(toFile: control + ".go", atomically: true, encoding: .utf8)
        try waitFor("the frames to be written") { FileManager.default.fileExists(atPath: control + ".done") }
    }

    func stop() {
        _ = process.stop(signal: SIGTERM, grace: 2)
        for suffix in [".ready", ".go", ".done"] { unlink(control + suffix) }
    }
}

/// A process holding every queue of a multi-queue tap (as QEMU does), that writes
/// broadcast frames into each queue's fd on request.
final class MultiQueueTap {
    private let process: ChildProcess
    private let control: String

    init(namespace: String, name: String, queues: Int) throws {
        control = FileManager.default.temporaryDirectory.appendingPathComponent("bt-mq-\(UUID().uuidString.prefix(8))").path
        let script = """
        import fcntl, os, struct, sys, time
        TUNSETIFF = 0x400454ca
        IFF_TAP, IFF_NO_PI, IFF_MULTI_QUEUE = 0x0002, 0x1000, 0x0100
        fds = []
        for q in range(\(queues)):
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"\(name)", IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE))
            fds.append(fd)
        open("\(control).ready", "w").close()
        while True:
            if os.path.exists("\(control).go"):
                n = int(open("\(control).go").read())
                os.unlink("\(control).go")
                for q, fd in enumerate(fds):
                    for i in range(n):
                        src = bytes([2, 0, 0, 0, 0x10, q])
                        ip = bytes([0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 50 + q, 198, 18, 0, 255])
                        udp = struct.pack("!HHHH", 30000 + i, 9, 26, 0) + b"y" * 18
                        os.write(fd, b"\\xff" * 6 + src + b"\\x08\\x00" + ip + udp)
                open("\(control).done", "w").close()
            for fd in fds:
                try:
                    while os.read(fd, 65536): pass
                except BlockingIOError:
                    pass
            time.sleep(0.01)
        """
        process = try ChildProcess(["ip", "netns", "exec", namespace, Injector.python, "-c", script], stdout: .discard, stderr: .discard)
        try waitFor("the tap's queues to be attached") { FileManager.default.fileExists(atPath: control + ".ready") }
    }

    func send(broadcastsPerQueue: Int) throws {
        try "\(broadcastsPerQueue)".write(toFile: control + ".go", atomically: true, encoding: .utf8)
        try waitFor("the frames to be written") { FileManager.default.fileExists(atPath: control + ".done") }
    }

    func stop() {
        _ = process.stop(signal: SIGTERM, grace: 2)
        for suffix in [".ready", ".go", ".done"] { unlink(control + suffix) }
    }
}
