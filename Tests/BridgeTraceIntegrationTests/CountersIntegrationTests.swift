import BridgeTraceLab
import Foundation
import Testing

/// `bridgetrace counters` on a real bridge in a lab: real veths, real XDP and tc, frames
/// from scapy and ping. Every count is exact, and checked against the kernel's own
/// `ip -s link` counters over the same window.
@Suite(.serialized) struct CountersIntegrationTests {
    /// Static neighbours and a warm-up ping before attaching: no ARP resolution and no
    /// flooding of unknown unicast while counting, so the expected numbers are exact.
    func pinNeighbours(_ lab: LabTopology) throws {
        try lab.pinVMNeighbours()
    }

    /// What BRIDGETRACE_LEGACY_ATTACH=1 does: clsact and netlink XDP, as on a kernel
    /// without tcx, so the fallback is tested on this one.
    static let legacyAttach = ["BRIDGETRACE_LEGACY_ATTACH": "1"]

    /// Both rx hooks must count the same: XDP (what taps and NICs get) and tc ingress
    /// (what veths get by default), attached through links (tcx, XDP link) and through
    /// the legacy fallback (clsact, netlink XDP).
    @Test(arguments: ["xdp", "tc"], ["links", "legacy"])
    func exactCountsPerPortAndDirectionMatchTheKernel(rxHook: String, attach: String) throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try pinNeighbours(lab)
            let tracer = try BackgroundBridgetrace(["counters", lab.bridgeName, "--netns", lab.bridgeNamespace, "--json",
                                                    "--interval", "0.5", "--rx-hook", rxHook],
                                                   environment: attach == "legacy" ? Self.legacyAttach : [:])
            try tracer.waitUntilReady()
            let ports = lab.bridgePorts
            let before = try Dictionary(uniqueKeysWithValues: ports.map { ($0, try LinkCounters.read($0, inNetns: lab.bridgeNamespace)) })

            let sent = try KnownTraffic.send(lab)
            #expect(sent.total == 22)
            try waitForPortTx(lab, ["vm2": 26, "uplink": 22], since: before)

            let after = try Dictionary(uniqueKeysWithValues: ports.map { ($0, try LinkCounters.read($0, inNetns: lab.bridgeNamespace)) })
            #expect(try tracer.stop() == 0)
            let lines = try tracer.jsonLines()
            #expect(lines.count >= 1)

            let vm1 = try CountersReading.last(lines, port: "vm1")
            let vm2 = try CountersReading.last(lines, port: "vm2")
            let uplink = try CountersReading.last(lines, port: "uplink")

            // vm1 sent 22 broadcasts (5 ARP, 5 tagged ARP, 4 DHCP, 6 unknown ethertype,
            // 2 QinQ ARP) and 4 echo requests; it got 4 echo replies back.
            #expect(vm1.value("rx", "frames") == 26)
            #expect(vm1.value("rx", "arp_request") == 12)
            #expect(vm1.value("rx", "dhcp") == 4)
            #expect(vm1.value("rx", "other") == 6)
            #expect(vm1.value("rx", "icmp_echo_request") == 4)
            #expect(vm1.value("rx", "vlan_tagged") == 7)
            #expect(vm1.vlan("rx") == ["100": 3, "200": 2, "300": 2])
            #expect(vm1.value("tx", "frames") == 4)
            #expect(vm1.value("tx", "icmp_echo_reply") == 4)
            #expect(vm1.value("rx", "icmp_echo_reply") == 0)

            // The broadcasts flood to vm2 and uplink, tags intact; pings go to vm2 only.
            for (port, extra) in [(vm2, 4), (uplink, 0)] {
                #expect(port.value("tx", "frames") == 22 + extra)
                #expect(port.value("tx", "arp_request") == 12)
                #expect(port.value("tx", "dhcp") == 4)
                #expect(port.value("tx", "other") == 6)
                #expect(port.value("tx", "vlan_tagged") == 7)
                #expect(port.vlan("tx") == ["100": 3, "200": 2, "300": 2])
                #expect(port.value("tx", "icmp_echo_request") == extra)
            }
            #expect(vm2.value("rx", "frames") == 4)
            #expect(vm2.value("rx", "icmp_echo_reply") == 4)
            #expect(uplink.value("rx", "frames") == 0)

