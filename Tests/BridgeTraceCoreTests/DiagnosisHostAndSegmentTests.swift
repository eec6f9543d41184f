import Testing

@testable import BridgeTraceCore

/// The causes of the host's side and the segment: host_firewall_drop, br_netfilter_drop,
/// port_flood_off, subnet_mismatch, and quiet senders, from streams shaped like what the
/// lab's faults gave on a real kernel (FAULTS.md). The bridge's own interface is the port
/// named like the bridge, br0.
@Suite struct DiagnosisHostAndSegmentTests {
    typealias R = Recording
    let vm1 = R.vm1, vm2 = R.vm2, vm3 = R.vm3, gw = R.gateway
    /// The host: br0's own MAC (R's bridge) and address.
    let host = R.Host(mac: [0x02, 0, 0, 0, 0, 0xb0], ip: "198.18.0.2", port: "br0")

    func withHostAddress(_ r: inout R) {
        r.before.bridge.addresses = ["198.18.0.2/24"]
        r.after.bridge.addresses = ["198.18.0.2/24"]
    }

    func netfilter(_ r: inout R, _ state: NetfilterState) {
        r.before.netfilter = state
        r.after.netfilter = state
    }

    func input(_ r: R, endingAt seconds: Double = 10) -> DiagnosisInput {
        var input = r.input(duration: seconds)
        input.watchEndNs = R.ns(seconds)
        return input
    }

    func expectOnly(_ findings: [Finding], _ cause: CauseCode, at port: String?, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(findings.count == 1, "\(findings.describeAll())", sourceLocation: sourceLocation)
        #expect(findings.first?.cause == cause, "\(findings.describeAll())", sourceLocation: sourceLocation)
        #expect(findings.first?.port == port, "\(findings.describeAll())", sourceLocation: sourceLocation)
    }

    // MARK: host_firewall_drop

    /// vm1 pings the host; each request is handed up (tx at br0) and dropped in the input
    /// path with skb->dev = br0.
    func pingsTheHostAndDrops(_ r: inout R, location: String = "nft_do_chain") {
        for seq in 1...4 {
            let t = Double(seq)
            let frame = R.echo(vm1, host, seq: seq)
            r.forward(frame, from: "vm1", to: ["br0"], at: t)
            r.drop(Array(frame), at: "br0", reason: "NETFILTER_DROP", location: location, seconds: t + 0.0001)
        }
    }

