import BridgeTraceCore
import BridgeTraceKernel
import BridgeTraceLab
import Foundation
import Testing

/// BridgeStateReader against a real lab, checked against iproute2 (`bridge -j link`,
/// `bridge -j fdb`, `ip -s -j link`), tools bridgetrace did not write.
@Suite(.serialized)
struct BridgeStateTests {
    @Test func readerAgreesWithIproute2() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            let br = lab.bridgeNamespace
            // Traffic, so the FDB learns both VMs' and the gateway's MACs.
            for i in lab.vmIndices {
                try exec(inNetns: lab.vmNamespace(i), ["ping", "-c", "1", "-W", "2", lab.gatewayIP])
            }
            try exec(inNetns: br, ["bridge", "link", "set", "dev", "vm2", "state", "0"])
            try exec(inNetns: br, ["bridge", "link", "set", "dev", "vm1", "isolated", "on"])
            try exec(inNetns: br, ["bridge", "link", "set", "dev", "vm1", "learning", "off", "flood", "off"])
            try run(["ip", "-n", br, "link", "set", "uplink", "mtu", "1400"])
            // vm2's own side goes down: its bridge port keeps IFF_UP but loses carrier.
            try run(["ip", "-n", lab.vmNamespace(2), "link", "set", "eth0", "down"])

            let state = try readState(lab, until: { $0.port(named: "vm2")?.hasCarrier == false })

            // The bridge itself.
            #expect(state.bridge.name == "br0")
            #expect(state.bridge.mac == lab.bridgeMAC)
            #expect(state.bridge.isUp)
            #expect(!state.bridge.stpEnabled)  // lab up: stp_state 0
            #expect(!state.bridge.vlanFiltering)
            #expect(state.bridge.ageingTime == 300)
            #expect(state.ports.map(\.name) == ["uplink", "vm1", "vm2"])

            // Ports against `bridge -d -j link show`.
            let bridgeLinks = try decode([BridgeLinkJSON].self, exec(inNetns: br, ["bridge", "-d", "-j", "link", "show"]))
            for link in bridgeLinks where link.master == "br0" {
                let port = try #require(state.port(named: link.ifname))
                #expect(port.ifindex == link.ifindex, "\(link.ifname)")
                #expect(port.stpState.name == link.state, "\(link.ifname)")
                #expect(port.isolated == link.isolated, "\(link.ifname)")
                #expect(port.learning == link.learning, "\(link.ifname)")
                #expect(port.unicastFlood == link.flood, "\(link.ifname)")
                #expect(port.broadcastFlood == link.bcast_flood, "\(link.ifname)")
                #expect(port.mtu == link.mtu, "\(link.ifname)")
            }
            #expect(state.port(named: "vm2")?.stpState == .disabled)
            #expect(state.port(named: "vm1")?.isolated == true)
            #expect(state.port(named: "vm1")?.learning == false)
            #expect(state.port(named: "vm1")?.unicastFlood == false)
            #expect(state.port(named: "uplink")?.isolated == false)
            #expect(state.port(named: "uplink")?.stpState == .forwarding)
            #expect(state.port(named: "uplink")?.mtu == 1400)

            // Links against `ip -s -j link show` (in a quiet lab the counters stand still).
            let ipLinks = try decode([IPLinkJSON].self, run(["ip", "-n", br, "-s", "-j", "-d", "link", "show"]))
            for link in ipLinks where link.master == "br0" {
                let port = try #require(state.port(named: link.ifname))
                #expect(port.mac == link.address)
                #expect(port.mtu == link.mtu)
                #expect(port.kind == link.linkinfo?.info_kind)
                #expect(port.operState == link.operstate.lowercased())
                #expect(port.isUp == link.flags.contains("UP"))
                #expect(port.hasCarrier == !link.flags.contains("NO-CARRIER"))
                let counters = try #require(state.deviceCounters[link.ifname])
                #expect(counters.rxPackets == link.stats64.rx.packets, "\(link.ifname)")
                #expect(counters.txPackets == link.stats64.tx.packets, "\(link.ifname)")
                #expect(counters.rxDropped == link.stats64.rx.dropped, "\(link.ifname)")
                #expect(counters.txDropped == link.stats64.tx.dropped, "\(link.ifname)")
                #expect(counters.txErrors == link.stats64.tx.errors, "\(link.ifname)")
            }
            let vm2 = try #require(state.port(named: "vm2"))
            #expect(vm2.isUp && !vm2.hasCarrier && vm2.operState != "up", "\(vm2.operState)")
            #expect(state.deviceCounters["vm1"]!.rxPackets >= 2, "vm1's ARP request and ping")

