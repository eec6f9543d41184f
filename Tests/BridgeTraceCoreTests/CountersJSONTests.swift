import Foundation
import Testing

@testable import BridgeTraceCore

@Suite struct CountersJSONTests {
    func sample() -> CountersSnapshot {
        var rx = DirectionCounters()
        rx[.frames] = 7
        rx[.bytes] = 420
        rx[.arpRequest] = 3
        rx[.vlanTagged] = 2
        rx.vlanFrames = [200: 1, 100: 1]
        var tx = DirectionCounters()
        tx[.icmpEchoReply] = 4
        return CountersSnapshot(
            time: 1_795_262_400.25, bridge: "br0", netns: "lab",
            ports: [PortCounters(port: "tap-vm1", ifindex: 7, rx: rx, tx: tx,
                                 drops: PortDrops(reasons: ["NETFILTER_DROP": 2]))],
            lostEvents: 5, degraded: ["tc programs are clsact filters (no tcx): removed on exit"])
    }

    @Test func keysFollowTheContractInOrder() throws {
        let line = CountersJSON.line(for: sample())
        #expect(line.hasPrefix(#"{"time": "2026-11-21T12:00:00.250Z", "bridge": "br0", "netns": "lab", "ports": [{"port": "tap-vm1", "ifindex": 7, "rx": {"frames": 7, "bytes": 420, "arp_request": 3"#))
        #expect(line.hasSuffix(#""lost_events": 5, "degraded": ["tc programs are clsact filters (no tcx): removed on exit"]}"#))
        #expect(line.contains(#""vlan_tagged": 2, "vlan": {"100": 1, "200": 1}"#))
        #expect(line.contains(#""drops": {"total": 2, "reasons": {"NETFILTER_DROP": 2}}"#))
    }

    @Test func parsesAsJSONWithEveryContractKey() throws {
        let object = try JSONSerialization.jsonObject(with: Data(CountersJSON.line(for: sample()).utf8)) as! [String: Any]
        let port = (object["ports"] as! [[String: Any]])[0]
        let rx = port["rx"] as! [String: Any]
        for key in ["frames", "bytes", "arp_request", "arp_reply", "icmp_echo_request", "icmp_echo_reply",
                    "icmp_unreachable", "icmp_other", "icmp6", "dhcp", "vlan_tagged", "vlan",
                    "ipv4_other", "ipv6_other", "other"] {
            #expect(rx[key] != nil, "missing \(key)")
        }
        #expect((port["tx"] as! [String: Any])["icmp_echo_reply"] as? Int == 4)
        #expect(object["netns"] as? String == "lab")
    }

    @Test func saysHowTheTCHooksAreAttached() {
        var snapshot = sample()
        #expect(CountersJSON.line(for: snapshot).contains(#""rx_hook": "xdp", "tc_attach": "tcx""#))
        snapshot.ports[0].tcAttachment = .clsact
        #expect(CountersJSON.line(for: snapshot).contains(#""tc_attach": "clsact""#))
    }

    @Test func nullNetnsAndEscaping() {
        var snapshot = sample()
        snapshot.netns = nil
        snapshot.bridge = "br\"0\n"
        let line = CountersJSON.line(for: snapshot)
        #expect(line.contains(#""bridge": "br\"0\n", "netns": null"#))
    }

    @Test func deltaNeverGoesNegative() {
        var now = DirectionCounters()
        now[.frames] = 10
        var before = DirectionCounters()
        before[.frames] = 12
        #expect(now.since(before)[.frames] == 0)
        before[.frames] = 4
        #expect(now.since(before)[.frames] == 6)
    }

    @Test func timestampFormatting() {
        #expect(rfc3339Milliseconds(0) == "1970-01-01T00:00:00.000Z")
        #expect(rfc3339Milliseconds(1_795_262_400.999) == "2026-11-21T12:00:00.999Z")
    }
}

@Suite struct CountersTableTests {
    @Test func ratesTotalsAndTCNote() {
        var rx = DirectionCounters()
        rx[.frames] = 30
        let before = CountersSnapshot(time: 0, bridge: "br0", netns: nil,
                                      ports: [PortCounters(port: "vm1", ifindex: 3)])
        let now = CountersSnapshot(time: 2, bridge: "br0", netns: nil,
                                   ports: [PortCounters(port: "vm1", ifindex: 3, rxHook: .tc,
                                                        rxHookNote: "XDP is held by foo (id 9)", rx: rx)])
        let text = CountersTable.render(now, previous: before, elapsed: 2)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("bridge br0  1970-01-01T00:00:02.000Z  lost events: 0"))
        #expect(lines[1].hasPrefix("port   dir"))
        // 30 frames over 2 s on vm1 rx, counted at tc ingress.
        #expect(lines[2].hasPrefix("vm1    rx (tc)   15      30"))
        #expect(lines.contains { $0.hasPrefix("total  rx        15      30") })
        #expect(lines.last == "note: vm1 rx is counted at tc ingress: XDP is held by foo (id 9)")
    }
}

@Suite struct RxHookPolicyTests {
    @Test func autoAvoidsXDPOnlyOnVeth() {
        #expect(RxHookPolicy.auto.preferred(forLinkKind: "veth") == .tc)
        #expect(RxHookPolicy.auto.preferred(forLinkKind: "tun") == .xdp)
        #expect(RxHookPolicy.auto.preferred(forLinkKind: nil) == .xdp)  // a physical NIC
        #expect(RxHookPolicy.xdp.preferred(forLinkKind: "veth") == .xdp)
        #expect(RxHookPolicy.tc.preferred(forLinkKind: nil) == .tc)
    }
}
