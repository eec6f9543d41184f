import Testing

@testable import BridgeTraceCore

/// Things a healthy bridge does that must not read as faults.
@Suite struct DiagnosisPrecisionTests {
    typealias R = Recording
    let vm1 = R.vm1, vm2 = R.vm2, vm3 = R.vm3, gw = R.gateway

    @Test func stpBlockingWithSTPOnIsByDesign() {
        var r = R()
        r.before.bridge.stpEnabled = true
        r.after.bridge.stpEnabled = true
        r.port("vm3") { $0.stpState = .blocking }
        r.drop(R.arpRequest(vm3, for: gw.ip), at: "vm3", reason: "BRIDGE_INGRESS_STP_STATE", location: "br_handle_frame",
               seconds: 1)
        r.background(vm2)
        #expect(r.diagnose().isEmpty, "\(r.diagnose().describeAll())")
    }

    @Test func stpBlockingWithoutSTPHasNoEffect() {
        var r = R()
        r.port("vm3") { $0.stpState = .blocking }
        r.background()
        #expect(r.diagnose().isEmpty)
    }

    @Test func stpLearningWithoutSTPIsAFault() {
        var r = R()
        r.port("vm3") { $0.stpState = .learning }
        #expect(r.diagnose().map(\.cause) == [.stpNotForwarding])
        #expect(r.diagnose().first?.port == "vm3")
    }

    @Test func framesForAHostOnTheSamePortAreDroppedRightly() {
        var r = R()
        let lanHost = R.Host(mac: [0x52, 0x54, 0, 0, 0, 0x77], ip: "198.18.0.77", port: "uplink")
        r.before.fdb = [.init(mac: "52:54:00:00:00:77", ifindex: 10, port: "uplink")]
        r.after.fdb = r.before.fdb
        for seq in 1...4 {
            let frame = R.echo(gw, lanHost, seq: seq)
            r.see(frame, "uplink", .rx, at: Double(seq))
            r.drop(frame, at: "uplink", reason: "NO_TX_TARGET", location: "br_handle_frame_finish", seconds: Double(seq) + 1e-6)
        }
        r.background()
        #expect(r.diagnose().isEmpty, "\(r.diagnose().describeAll())")
    }

    @Test func aTrunkCarryingOtherVLANsIsNoMismatch() {
        var r = R()
        // Hosts of the physical network on VLAN 10 ask each other things the VMs never see answered.
        for index in 0..<6 {
            let host = R.Host(mac: [0x00, 0x1b, 0, 0, 0, UInt8(index)], ip: "10.10.0.\(index + 1)", port: "uplink")
            r.forward(R.arpRequest(host, for: "10.10.0.200", vlan: 10), from: "uplink", to: ["vm1", "vm2", "vm3"],
                      at: Double(index))
        }
        r.background()
        #expect(r.diagnose().isEmpty, "\(r.diagnose().describeAll())")
    }

    @Test func oneGratuitousAnnouncementIsNoSpoofing() {
        var r = R()
        r.resolve(vm1, gw, at: 0)
        let announce = Fixture.padded(Fixture.ethernet(
            dst: Fixture.broadcastMAC, src: vm2.mac, etherType: 0x0806,
            payload: Fixture.arp(op: 1, senderMAC: vm2.mac, senderIP: vm2.ip, targetMAC: [0, 0, 0, 0, 0, 0], targetIP: vm2.ip)))
        r.forward(announce, from: "vm2", to: ["uplink", "vm1", "vm3"], at: 1)
        r.background()
        #expect(r.diagnose().isEmpty, "\(r.diagnose().describeAll())")
    }

    @Test func aVMThatMovedOnceIsNoFlapping() {
        var r = R()
        let moved = R.Host(mac: vm1.mac, ip: vm1.ip, port: "vm2")
        r.resolve(vm1, gw, at: 0)
        r.ping(vm1, gw, seq: 1, at: 0.5)
        r.resolve(moved, gw, at: 2)
        r.ping(moved, gw, seq: 2, at: 2.5)
        #expect(r.diagnose().isEmpty, "\(r.diagnose().describeAll())")
    }
}

/// Faults whose echoes must not be reported as second faults.
@Suite struct DiagnosisEchoTests {
    typealias R = Recording
    let vm1 = R.vm1, vm2 = R.vm2, gw = R.gateway

    @Test func poisonedPingsAreTheSpoofersNotUnanswered() {
        var r = R()
        r.resolve(vm1, gw, at: 0)
        r.ping(vm1, gw, seq: 1, at: 0.1)
        let spoofer = R.Host(mac: [0x52, 0x54, 0, 0x66, 0x66, 0x66], ip: gw.ip, port: "vm3")
        // Gratuitous replies (sender = target = the gateway's IP), every 0.5 s.
        let gratuitous = Fixture.padded(Fixture.ethernet(
            dst: Fixture.broadcastMAC, src: spoofer.mac, etherType: 0x0806,
            payload: Fixture.arp(op: 2, senderMAC: spoofer.mac, senderIP: gw.ip, targetMAC: Fixture.broadcastMAC,
                                 targetIP: gw.ip)))
        for index in 0..<10 {
            r.forward(gratuitous, from: "vm3", to: ["uplink", "vm1", "vm2"], at: 0.5 + Double(index) * 0.5)
        }
        // vm1, poisoned, now sends its pings to the spoofer, which does not answer.
        let poisonedGateway = R.Host(mac: spoofer.mac, ip: gw.ip, port: "vm3")
        for seq in 2...6 { r.forward(R.echo(vm1, poisonedGateway, seq: seq), from: "vm1", to: ["vm3"], at: Double(seq)) }
        let findings = r.diagnose()
        #expect(findings.map(\.cause) == [.arpSpoofing], "\(findings.describeAll())")
        #expect(findings.first?.port == "vm3")
    }

    @Test func conflictReportedAtTheLaterClaimantEvenWhenItTalksMore() {
        var r = R()
        r.resolve(vm1, gw, at: 0)
        for seq in 1...3 { r.ping(vm1, gw, seq: seq, at: Double(seq)) }
        // vm2's host takes vm1's address and uses it a lot.
        let taker = R.Host(mac: vm2.mac, ip: vm1.ip, port: "vm2")
        r.resolve(taker, gw, at: 4)
        for seq in 10...20 { r.ping(taker, gw, seq: seq, at: 4 + Double(seq - 10) * 0.3) }
        let findings = r.diagnose()
        #expect(findings.map(\.cause) == [.ipConflict], "\(findings.describeAll())")
        #expect(findings.first?.port == "vm2")
    }
}
