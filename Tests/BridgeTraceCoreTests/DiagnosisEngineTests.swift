import Testing

@testable import BridgeTraceCore

/// One recorded stream per cause code, shaped like FAULTS.md's kernel evidence. Each test
/// asserts the cause, the port, and that no finding names another cause.
@Suite struct DiagnosisEngineTests {
    typealias R = Recording
    let vm1 = R.vm1, vm2 = R.vm2, vm3 = R.vm3, gw = R.gateway

    func expectOnly(_ findings: [Finding], _ cause: CauseCode, at port: String,
                    sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(findings.count == 1, "\(findings.describeAll())", sourceLocation: sourceLocation)
        #expect(findings.first?.cause == cause, "\(findings.describeAll())", sourceLocation: sourceLocation)
        #expect(findings.first?.port == port, "\(findings.describeAll())", sourceLocation: sourceLocation)
        if let finding = findings.first {
            #expect(!finding.summary.isEmpty && !finding.fix.isEmpty && !finding.evidence.isEmpty,
                    sourceLocation: sourceLocation)
        }
    }

    // MARK: Healthy

    @Test func healthyTrafficGivesNoFinding() {
        var r = R()
        r.resolve(vm1, gw, at: 0)
        r.resolve(vm1, vm2, at: 0.2)
        for second in 0..<10 {
            r.ping(vm1, gw, seq: second + 1, at: 0.1 + Double(second))
            r.ping(vm2, vm1, seq: second + 1, at: 0.3 + Double(second))
        }
        r.background(vm3, from: 0.05, seconds: 9)
        // DHCP with a server behind the uplink.
        r.forward(R.dhcp(vm2, type: 1, xid: 42), from: "vm2", to: ["uplink", "vm1", "vm3"], at: 1)
        r.forward(R.dhcp(vm2, type: 2, xid: 42, server: gw), from: "uplink", to: ["vm2"], at: 1.01)
        r.forward(R.dhcp(vm2, type: 3, xid: 42), from: "vm2", to: ["uplink", "vm1", "vm3"], at: 1.02)
        r.forward(R.dhcp(vm2, type: 5, xid: 42, server: gw), from: "uplink", to: ["vm2"], at: 1.03)
        // One ARP request for a host that does not exist (a scan, a typo): not yet a fault;
        // two a retransmission apart would be (Linux asks 3 times, 1 s apart).
        r.forward(R.arpRequest(vm1, for: "198.18.0.99"), from: "vm1", to: ["uplink", "vm2", "vm3"], at: 5)
        r.forward(R.arpRequest(vm1, for: "198.18.0.98"), from: "vm1", to: ["uplink", "vm2", "vm3"], at: 6)
        // A ping to the bridge host itself: to its MAC, answered by the host (tx only).
        let bridgeHost = R.Host(mac: [0x02, 0, 0, 0, 0, 0xb0], ip: "198.18.0.254", port: "br0")
        r.see(R.echo(vm1, bridgeHost, seq: 1), "vm1", .rx, at: 7)
        r.see(R.echo(bridgeHost, vm1, seq: 1, reply: true), "vm1", .tx, at: 7.0001)
        // Tagged traffic between two VMs on the same VLAN is fine.
        for second in 0..<4 {
            r.forward(R.echo(vm1, vm3, seq: 100 + second, vlan: 200), from: "vm1", to: ["vm3"], at: 2 + Double(second))
            r.forward(R.echo(vm3, vm1, seq: 100 + second, reply: true, vlan: 200), from: "vm3", to: ["vm1"],
                      at: 2.001 + Double(second))
        }
        let findings = r.diagnose()
        #expect(findings.isEmpty, "\(findings.describeAll())")
    }

    @Test func emptyInputIsHealthy() {
        #expect(R().diagnose().isEmpty)
    }

    // MARK: One test per cause

    @Test func netfilterDropAtTheEgressPort() {
        var r = R()
        r.resolve(vm1, gw, at: 0)
        for seq in 1...5 {
            let request = R.echo(vm1, gw, seq: seq)
            r.see(request, "vm1", .rx, at: Double(seq))
            r.drop(request, at: "uplink", reason: "NETFILTER_DROP", location: "nft_do_chain", seconds: Double(seq) + 20e-6)
        }
        r.background()
        let findings = r.diagnose()
        expectOnly(findings, .netfilterDrop, at: "uplink")
        #expect(findings.first?.summary.contains("ICMP echo requests from 198.18.0.11 to 198.18.0.1 enter at vm1") == true)
        #expect(findings.first?.summary.contains("NETFILTER_DROP in nft_do_chain") == true)
        #expect(findings.first?.evidence.first == "5 drops NETFILTER_DROP in nft_do_chain on uplink (skb->dev) over 4.0 s")
    }

    @Test func netfilterDropWithoutBytesStillMatchesByLength() {
        var r = R()
        r.resolve(vm1, gw, at: 0)
        for seq in 1...4 {
            let request = R.echo(vm1, gw, seq: seq)
            r.see(request, "vm1", .rx, at: Double(seq))
            r.drop(request, at: "uplink", reason: "NETFILTER_DROP", location: "nft_do_chain", seconds: Double(seq) + 20e-6,
                   length: request.count - 14, keepBytes: false)
        }
        let findings = r.diagnose()
        expectOnly(findings, .netfilterDrop, at: "uplink")
        #expect(findings.first?.summary.contains("enter at vm1") == true)
    }

    @Test func stpDisabledPortFromStateWithDropEvidence() {
        var r = R()
        r.port("uplink") { $0.stpState = .disabled }
        // vm1's broadcasts reach the other VMs, not the uplink; the gateway's frames are
        // dropped entering at uplink; vm1's unicast to the gateway has nowhere to go.
        for second in 0..<4 {
            r.forward(R.arpRequest(vm1, for: gw.ip), from: "vm1", to: ["vm2", "vm3"], at: Double(second))
            let request = R.echo(vm1, gw, seq: second + 1)
            r.see(request, "vm1", .rx, at: Double(second) + 0.5)
            r.drop(request, at: "vm1", reason: "NOT_SPECIFIED", location: "br_handle_frame_finish",
                   seconds: Double(second) + 0.50001)
            r.drop(R.arpRequest(gw, for: vm1.ip), at: "uplink", reason: "BRIDGE_INGRESS_STP_STATE",
                   location: "br_handle_frame", seconds: Double(second) + 0.7)
        }
        let findings = r.diagnose()
        expectOnly(findings, .stpNotForwarding, at: "uplink")
        let evidence = findings.first?.evidence.joined(separator: "\n") ?? ""
        #expect(evidence.contains("BRIDGE_INGRESS_STP_STATE in br_handle_frame on uplink"))
        #expect(evidence.contains("NOT_SPECIFIED in br_handle_frame_finish on vm1"))
        #expect(findings.first?.fix == "bridge link set dev uplink state 3")
    }

    @Test func portDownAtTheDownPort() {
        var r = R()
        r.port("vm2") { $0.isUp = false; $0.hasCarrier = false; $0.operState = "down"; $0.stpState = .disabled }
        r.resolve(vm1, gw, at: 0)
        for seq in 1...4 {
            let request = R.echo(vm1, vm2, seq: seq)
            r.see(request, "vm1", .rx, at: Double(seq))
            r.drop(request, at: "vm1", reason: "NO_TX_TARGET", location: "br_handle_frame_finish", seconds: Double(seq) + 1e-5)
        }
        let findings = r.diagnose()
        expectOnly(findings, .portDown, at: "vm2")
        #expect(findings.first?.fix == "ip link set dev vm2 up")
        #expect(findings.first?.evidence.contains { $0.contains("NO_TX_TARGET in br_handle_frame_finish on vm1") } == true)
    }

    @Test func noCarrierOnATapWithoutItsVM() {
        var r = R(ports: ["uplink", "vm1", "tap-vm2"])
        r.port("tap-vm2") { $0.kind = "tun"; $0.hasCarrier = false; $0.operState = "down"; $0.stpState = .disabled }
        let vmOnTap = R.Host(mac: vm2.mac, ip: vm2.ip, port: "tap-vm2")
        for seq in 1...4 {
            let request = R.echo(vm1, vmOnTap, seq: seq)
            r.see(request, "vm1", .rx, at: Double(seq))
            r.drop(request, at: "vm1", reason: "NO_TX_TARGET", location: "br_handle_frame_finish", seconds: Double(seq) + 1e-5)
        }
        let findings = r.diagnose()
        expectOnly(findings, .noCarrier, at: "tap-vm2")
        #expect(findings.first?.fix.contains("VM that owns tap-vm2") == true)
    }

    @Test func noCarrierWhenAStoppedVMStopsReadingItsTap() {
        var r = R(ports: ["uplink", "vm1", "tap-vm2"])
        r.port("tap-vm2") { $0.kind = "tun" }
        r.before.deviceCounters["tap-vm2"] = .init(txDropped: 10)
        r.after.deviceCounters["tap-vm2"] = .init(txDropped: 16)
        let vmOnTap = R.Host(mac: vm2.mac, ip: vm2.ip, port: "tap-vm2")
        // The tc egress hook sees the requests leave; tun_net_xmit then drops them.
        for seq in 1...6 {
            r.forward(R.echo(vm1, vmOnTap, seq: seq), from: "vm1", to: ["tap-vm2"], at: Double(seq))
        }
        let findings = r.diagnose()
        expectOnly(findings, .noCarrier, at: "tap-vm2")
        #expect(findings.first?.evidence.contains { $0.contains("tx_dropped +6") } == true)
    }

    @Test func mtuMismatchAtTheSmallMTUEgressPort() {
        var r = R()
        r.port("vm1") { $0.mtu = 9000 }
        r.resolve(vm1, gw, at: 0)
        for seq in 1...4 {
            let big = R.echo(vm1, gw, seq: seq, dataLength: 4000 - 28)
            r.see(big, "vm1", .rx, at: Double(seq))
            r.drop(big, at: "uplink", reason: "NOT_SPECIFIED", location: "br_dev_queue_push_xmit", seconds: Double(seq) + 2e-5)
        }
        r.background()
        let findings = r.diagnose()
        expectOnly(findings, .mtuMismatch, at: "uplink")
        #expect(findings.first?.summary.contains("4000 bytes from vm1") == true)
        #expect(findings.first?.summary.contains("(MTU 1500)") == true)
    }

    @Test func portIsolatedAtTheSendersPort() {
        var r = R(ports: ["vm1", "vm2"])
        r.port("vm1") { $0.isolated = true }
        r.port("vm2") { $0.isolated = true }
        // FAULTS.md: no drop event at all; the ARP requests enter and never leave.
        for second in 0..<4 { r.see(R.arpRequest(vm1, for: vm2.ip), "vm1", .rx, at: Double(second)) }
        let findings = r.diagnose()
        expectOnly(findings, .portIsolated, at: "vm1")
        #expect(findings.first?.fix.hasPrefix("bridge link set dev vm1 isolated off   # or, if vm1 must stay apart") == true)
        #expect(findings.first?.evidence.contains { $0.contains("left no port, with no drop event") } == true)
    }

    @Test func arpUnansweredAtTheAskersPort() {
        var r = R()
        for second in 0..<4 {
            r.forward(R.arpRequest(vm1, for: vm2.ip), from: "vm1", to: ["uplink", "vm2", "vm3"], at: Double(second))
        }
        r.background()
        let findings = r.diagnose()
        expectOnly(findings, .arpUnanswered, at: "vm1")
        #expect(findings.first?.summary.contains("198.18.0.12") == true)
    }

    @Test func icmpUnansweredAtThePortTowardsTheSilentHost() {
        var r = R()
        r.resolve(vm1, vm2, at: 0)
        for seq in 1...5 { r.forward(R.echo(vm1, vm2, seq: seq), from: "vm1", to: ["vm2"], at: Double(seq)) }
        r.background()
        let findings = r.diagnose()
        expectOnly(findings, .icmpUnanswered, at: "vm2")
        #expect(findings.first?.summary.contains("from 198.18.0.11 to 198.18.0.12") == true)
    }

    @Test func vlanMismatchWhereTheTaggedFramesEnter() {
        var r = R()
        for second in 0..<5 {
            r.forward(R.arpRequest(vm1, for: gw.ip, vlan: 100), from: "vm1", to: ["uplink", "vm2", "vm3"],
                      at: Double(second))
        }
        r.background(vm2)
        let findings = r.diagnose()
        expectOnly(findings, .vlanMismatch, at: "vm1")
        #expect(findings.first?.summary.contains("VLAN 100") == true)
    }

    @Test func ipConflictAtTheSecondMACsPort() {
        var r = R()
        let impostor = R.Host(mac: vm3.mac, ip: vm2.ip, port: "vm3")
        for second in 0..<3 {
            let t = Double(second) * 2
            r.forward(R.arpRequest(vm1, for: vm2.ip), from: "vm1", to: ["uplink", "vm2", "vm3"], at: t)
            r.forward(R.arpReply(vm2, to: vm1), from: "vm2", to: ["vm1"], at: t + 0.0004)
            r.forward(R.arpReply(impostor, to: vm1), from: "vm3", to: ["vm1"], at: t + 0.0007)
        }
        let findings = r.diagnose()
        expectOnly(findings, .ipConflict, at: "vm3")
        #expect(findings.first?.summary.contains("198.18.0.12 is used by two hosts") == true)
    }

    @Test func macFlappingAtTheSecondPort() {
        var r = R()
        let clone = R.Host(mac: vm1.mac, ip: vm1.ip, port: "vm2")
        r.resolve(vm1, gw, at: 0)
        for second in 0..<4 {
            r.ping(vm1, gw, seq: second + 1, at: 0.1 + Double(second))
            r.ping(clone, gw, seq: 100 + second, at: 0.6 + Double(second))
        }
        r.before.fdb = [.init(mac: "52:54:00:00:00:11", ifindex: 11, port: "vm1")]
        r.after.fdb = [.init(mac: "52:54:00:00:00:11", ifindex: 12, port: "vm2")]
        let findings = r.diagnose()
        expectOnly(findings, .macFlapping, at: "vm2")
        #expect(findings.first?.evidence.contains("FDB: 52:54:00:00:00:11 on vm1 before the watch, on vm2 after") == true)
    }

    @Test func arpSpoofingAtTheSpoofersPort() {
        var r = R()
        r.resolve(vm1, gw, at: 0)
        r.ping(vm1, gw, seq: 1, at: 0.1)
        let spoofer = R.Host(mac: [0x52, 0x54, 0, 0x66, 0x66, 0x66], ip: gw.ip, port: "vm3")
        for index in 0..<8 {
            r.forward(R.arpReply(spoofer, to: vm1), from: "vm3", to: ["vm1"], at: 1 + Double(index) * 0.5)
        }
        let findings = r.diagnose()
        expectOnly(findings, .arpSpoofing, at: "vm3")
        #expect(findings.first?.summary.contains("claims 198.18.0.1") == true)
        #expect(findings.first?.summary.contains("52:54:00:00:00:01 behind uplink") == true)
    }

    @Test func dhcpUnansweredAtTheClientsPort() {
        var r = R()
        for attempt in 0..<3 {
            r.forward(R.dhcp(vm1, type: 1, xid: 7), from: "vm1", to: ["uplink", "vm2", "vm3"], at: Double(attempt) * 3)
        }
        r.background()
        let findings = r.diagnose()
        expectOnly(findings, .dhcpUnanswered, at: "vm1")
        #expect(findings.first?.summary.contains("52:54:00:00:00:11") == true)
    }

    @Test func notForwardedWhenFramesVanishWithoutExplanation() {
        var r = R()
        r.before.fdb = [.init(mac: "52:54:00:00:00:12", ifindex: 12, port: "vm2")]
        r.after.fdb = r.before.fdb
        for seq in 1...5 { r.see(R.echo(vm1, vm2, seq: seq), "vm1", .rx, at: Double(seq)) }
        r.background()
        let findings = r.diagnose()
        expectOnly(findings, .notForwarded, at: "vm1")
    }

    @Test func unknownDropNamesReasonLocationAndPort() {
        var r = R()
        var zeroSource = R.arpRequest(vm1, for: gw.ip)
        for index in 6..<12 { zeroSource[index] = 0 }
        for second in 0..<3 {
            r.see(zeroSource, "vm1", .rx, at: Double(second))
            r.drop(zeroSource, at: "vm1", reason: "MAC_INVALID_SOURCE", location: "br_handle_frame",
                   seconds: Double(second) + 1e-6)
        }
        r.background()
        let findings = r.diagnose()
        expectOnly(findings, .unknownDrop, at: "vm1")
        #expect(findings.first?.summary.contains("MAC_INVALID_SOURCE in br_handle_frame") == true)
    }

    // MARK: Precision and determinism

    @Test func unansweredNeedsTimeAndCount() {
        var r = R()
        // Three requests within half a second: too soon to call.
        for index in 0..<3 {
            r.forward(R.arpRequest(vm1, for: "198.18.0.77"), from: "vm1", to: ["uplink", "vm2", "vm3"],
                      at: Double(index) * 0.2)
        }
        #expect(r.diagnose().isEmpty)
        // Asked about with --host, two are enough.
        r.probeTarget = "198.18.0.77"
        #expect(r.diagnose().causes == [.arpUnanswered])
    }

    @Test func probeFromTheBridgeHostIsReportedAtTheBridge() {
        var r = R()
        r.probeTarget = vm2.ip
        let host = R.Host(mac: [0x02, 0, 0, 0, 0, 0xb0], ip: "198.18.0.254", port: "br0")
        for index in 0..<3 {
            for port in ["uplink", "vm1", "vm2", "vm3"] {
                r.see(R.arpRequest(host, for: vm2.ip), port, .tx, at: Double(index) * 0.5)
            }
        }
        let findings = r.diagnose()
        expectOnly(findings, .arpUnanswered, at: "br0")
        #expect(findings.first?.severity == .error)
    }

    @Test func twoFaultsAreSortedBySeverityThenPort() {
        var r = R()
        r.port("vm3") { $0.isUp = false; $0.stpState = .disabled }
        var zeroSource = R.arpRequest(vm1, for: gw.ip)
        for index in 6..<12 { zeroSource[index] = 0 }
        r.drop(zeroSource, at: "vm1", reason: "MAC_INVALID_SOURCE", location: "br_handle_frame", seconds: 1)
        let findings = r.diagnose()
        #expect(findings.map(\.cause) == [.portDown, .unknownDrop])
        #expect(findings.map(\.severity) == [.error, .warning])
    }

    @Test func deterministicWhateverTheInputOrder() {
        var r = R()
        r.resolve(vm1, gw, at: 0)
        for seq in 1...5 {
            let request = R.echo(vm1, gw, seq: seq)
            r.see(request, "vm1", .rx, at: Double(seq))
            r.drop(request, at: "uplink", reason: "NETFILTER_DROP", location: "nft_do_chain", seconds: Double(seq) + 2e-5)
        }
        for second in 0..<4 {
            r.forward(R.arpRequest(vm2, for: "198.18.0.40"), from: "vm2", to: ["uplink", "vm1", "vm3"], at: Double(second))
        }
        let first = r.diagnose()
        #expect(first == r.diagnose())
        var shuffled = r
        var generator = SplitMix(seed: 7)
        shuffled.events.shuffle(using: &generator)
        shuffled.drops.shuffle(using: &generator)
        #expect(shuffled.diagnose() == first)
        #expect(Set(first.map(\.cause)) == [.netfilterDrop, .arpUnanswered])
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
