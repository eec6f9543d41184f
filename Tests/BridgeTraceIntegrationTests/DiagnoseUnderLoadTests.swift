import BridgeTraceLab
import Foundation
import Testing

/// Outages happen on busy bridges: trafgen (netsniff-ng) sends UDP from vm2 across the
/// bridge to the gateway's MAC, asking for 300 k frames/s, while vm1 pings the gateway and
/// a fault is in place. The netfilter, STP and isolation faults must still be found at the
/// right port, and the JSON must say how many events the rules could not look at. The rate
/// reached is measured from vm2's rx_packets (ip -s link) and printed: on a shared 2-vCPU
/// machine it is below the asked rate.
@Suite(.serialized) struct DiagnoseUnderLoadTests {
    typealias Lab = HandBuiltBridge

    struct Fault: CustomStringConvertible, Sendable {
        var name: String
        var cause: String
        var port: String
        var inject: @Sendable (Lab) throws -> Void
        var description: String { name }
    }

    static let faults: [Fault] = [
        Fault(name: "netfilter", cause: "netfilter_drop", port: "uplink") { lab in
            try lab.br(["nft", "add", "table", "bridge", "bt_load"])
            try lab.br(["nft", "add", "chain", "bridge", "bt_load", "forward",
                        "{ type filter hook forward priority 0; policy accept; }"])
            try lab.br(["nft", "add", "rule", "bridge", "bt_load", "forward", "icmp", "type", "echo-request", "drop"])
        },
        Fault(name: "stp", cause: "stp_not_forwarding", port: "uplink") { lab in
            try lab.br(["bridge", "link", "set", "dev", "uplink", "state", "0"])
        },
        Fault(name: "isolated", cause: "port_isolated", port: "vm1") { lab in
            try lab.br(["bridge", "link", "set", "dev", "vm1", "isolated", "on"])
            try lab.br(["bridge", "link", "set", "dev", "uplink", "isolated", "on"])
        },
    ]

    @Test(arguments: faults)
    func faultIsFoundAtItsPortUnderBackgroundUDP(_ fault: Fault) throws {
        try requireRoot()
        try Lab.with { lab in
            _ = try? lab.inHost("vm2", ["ping", "-c", "1", "-W", "1", Lab.ip("lan")])  // the bridge learns the gateway
            try fault.inject(lab)
            let config = RecordingDirectory.scratch + "/\(lab.name)-udp.cfg"
            try """
                {
                  eth(da=\(Lab.mac("lan")), sa=\(Lab.mac("vm2"))),
                  ipv4(saddr=\(Lab.ip("vm2")), daddr=198.18.0.250, proto=17),
                  udp(sp=4000, dp=9),
                  fill(0x00, 18)
                }
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let trafgen = try lab.background("vm2", ["trafgen", "--dev", "eth0", "--conf", config, "-b", "300000pps"])
            defer { trafgen.stop() }
            let ping = try lab.ping("vm1", Lab.ip("lan"))
            defer { ping.stop() }
            // Measure once trafgen is sending (it takes a moment to build its frames).
            let idle = try rxPackets(lab, "vm2")
            try waitFor("trafgen to send from vm2") { try rxPackets(lab, "vm2") - idle >= 10_000 }
            let before = try rxPackets(lab, "vm2")
            let start = Date()
            let d = try lab.diagnose(record: RecordingDirectory.file("load_\(fault.name)"))
            let rate = Double(try rxPackets(lab, "vm2") - before) / Date().timeIntervalSince(start)
            print("under load (\(fault.name)): \(Int(rate)) frames/s of background UDP entered at vm2; "
                + "lost_events \(d.report["lost_events"] ?? "?"), collector_overflow \(d.report["collector_overflow"] ?? "?"); "
                + "findings: \(d.summary)")
            #expect(rate > 20_000, "the background load did not run: \(Int(rate)) frames/s")
            #expect(d.status == 1, "\(d.stderr)")
            let matching = d.findings.filter { $0["cause"] as? String == fault.cause }
            #expect(!matching.isEmpty, "expected \(fault.cause): \(d.summary)\n\(d.stdout)")
            #expect(matching.allSatisfy { $0["port"] as? String == fault.port }, "\(d.summary)")
            #expect(d.findings.allSatisfy { $0["cause"] as? String == fault.cause }, "a wrong cause: \(d.summary)\n\(d.stdout)")
            for key in ["lost_events", "collector_overflow", "events_not_examined"] {
                #expect(d.report[key] is Int, "\(key) missing: \(d.stdout)")
            }
        }
    }

    func rxPackets(_ lab: Lab, _ port: String) throws -> Int {
        struct Link: Decodable {
            struct Stats: Decodable { struct Dir: Decodable { var packets: Int }; var rx: Dir }
            var stats64: Stats
        }
        let json = try run(["ip", "-n", lab.bridgeNamespace, "-j", "-s", "link", "show", "dev", port])
        return try JSONDecoder().decode([Link].self, from: Data(json.utf8)).first?.stats64.rx.packets ?? 0
    }
}