            // FDB against `bridge -j fdb show br br0`.
            let fdbJSON = try decode([FDBJSON].self, exec(inNetns: br, ["bridge", "-j", "fdb", "show", "br", "br0"]))
            let theirs = Set(fdbJSON.map { "\($0.mac) \($0.ifname) \($0.state == "permanent")" })
            let ours = Set(state.fdb.map { "\($0.mac) \($0.port) \($0.isLocal)" })
            #expect(ours == theirs)
            func learned(_ mac: String) -> BridgeState.FDBEntry? { state.fdb.first { $0.mac == mac && !$0.isLocal } }
            #expect(learned(lab.vmMAC(1))?.port == "vm1")
            #expect(learned(lab.vmMAC(2))?.port == "vm2")
            #expect(learned(lab.gatewayMAC)?.port == "uplink")
            #expect(state.fdb.contains { $0.mac == lab.bridgeMAC && $0.isLocal && $0.port == "br0" })
            #expect(state.fdb.contains { $0.mac == lab.vmPortMAC(1) && $0.isLocal && $0.port == "vm1" })
        }
    }

    @Test func unknownBridgeNamesTheBridgesThatExist() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            let error = try NamespaceThread.run(in: lab.bridgeNamespace) { () -> UserError? in
                do {
                    _ = try BridgeStateReader.read(bridgeName: "br9")
                    return nil
                } catch let error as UserError {
                    return error
                }
            }
            let message = try #require(error).message
            #expect(message.contains("no bridge named br9") && message.contains("br0"))
            let notBridge = try NamespaceThread.run(in: lab.bridgeNamespace) { () -> UserError? in
                do {
                    _ = try BridgeStateReader.read(bridgeName: "vm1")
                    return nil
                } catch let error as UserError {
                    return error
                }
            }
            #expect(try #require(notBridge).message.contains("vm1 is not a bridge"))
        }
    }

    private func readState(_ lab: LabTopology, until ready: @escaping @Sendable (BridgeState) -> Bool) throws
        -> BridgeState
    {
        try NamespaceThread.run(in: lab.bridgeNamespace) {
            // Carrier follows asynchronously (linkwatch).
            let deadline = Date().addingTimeInterval(TestTime.scaled(5))
            var state = try BridgeStateReader.read(bridgeName: lab.bridgeName)
            while !ready(state), Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
                state = try BridgeStateReader.read(bridgeName: lab.bridgeName)
            }
            return state
        }
    }
}

private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(json.utf8))
}

private struct BridgeLinkJSON: Decodable {
    var ifindex: Int32
    var ifname: String
    var master: String?
    var mtu: UInt32
    var state: String
    var isolated: Bool
    var learning: Bool
    var flood: Bool
    var bcast_flood: Bool
}

private struct IPLinkJSON: Decodable {
    struct Stats: Decodable {
        struct Direction: Decodable { var packets: UInt64; var dropped: UInt64; var errors: UInt64 }
        var rx: Direction
        var tx: Direction
    }
    struct LinkInfo: Decodable { var info_kind: String? }
    var ifname: String
    var master: String?
    var mtu: UInt32
    var flags: [String]
    var operstate: String
    var address: String
    var linkinfo: LinkInfo?
    var stats64: Stats
}

private struct FDBJSON: Decodable {
    var mac: String
    var ifname: String
    var state: String
}
