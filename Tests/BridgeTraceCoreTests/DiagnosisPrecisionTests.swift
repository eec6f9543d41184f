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