    @Test func hostFirewallDropAtTheBridgesOwnPortNamesTheInputChain() {
        var r = R()
        withHostAddress(&r)
        netfilter(&r, NetfilterState(chains: [.init(family: "inet", table: "hostfw", name: "input", hook: "input",
                                                     policyDrop: false, dropRules: 1)]))
        pingsTheHostAndDrops(&r)
        let findings = DiagnosisEngine.diagnose(input(r))
        expectOnly(findings, .hostFirewallDrop, at: "br0")
        let finding = findings[0]
        #expect(finding.severity == .error)
        #expect(finding.summary.contains("enter at vm1"))
        #expect(finding.summary.contains("reach the host (br0)"))
        #expect(finding.evidence[0] == "4 drops NETFILTER_DROP in nft_do_chain on br0 (skb->dev) over 3.0 s: the host's own stack "
            + "(skb->dev is the bridge's interface)")
        #expect(finding.evidence.contains("4 of these frames left the bridge at br0 (tx): delivered to the host, then dropped in its input path"))
        #expect(finding.evidence.contains("can drop: table inet hostfw, chain input (hook input): 1 rule that drops"))
        #expect(finding.fix.hasPrefix("nft -a list chain inet hostfw input"))
        #expect(finding.fix.contains("nft insert rule inet hostfw input iifname br0 icmp type echo-request accept"))
    }

    @Test func hostFirewallWithLegacyIptablesPointsAtTheINPUTChain() {
        var r = R()
        withHostAddress(&r)
        netfilter(&r, NetfilterState(rulesetRead: false))
        pingsTheHostAndDrops(&r, location: "ipt_do_table")
        let findings = DiagnosisEngine.diagnose(input(r))
        expectOnly(findings, .hostFirewallDrop, at: "br0")
        #expect(findings[0].fix.hasPrefix("iptables -L INPUT -v -n --line-numbers"))
        #expect(findings[0].fix.contains("iptables -I INPUT -i br0 -p icmp --icmp-type echo-request -j ACCEPT"))
    }

    /// The host gets the requests (tx at br0) and answers nothing, with no drop: rp_filter,
    /// icmp_echo_ignore_all. icmp_unanswered at the host's port, with the host's fix.
    @Test func aHostThatAnswersNothingIsUnansweredAtItsPort() {
        var r = R()
        withHostAddress(&r)
        for seq in 1...4 { r.forward(R.echo(vm1, host, seq: seq), from: "vm1", to: ["br0"], at: Double(seq)) }
        let findings = DiagnosisEngine.diagnose(input(r))
        expectOnly(findings, .icmpUnanswered, at: "br0")
        #expect(findings[0].summary.contains("reach the host (br0) and get no reply, with no drop on the way"))
        #expect(findings[0].fix.contains("icmp_echo_ignore_all"))
    }

    @Test func arpForTheHostsOwnAddressUnansweredIsAtItsPort() {
        var r = R()
        withHostAddress(&r)
        for t in [1.0, 2.0, 3.0] {
            r.forward(R.arpRequest(vm1, for: host.ip), from: "vm1", to: ["uplink", "vm2", "vm3", "br0"], at: t)
        }
        let findings = DiagnosisEngine.diagnose(input(r))
        expectOnly(findings, .arpUnanswered, at: "br0")
        #expect(findings[0].fix.contains("arp_ignore"))
    }

    // MARK: br_netfilter_drop

    func forwardedAndDroppedAtVM2(_ r: inout R, location: String = "nft_do_chain") {
        for seq in 1...3 {
            let frame = R.echo(vm1, vm2, seq: seq)
            r.see(frame, "vm1", .rx, at: Double(seq))
            r.drop(Array(frame), at: "vm2", reason: "NETFILTER_DROP", location: location, seconds: Double(seq) + 0.0001)
        }
    }

    static let dockerForward = NetfilterState.Chain(family: "ip", table: "filter", name: "FORWARD", hook: "forward",
                                                    policyDrop: true, dropRules: 0)

    @Test func iptablesForwardThroughBrNetfilterIsBrNetfilterDrop() {
        var r = R()
        netfilter(&r, NetfilterState(callIPTables: true, callIP6Tables: true, callARPTables: false, chains: [Self.dockerForward]))
        forwardedAndDroppedAtVM2(&r)
        let findings = DiagnosisEngine.diagnose(input(r))
        expectOnly(findings, .brNetfilterDrop, at: "vm2")
        let finding = findings[0]
        #expect(finding.evidence.contains("net.bridge.bridge-nf-call-iptables = 1 in the bridge's namespace: bridged IPv4 frames go "
            + "through the iptables chains (br_netfilter)"))
        #expect(finding.evidence.contains("can drop: table ip filter, chain FORWARD (hook forward): policy drop"))
        #expect(finding.fix.hasPrefix("sysctl -w net.bridge.bridge-nf-call-iptables=0"))
        #expect(finding.fix.contains("iptables -I FORWARD -m physdev --physdev-is-bridged -j ACCEPT"))
    }

    @Test func legacyIptablesIsBrNetfilterDropWithoutTheRuleset() {
        var r = R()
        netfilter(&r, NetfilterState(callIPTables: true, rulesetRead: false))
        forwardedAndDroppedAtVM2(&r, location: "ipt_do_table")
        let findings = DiagnosisEngine.diagnose(input(r))
        expectOnly(findings, .brNetfilterDrop, at: "vm2")
        #expect(findings[0].evidence.contains { $0.contains("ipt_do_table: an iptables-legacy table") })
    }

    /// A bridge-family table that can drop too, or br_netfilter off: the bridge family's
    /// netfilter_drop, as before (the fix for that is `nft list ruleset bridge`).
    @Test func bridgeFamilyDropsStayNetfilterDrop() {
        for state in [
            NetfilterState(callIPTables: true, chains: [Self.dockerForward,
                                                        .init(family: "bridge", table: "t", name: "forward", hook: "forward",
                                                              policyDrop: false, dropRules: 1)]),
            NetfilterState(callIPTables: false, chains: [Self.dockerForward]),
            NetfilterState(callIPTables: nil, chains: [.init(family: "bridge", table: "t", name: "forward", hook: "forward",
                                                              policyDrop: false, dropRules: 1)]),
        ] {
            var r = R()
            netfilter(&r, state)
            forwardedAndDroppedAtVM2(&r)
            expectOnly(DiagnosisEngine.diagnose(input(r)), .netfilterDrop, at: "vm2")
        }
    }

    // MARK: port_flood_off

    /// vm2's guest changed its MAC to `moved`; vm2 has flooding and learning off. vm1
    /// resolves it (broadcast: reaches vm2; the reply enters at vm2 from `moved`), then its
    /// echo requests to `moved` are flooded everywhere but vm2.
    @Test func unknownUnicastNeverReachingAFloodOffPortIsPortFloodOff() {
        var r = R(ports: ["uplink", "vm1", "vm2", "vm3", "br0"])
        r.port("vm2") { $0.unicastFlood = false; $0.learning = false }
        let moved = R.Host(mac: [0x52, 0x54, 0, 0, 0, 0x92], ip: vm2.ip, port: "vm2")
        r.forward(R.arpRequest(vm1, for: moved.ip), from: "vm1", to: ["uplink", "vm2", "vm3", "br0"], at: 0.5)
        r.forward(R.arpReply(moved, to: vm1), from: "vm2", to: ["vm1"], at: 0.5005)
        for seq in 1...4 {
            r.forward(R.echo(vm1, moved, seq: seq), from: "vm1", to: ["uplink", "vm3", "br0"], at: Double(seq))
        }
        let findings = DiagnosisEngine.diagnose(input(r))
        expectOnly(findings, .portFloodOff, at: "vm2")
        let finding = findings[0]
        #expect(finding.evidence[0].contains("were flooded out of br0, uplink and vm3; none left at vm2"))
        #expect(finding.evidence.contains("vm2: flood off, learning off (bridge -d link show dev vm2)"))
        #expect(finding.evidence.contains("52:54:00:00:00:92 is behind vm2: 1 frame from it entered there"))
        #expect(finding.fix == "bridge fdb add 52:54:00:00:00:92 dev vm2 master static   # or let the port flood unknown "
            + "unicast: bridge link set dev vm2 flood on")
    }

    /// A MAC in the FDB is known unicast: flood flags do not matter for it.
    @Test func aLearnedMACIsNotPortFloodOff() {
        var r = R()
        r.port("vm2") { $0.unicastFlood = false }
        r.after.fdb = [BridgeState.FDBEntry(mac: "52:54:00:00:00:12", ifindex: 12, port: "vm2")]
        r.before.fdb = r.after.fdb
        for seq in 1...3 { r.ping(vm1, vm2, seq: seq, at: Double(seq)) }
        #expect(DiagnosisEngine.diagnose(input(r)).isEmpty)
    }

    // MARK: Quiet senders

    @Test func oneRequestUnansweredForTheRestOfTheWatchIsEnough() {
        var r = R()
        withHostAddress(&r)
        r.forward(R.arpRequest(vm1, for: gw.ip), from: "vm1", to: ["uplink", "vm2", "vm3"], at: 2)
        let findings = DiagnosisEngine.diagnose(input(r, endingAt: 8))
        expectOnly(findings, .arpUnanswered, at: "vm1")
        #expect(findings[0].severity == .warning)
        #expect(findings[0].summary.hasSuffix("(1 request seen)"))
        #expect(findings[0].evidence.contains("no ARP reply from 198.18.0.1 was seen in the 6.0 s that followed"))
        #expect(findings[0].evidence.contains { $0.hasSuffix("bridgetrace diagnose br0 --host 198.18.0.1 --probe") })
    }

    @Test func oneRequestAnsweredLateOrAtTheVeryEndIsNoFinding() {
        var late = R()
        late.forward(R.arpRequest(vm1, for: gw.ip), from: "vm1", to: ["uplink", "vm2", "vm3"], at: 2)
        late.forward(R.arpReply(gw, to: vm1), from: "uplink", to: ["vm1"], at: 3.5)
        #expect(DiagnosisEngine.diagnose(input(late, endingAt: 8)).isEmpty)
        var end = R()
        end.forward(R.arpRequest(vm1, for: gw.ip), from: "vm1", to: ["uplink", "vm2", "vm3"], at: 7.5)
        #expect(DiagnosisEngine.diagnose(input(end, endingAt: 8)).isEmpty)
        // A recording without the watch's end keeps the old rule: two a retransmission apart.
        var old = R()
        old.forward(R.arpRequest(vm1, for: gw.ip), from: "vm1", to: ["uplink", "vm2", "vm3"], at: 2)
        #expect(old.diagnose().isEmpty)
    }

    /// vm1 and the uplink are isolated; vm1's one request for the gateway is flooded to
    /// vm2 and the host only. The FDB shows a host behind the uplink.
    @Test func isolationDecidesFromOneRequestWhenTheFDBShowsHostsBehindIsolatedPeers() {
        var r = R(ports: ["uplink", "vm1", "vm2", "br0"])
        r.port("vm1") { $0.isolated = true }
        r.port("uplink") { $0.isolated = true }
        r.before.fdb = [BridgeState.FDBEntry(mac: "52:54:00:00:00:01", ifindex: 10, port: "uplink")]
        r.after.fdb = r.before.fdb
        r.forward(R.arpRequest(vm1, for: gw.ip), from: "vm1", to: ["vm2", "br0"], at: 2)
        let findings = DiagnosisEngine.diagnose(input(r, endingAt: 8))
        expectOnly(findings, .portIsolated, at: "vm1")
    }

    // MARK: subnet_mismatch

    @Test func aHostAloneInAnotherSubnetAskingUnansweredIsSubnetMismatch() {
        var r = R(ports: ["uplink", "vm1", "vm2", "vm3", "br0"])
        withHostAddress(&r)
        let stray = R.Host(mac: vm1.mac, ip: "198.18.1.11", port: "vm1")
        for t in [1.0, 2.0, 3.0] {
            r.forward(R.arpRequest(stray, for: "198.18.1.1"), from: "vm1", to: ["uplink", "vm2", "vm3", "br0"], at: t)
        }
        r.background(vm3, from: 0.1, seconds: 5)
        let findings = DiagnosisEngine.diagnose(input(r))
        expectOnly(findings, .subnetMismatch, at: "vm1")
        let finding = findings[0]
        #expect(finding.summary.contains("uses 198.18.1.11, in 198.18.1.0/24"))
        #expect(finding.summary.contains("(they are in 198.18.0.0/24)"))
        #expect(finding.evidence.contains { $0.hasPrefix("the segment is 198.18.0.0/24: 198.18.0.2 (the bridge's own address, br0)") })
        #expect(finding.evidence[0].hasPrefix("3 ARP requests from 198.18.1.11 (52:54:00:00:00:11) entering at vm1 for 198.18.1.1"))
    }

    /// Without a subnet to compare with (no address on the bridge, no other host), it is
    /// only arp_unanswered.
    @Test func aLoneHostWithNothingToCompareIsArpUnanswered() {
        var r = R()
        let stray = R.Host(mac: vm1.mac, ip: "198.18.1.11", port: "vm1")
        for t in [1.0, 2.0, 3.0] {
            r.forward(R.arpRequest(stray, for: "198.18.1.1"), from: "vm1", to: ["uplink", "vm2", "vm3"], at: t)
        }
        expectOnly(DiagnosisEngine.diagnose(input(r)), .arpUnanswered, at: "vm1")
    }
}

/// What the host's stack frees at its own port as a matter of course is no finding.
@Suite struct HostPortNoiseTests {
    typealias R = Recording

    @Test func broadcastsNoSocketWantsAreNotAFault() {
        var r = R(ports: ["uplink", "vm1", "vm2", "br0"])
        for t in [1.0, 2.0, 3.0] {
            let discover = R.dhcp(R.vm1, type: 1, xid: 7)
            r.forward(discover, from: "vm1", to: ["uplink", "vm2", "br0"], at: t)
            r.drop(discover, at: "br0", reason: "NOT_SPECIFIED", location: "__udp4_lib_rcv", seconds: t + 0.0001)
        }
        // A server answers, so dhcp_unanswered does not speak either.
        r.forward(R.dhcp(R.vm1, type: 2, xid: 7, server: R.gateway), from: "uplink", to: ["vm1"], at: 1.01)
        #expect(r.diagnose().isEmpty, "\(r.diagnose().describeAll())")
    }
}
