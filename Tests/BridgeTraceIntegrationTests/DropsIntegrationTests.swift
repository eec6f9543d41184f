import BridgeTraceLab
import Foundation
import Testing

/// `bridgetrace drops` against a real kernel drop: an nft bridge-family rule that drops
/// ICMP echo requests on the forward hook. FAULTS.md: reason NETFILTER_DROP at
/// nft_do_chain, with skb->dev the *egress* port (uplink, towards the gateway).
@Suite(.serialized) struct DropsIntegrationTests {
    static let pings = 4

    static let nftRules = """
        table bridge t {
          chain forward {
            type filter hook forward priority 0;
            icmp type echo-request drop
          }
        }

        """

    func dropEchoRequests(_ lab: LabTopology) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bt-nft-\(UUID().uuidString.prefix(8)).nft").path
        try Self.nftRules.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try exec(inNetns: lab.bridgeNamespace, ["nft", "-f", file])
    }

    /// Exactly `pings` echo requests from vm1 to the gateway; every one is dropped, so
    /// ping fails, and that is expected.
    func pingGateway(_ lab: LabTopology, count: Int = DropsIntegrationTests.pings) throws {
        let result = try runResult(["ip", "netns", "exec", lab.vmNamespace(1), "ping", "-c", String(count), "-i", "0.2",
                                    "-W", "1", lab.gatewayIP])
        #expect(!result.succeeded, "the nft rule should have dropped every echo request: \(result.stdout)")
    }

    /// NETFILTER_DROP count at `port` in the last `drops --json` object, 0 when absent.
    static func netfilterDrops(in lines: [[String: Any]], port: String) -> Int {
        let drops = (try? Self.drops(lines)) ?? []
        return drops.first { $0["reason"] as? String == "NETFILTER_DROP" && $0["port"] as? String == port }?["count"] as? Int ?? 0
    }

    static func drops(_ lines: [[String: Any]]) throws -> [[String: Any]] {
        guard let last = lines.last else { throw BackgroundFailure("no drops object in the output") }
        return last["drops"] as? [[String: Any]] ?? []
    }

    @Test(arguments: ["tp_btf", "raw_tp"])
    func netfilterDropIsCountedAtTheEgressPort(hook: String) throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try dropEchoRequests(lab)
            let tracer = try BackgroundBridgetrace(["drops", lab.bridgeName, "--netns", lab.bridgeNamespace, "--json",
                                                    "--interval", "0.5", "--drop-hook", hook])
            try tracer.waitUntilReady()
            try pingGateway(lab)
            tracer.waitForOutput { Self.netfilterDrops(in: $0, port: lab.uplinkPort) >= Self.pings }
            #expect(try tracer.stop() == 0, "\(tracer.stderr)")

            let lines = try tracer.jsonLines()
            #expect(lines.count >= 1)
            #expect(lines.last?["bridge"] as? String == lab.bridgeName)
            #expect(lines.last?["netns"] as? String == lab.bridgeNamespace)
            #expect(lines.last?["lost_events"] as? Int == 0)
            #expect(lines.last?["hook"] as? String == hook)
            let drops = try Self.drops(lines)
            let netfilter = drops.filter { $0["reason"] as? String == "NETFILTER_DROP" }
            #expect(netfilter.count == 1, "\(drops)")
            #expect(netfilter.first?["port"] as? String == lab.uplinkPort)
            #expect(netfilter.first?["count"] as? Int == Self.pings)
            #expect(netfilter.first?["location"] as? String == "nft_do_chain")
            #expect(netfilter.first?["ifindex"] as? Int != nil)
            // Nothing else in the lab drops these frames.
            #expect(drops.allSatisfy { $0["port"] as? String != lab.vmPort(1) || $0["reason"] as? String != "NETFILTER_DROP" })
        }
        #expect(try DropPrograms.linked().isEmpty, "a bt_drop program is still attached")
    }

    /// The lab's namespaces reuse the same ifindex numbers: drops in another lab must not
    /// count, even on a port with the same ifindex and name.
    @Test func dropsInAnotherNamespaceAreNotCounted() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { watched in
            try TestLab.with(vms: 2) { other in
                try dropEchoRequests(other)
                let tracer = try BackgroundBridgetrace(["drops", watched.bridgeName, "--netns", watched.bridgeNamespace,
                                                        "--json", "--interval", "0.5"])
                try tracer.waitUntilReady()
                let printed = tracer.stdout.split(separator: "\n").count
                try pingGateway(other)
                // Two more readings: one taken wholly after the pings.
                try tracer.waitForStdout("two readings after the pings") { $0.split(separator: "\n").count >= printed + 2 }
                #expect(try tracer.stop() == 0, "\(tracer.stderr)")
                let drops = try Self.drops(try tracer.jsonLines())
                #expect(!drops.contains { $0["reason"] as? String == "NETFILTER_DROP" }, "\(drops)")
            }
        }
    }

    /// The same data fills `counters --json` "drops".
    @Test func countersCarryTheDropsPerPort() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try dropEchoRequests(lab)
            let tracer = try BackgroundBridgetrace(["counters", lab.bridgeName, "--netns", lab.bridgeNamespace, "--json",
                                                    "--interval", "0.5"])
            try tracer.waitUntilReady()
            try pingGateway(lab)
            tracer.waitForOutput {
                guard let uplink = try? CountersReading.last($0, port: lab.uplinkPort),
                      let drops = uplink.object["drops"] as? [String: Any] else { return false }
                return ((drops["reasons"] as? [String: Int])?["NETFILTER_DROP"] ?? 0) >= Self.pings
            }
            #expect(try tracer.stop() == 0, "\(tracer.stderr)")
            let lines = try tracer.jsonLines()
            let uplink = try CountersReading.last(lines, port: lab.uplinkPort)
            let vm1 = try CountersReading.last(lines, port: lab.vmPort(1))
            let uplinkDrops = try #require(uplink.object["drops"] as? [String: Any])
            #expect((uplinkDrops["reasons"] as? [String: Int])?["NETFILTER_DROP"] == Self.pings)
            #expect((uplinkDrops["total"] as? Int ?? 0) >= Self.pings)
            let vm1Drops = try #require(vm1.object["drops"] as? [String: Any])
            #expect((vm1Drops["reasons"] as? [String: Int])?["NETFILTER_DROP"] == nil)
            // The echo requests did enter at vm1: the drop is on the way out.
            #expect(vm1.value("rx", "icmp_echo_request") == Self.pings)
            #expect(uplink.value("tx", "icmp_echo_request") == 0)
        }
    }

    @Test func countersWithoutDropsLoadNoDropProgram() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            let tracer = try BackgroundBridgetrace(["counters", lab.bridgeName, "--netns", lab.bridgeNamespace, "--json",
                                                    "--interval", "0.5", "--no-drops"])
            try tracer.waitUntilReady()
            #expect(try DropPrograms.linked().isEmpty)
            #expect(try tracer.stop() == 0)
        }
    }
}

/// bt_drop_* programs linked to a tracepoint anywhere on the host (drops hooks are not
/// per namespace).
enum DropPrograms {
    static func linked() throws -> [String] {
        let output = try run(["bpftool", "-j", "link", "show"])
        let links = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        var names: [String] = []
        for link in links {
            guard let id = link["prog_id"] as? Int else { continue }
            let program = try? run(["bpftool", "-j", "prog", "show", "id", String(id)])
            let object = program.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            if let name = object?["name"] as? String, name.hasPrefix("bt_drop") { names.append(name) }
        }
        return names
    }
}