            // Our counters equal the kernel's for the same window, port by port.
            for port in ports {
                let reading = try CountersReading.last(lines, port: port)
                let delta = after[port]!.since(before[port]!)
                #expect(reading.value("rx", "frames") == delta.rxPackets, "rx on \(port)")
                #expect(reading.value("tx", "frames") == delta.txPackets, "tx on \(port)")
                #expect(reading.rxHook == rxHook)
                // Links where the kernel has tcx (probed), clsact where it has not or when forced.
                #expect(reading.object["tc_attach"] as? String == (attach == "legacy" ? "clsact" : KernelFeatures.tcAttach))
            }
        }
    }

    @Test func foreignXDPProgramKeepsCountingWhileAndAfterBridgetraceIsAttached() throws {
        try requireRoot()
        let object = try ForeignXDP.compile()
        defer { try? FileManager.default.removeItem(atPath: object) }
        try TestLab.with(vms: 2) { lab in
            try run(["ip", "-n", lab.bridgeNamespace, "link", "set", "dev", "vm1", "xdpdrv", "obj", object, "sec", "xdp"])
            let foreign = try ForeignXDP.counterMapID(netns: lab.bridgeNamespace, device: "vm1")
            let start = try ForeignXDP.count(mapID: foreign)

            let tracer = try BackgroundBridgetrace(["counters", lab.bridgeName, "--netns", lab.bridgeNamespace, "--json",
                                                    "--interval", "0.5", "--rx-hook", "xdp"])
            try tracer.waitUntilReady()
            let before = try portCounters(lab)
            try Injector.send(in: lab.vmNamespace(1), arpRequests: 7, arpTarget: "198.18.0.250")
            try waitForPortTx(lab, ["vm2": 7, "uplink": 7], since: before)
            #expect(try tracer.stop() == 0)
            #expect(try ForeignXDP.count(mapID: foreign) - start == 7)

            let lines = try tracer.jsonLines()
            let vm1 = try CountersReading.last(lines, port: "vm1")
            #expect(vm1.rxHook == "tc")
            #expect(vm1.value("rx", "arp_request") == 7)
            #expect(try CountersReading.last(lines, port: "vm2").rxHook == "xdp")
            #expect(tracer.stderr.contains("vm1: rx counted at tc ingress"))

            // After bridgetrace is gone the foreign program is still there and counting.
            try Injector.send(in: lab.vmNamespace(1), arpRequests: 3, arpTarget: "198.18.0.250")
            #expect(try ForeignXDP.count(mapID: foreign) - start == 10)
            #expect(try ForeignXDP.counterMapID(netns: lab.bridgeNamespace, device: "vm1") == foreign)
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }

    /// tcx and XDP links belong to the process: SIGKILL takes them, and the programs, away.
    /// On a kernel without tcx (6.1) the probe sends tc programs to clsact, which a SIGKILL
    /// leaves behind: then the fallback is checked, said on stderr and removed by `cleanup`.
    @Test(arguments: ["counters", "trace"])
    func sigkillLeavesNothingAttachedWithLinks(command: String) throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            // veth ports: rx at tc ingress (--rx-hook auto), tx at tc egress.
            let tracer = try BackgroundBridgetrace([command, lab.bridgeName, "--netns", lab.bridgeNamespace, "--json"])
            try tracer.waitUntilReady()
            let links = HeldLink.held(by: tracer.pid).filter { $0.type == "tcx" || $0.type == "xdp" }
            // 3 ports x (rx + tx), and the bridge's own interface (the host's port) both ways.
            guard KernelFeatures.tcx else {
                try expectClsactFallbackAfterSIGKILL(tracer, lab, links: links, filters: 8)
                return
            }
            #expect(links.filter { $0.type == "tcx" }.count == 8, "\(links)")
            #expect(Set(links.compactMap(\.attachType)) == ["46 (ingress)", "47 (egress)"], "\(links)")
            // Nothing went the legacy way: no clsact filter, no netlink XDP.
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
            #expect(!tracer.stderr.contains("clsact"))
            let programIDs = Set(links.map(\.programID))
            #expect(try tracer.stop(signal: SIGKILL) == 128 + SIGKILL)  // killed by N reads 128 + N, as in a shell

            let deadline = Date().addingTimeInterval(TestTime.scaled(5))
            while links.contains(where: { HeldLink.exists(id: $0.linkID) }) && Date() < deadline { usleep(50_000) }
            #expect(!links.contains { HeldLink.exists(id: $0.linkID) }, "links outlived the SIGKILL")
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
            #expect(BridgetracePrograms.waitUntilUnloaded(programIDs), "programs still loaded after the SIGKILL")
        }
    }

    /// The same with XDP on a link: rx on every port at XDP (XDP links are 5.9+, so every
    /// kernel of the matrix has them; tx follows the tcx probe).
    @Test func sigkillLeavesNoXDPLinkBehind() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            let tracer = try BackgroundBridgetrace(["counters", lab.bridgeName, "--netns", lab.bridgeNamespace, "--json",
                                                    "--rx-hook", "xdp"])
            try tracer.waitUntilReady()
            let links = HeldLink.held(by: tracer.pid).filter { $0.type == "tcx" || $0.type == "xdp" }
            #expect(links.filter { $0.type == "xdp" }.count == 2, "\(links)")
            // tx on 2 ports, br0 both ways: tcx links, or without tcx clsact filters, which
            // bpftool lists beside the XDP links (ip link shows those).
            #expect(links.filter { $0.type == "tcx" }.count == (KernelFeatures.tcx ? 4 : 0), "\(links)")
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).count == (KernelFeatures.tcx ? 2 : 6))
            let programIDs = Set(links.map(\.programID))
            #expect(try tracer.stop(signal: SIGKILL) == 128 + SIGKILL)  // killed by N reads 128 + N, as in a shell
            if !KernelFeatures.tcx {
                // The XDP links went with the process; the clsact filters did not.
                let deadline = Date().addingTimeInterval(TestTime.scaled(5))
                while links.contains(where: { HeldLink.exists(id: $0.linkID) }) && Date() < deadline { usleep(50_000) }
                #expect(!links.contains { HeldLink.exists(id: $0.linkID) }, "XDP links outlived the SIGKILL")
                #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).count == 4)
                let cleanup = try BridgeTraceBinary.run(["cleanup", "--netns", lab.bridgeNamespace])
                #expect(cleanup.stdout.contains("removed 4 stale program(s)"), "\(cleanup.stdout) \(cleanup.stderr)")
            }
            #expect(BridgetracePrograms.waitUntilUnloaded(programIDs), "programs still loaded after the SIGKILL")
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }

    /// tcx is probed, not guessed from the version, but the probe must not miss it where
    /// the kernel has it (6.6+), or every run would fall back to clsact for nothing.
    @Test func tcxProbeAgreesWithTheKernelVersion() throws {
        try requireRoot()
        let (major, minor) = KernelFeatures.release
        if major > 6 || (major == 6 && minor >= 6) {
            #expect(KernelFeatures.tcx, "kernel \(major).\(minor) has tcx, but the probe says no")
        }
        // Older kernels may have it backported: then the probe decides, and the tests follow it.
    }

    /// Without tcx, what a SIGKILLed run leaves: `filters` clsact filters (said on stderr),
    /// which `cleanup` removes.
    func expectClsactFallbackAfterSIGKILL(_ tracer: BackgroundBridgetrace, _ lab: LabTopology, links: [HeldLink],
                                          filters: Int) throws {
        #expect(links.filter { $0.type == "tcx" }.isEmpty, "\(links)")
        #expect(tracer.stderr.contains("are clsact filters (this kernel has no tcx)"), "\(tracer.stderr)")
        #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).count == filters)
        #expect(try tracer.stop(signal: SIGKILL) == 128 + SIGKILL)
        #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).count == filters)
        let left = try BridgetracePrograms.attachedIDs(netns: lab.bridgeNamespace)
        let cleanup = try BridgeTraceBinary.run(["cleanup", "--netns", lab.bridgeNamespace])
        #expect(cleanup.status == 0, "\(cleanup.stderr)")
        #expect(cleanup.stdout.contains("removed \(filters) stale program(s)"), "\(cleanup.stdout)")
        #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        #expect(BridgetracePrograms.waitUntilUnloaded(left))
    }

    /// Without links (BRIDGETRACE_LEGACY_ATTACH=1, or a kernel without tcx) a SIGKILL
    /// leaves clsact filters behind; `cleanup` removes them.
    @Test func sigkillLeavesProgramsThatCleanupRemoves() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            let tracer = try BackgroundBridgetrace(["counters", lab.bridgeName, "--netns", lab.bridgeNamespace, "--json"],
                                                   environment: Self.legacyAttach)
            try tracer.waitUntilReady()
            #expect(try tracer.stop(signal: SIGKILL) == 128 + SIGKILL)  // killed by N reads 128 + N, as in a shell
            // The kill really left them behind: 3 veth ports x (tc rx + tc tx), and br0's two.
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).count == 8)
            let leftIDs = try BridgetracePrograms.attachedIDs(netns: lab.bridgeNamespace)
            #expect(leftIDs.count == 2)  // one bt_tc_rx and one bt_tc_tx, shared by all ports

            let cleanup = try BridgeTraceBinary.run(["cleanup", "--netns", lab.bridgeNamespace])
            #expect(cleanup.status == 0, "\(cleanup.stderr)")
            #expect(cleanup.stdout.contains("removed 8 stale program(s)"), "\(cleanup.stdout)")
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
            // Once detached nothing holds them: the kernel frees them (after an RCU grace period).
            #expect(BridgetracePrograms.waitUntilUnloaded(leftIDs))
        }
    }

    @Test func cleanupRemovesTheNamespacesOfAKilledBenchRun() throws {
        try requireRoot()
        // A pid that no process has: what a bench run killed with SIGKILL leaves behind.
        var pid: Int32 = 4_000_000
        while kill(pid, 0) == 0 || errno != ESRCH { pid -= 1 }
        let stale = "btb\(pid)-1-gen"
        try run(["ip", "netns", "add", stale])
        defer { _ = try? runResult(["ip", "netns", "del", stale]) }
        let cleanup = try BridgeTraceBinary.run(["cleanup"])
        #expect(cleanup.status == 0, "\(cleanup.stderr)")
        #expect(cleanup.stdout.contains("removed namespace \(stale) of a benchmark run that is gone"), "\(cleanup.stdout)")
        #expect(!netnsExists(stale))
    }

    @Test func nextRunRemovesWhatAKilledRunLeft() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            let killed = try BackgroundBridgetrace(["counters", lab.bridgeName, "--netns", lab.bridgeNamespace],
                                                   environment: Self.legacyAttach)
            try killed.waitUntilReady()
            try killed.stop(signal: SIGKILL)
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).count == 6)  // 2 ports x 2, br0 x 2

            let next = try BridgeTraceBinary.run(["counters", lab.bridgeName, "--netns", lab.bridgeNamespace, "--json", "--duration", "0.5"])
            #expect(next.status == 0, "\(next.stderr)")
            #expect(next.stderr.contains("removed a stale program left by a killed run"))
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }

    @Test func portsJoiningAndLeavingAreFollowed() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            let tracer = try BackgroundBridgetrace(["counters", lab.bridgeName, "--netns", lab.bridgeNamespace, "--json", "--interval", "0.3"])
            try tracer.waitUntilReady()
            try run(["ip", "-n", lab.bridgeNamespace, "link", "del", "vm2"])
            try run(["ip", "-n", lab.bridgeNamespace, "link", "add", "late", "type", "veth", "peer", "name", "late-peer"])
            try run(["ip", "-n", lab.bridgeNamespace, "link", "set", "late", "master", lab.bridgeName, "up"])
            try run(["ip", "-n", lab.bridgeNamespace, "link", "set", "late-peer", "up"])
            try tracer.waitForOutput(timeout: 10) { lines in
                let ports = (lines.last?["ports"] as? [[String: Any]] ?? []).compactMap { $0["port"] as? String }
                return Set(ports) == ["vm1", "uplink", "late", lab.bridgeName]
            }
            #expect(try tracer.stop() == 0)
            let last = try #require(try tracer.jsonLines().last?["ports"] as? [[String: Any]])
            #expect(Set(last.compactMap { $0["port"] as? String }) == ["vm1", "uplink", "late", lab.bridgeName])
            #expect(tracer.stderr.contains("vm2: port left"))
            #expect(tracer.stderr.contains("late: new port, now watched"))
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }
}
