import BridgeTraceCore
import BridgeTraceSwitch
import Testing

@Suite struct SwitchConfigTests {
    @Test func plainPortsAreAccessPortsOfVLAN1() throws {
        let ports = try SwitchConfig.ports(plain: ["a", "b"], access: [], trunk: [], native: [])
        #expect(ports == [SwitchPortSpec(name: "a"), SwitchPortSpec(name: "b")])
        #expect(ports[0].pvid == 1)
        #expect(ports[0].mode == .access)
    }

    @Test func accessTrunkAndNative() throws {
        let ports = try SwitchConfig.ports(plain: [], access: ["tap1=100"], trunk: ["eth1=300,200,300"], native: ["eth1=10"])
        #expect(ports[0] == SwitchPortSpec(name: "tap1", mode: .access, vlans: [100]))
        #expect(ports[1].mode == .trunk)
        #expect(ports[1].vlans == [10, 200, 300])
        #expect(ports[1].native == 10)
        #expect(ports[1].pvid == 10)
        #expect(ports[1].sendsTagged(200))
        #expect(!ports[1].sendsTagged(10))
    }

    @Test func pathOverrides() throws {
        let ports = try SwitchConfig.ports(plain: ["a", "b"], access: [], trunk: [], native: [], redirect: ["a"], xsk: ["b"])
        #expect(ports.map(\.path) == [.redirect, .xsk])
        #expect(throws: UserError.self) {
            try SwitchConfig.ports(plain: ["a"], access: [], trunk: [], native: [], redirect: ["zz"])
        }
    }

    @Test(arguments: [
        (["tap1"], [String](), [String](), "expected IF=VID"),
        (["tap1=0"], [], [], "not a VLAN ID (1-4094)"),
        (["tap1=4095"], [], [], "not a VLAN ID (1-4094)"),
        (["tap1=10,20"], [], [], "an access port has one VID"),
        ([], ["eth1=10,x"], [], "\"x\" is not a VLAN ID"),
        ([], [], ["tap1=5"], "tap1 is not a trunk"),
    ])
    func badWordsSayWhatIsWrong(access: [String], trunk: [String], native: [String], message: String) {
        do {
            _ = try SwitchConfig.ports(plain: [], access: access, trunk: trunk, native: native)
            Issue.record("accepted \(access) \(trunk) \(native)")
        } catch let error as UserError {
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func validation() throws {
        #expect(throws: UserError.self) { try SwitchConfig(name: "sw", ports: []).validate() }
        #expect(throws: UserError.self) { try SwitchConfig(name: "a/b", ports: [SwitchPortSpec(name: "x")]).validate() }
        #expect(throws: UserError.self) { try SwitchConfig(name: "..", ports: [SwitchPortSpec(name: "x")]).validate() }
        #expect(throws: UserError.self) {
            try SwitchConfig(name: "sw", ports: [SwitchPortSpec(name: "x"), SwitchPortSpec(name: "x", vlans: [5])]).validate()
        }
        #expect(throws: UserError.self) { try SwitchConfig(name: "sw", ports: [SwitchPortSpec(name: "x")], fdbMax: 0).validate() }
        try SwitchConfig(name: "sw-1.a_b", ports: [], portGlobs: ["tap*"]).validate()
    }
}

@Suite struct VLANRulesTests {
    let access10 = SwitchPortSpec(name: "a", mode: .access, vlans: [10])
    let trunk = SwitchPortSpec(name: "t", mode: .trunk, vlans: [10, 20])
    let trunkNative = SwitchPortSpec(name: "n", mode: .trunk, vlans: [10, 20], native: 20)

    @Test func ingressAssignsTheVLAN() {
        #expect(VLANRules.ingress(on: access10, tag: nil) == .vlan(10, tagged: false))
        #expect(VLANRules.ingress(on: access10, tag: 0) == .vlan(10, tagged: false))  // priority tag
        #expect(VLANRules.ingress(on: access10, tag: 10) == .drop(.vlanNotAllowed))  // tagged on access
        #expect(VLANRules.ingress(on: trunk, tag: 20) == .vlan(20, tagged: true))
        #expect(VLANRules.ingress(on: trunk, tag: 30) == .drop(.vlanNotAllowed))
        #expect(VLANRules.ingress(on: trunk, tag: nil) == .drop(.vlanNotAllowed))  // no native
        #expect(VLANRules.ingress(on: trunkNative, tag: nil) == .vlan(20, tagged: false))
    }

    @Test func egressTagsAndUntags() {
        #expect(VLANRules.egress(on: access10, vid: 10, frameTagged: false) == .keep)
        #expect(VLANRules.egress(on: access10, vid: 10, frameTagged: true) == .pop)
        #expect(VLANRules.egress(on: access10, vid: 20, frameTagged: false) == nil)
        #expect(VLANRules.egress(on: trunk, vid: 10, frameTagged: false) == .push)
        #expect(VLANRules.egress(on: trunk, vid: 10, frameTagged: true) == .keep)
        #expect(VLANRules.egress(on: trunkNative, vid: 20, frameTagged: true) == .pop)
        #expect(VLANRules.egress(on: trunkNative, vid: 10, frameTagged: false) == .push)
    }

    @Test func floodSetsStayInTheVLANAndSkipTheIngress() {
        let ports = [access10, SwitchPortSpec(name: "b", vlans: [10]), SwitchPortSpec(name: "c", vlans: [20]), trunk]
        #expect(VLANRules.floodSet(ports, vid: 10, ingress: 0) == [1, 3])
        #expect(VLANRules.floodSet(ports, vid: 20, ingress: 3) == [2])
        #expect(VLANRules.floodSet(ports, vid: 30, ingress: 0) == [])
        #expect(VLANRules.floodSet(ports, vid: 20, ingress: 2) == [3])
    }
}

@Suite struct FDBPolicyTests {
    let mac: [UInt8] = [0x02, 0, 0, 0, 0, 0x0a]

    @Test func agingIsLazyAndInclusive() {
        let policy = FDBPolicy(agingSeconds: 300)
        let entry = FDBEntry(mac: mac, vlan: 1, ifindex: 3, lastSeen: 1000)
        #expect(policy.age(of: entry, now: 1010) == 10)
        #expect(!policy.isExpired(entry, now: 1300))
        #expect(policy.isExpired(entry, now: 1301))
        #expect(policy.age(of: entry, now: 900) == 0)  // a clock read before the entry's
    }

    @Test func staticEntriesNeverExpire() {
        let policy = FDBPolicy(agingSeconds: 1)
        let entry = FDBEntry(mac: mac, vlan: 1, ifindex: 3, lastSeen: 0, isStatic: true)
        #expect(!policy.isExpired(entry, now: 1_000_000))
    }

    @Test func sweepAndDisplayOrder() {
        let policy = FDBPolicy(agingSeconds: 5)
        let old = FDBEntry(mac: mac, vlan: 1, ifindex: 3, lastSeen: 0)
        let a = FDBEntry(mac: [2, 0, 0, 0, 0, 2], vlan: 20, ifindex: 4, lastSeen: 8)
        let b = FDBEntry(mac: [2, 0, 0, 0, 0, 1], vlan: 20, ifindex: 4, lastSeen: 9)
        let c = FDBEntry(mac: [2, 0, 0, 0, 0, 9], vlan: 10, ifindex: 4, lastSeen: 9)
        #expect(policy.expired([old, a, b, c], now: 10) == [old])
        #expect(policy.live([old, a, b, c], now: 10) == [c, b, a])
        #expect(a.macText == "02:00:00:00:00:02")
    }

    @Test func dropReasonNamesAreTheContractsOnes() {
        #expect(SwitchDropReason.allCases.map(\.name) == [
            "VLAN_NOT_ALLOWED", "FDB_FULL", "MTU_EXCEEDED", "PORT_DOWN", "XSK_RX_RING_FULL", "XSK_TX_RING_FULL",
            "NO_PORT", "HAIRPIN", "FRAME_TOO_BIG", "REDIRECT_FAILED",
        ])
    }

    @Test func cpuListsAndTheHostPortAreChecked() throws {
        #expect(try SwitchConfig.cpuList("0,2-3") == [0, 2, 3])
        #expect(try SwitchConfig.cpuList("1") == [1])
        #expect(throws: UserError.self) { try SwitchConfig.cpuList("3-1") }
        #expect(throws: UserError.self) { try SwitchConfig.cpuList("a") }
        var config = SwitchConfig(name: "sw", ports: [SwitchPortSpec(name: "p1")])
        config.cpus = [0, 0]
        #expect(throws: UserError.self) { try config.validate() }
        config.cpus = [0, 1]
        config.hostPort = "hostport12345"  // 13: NAME-sw would not fit IFNAMSIZ
        #expect(throws: UserError.self) { try config.validate() }
        config.hostPort = "hp0"
        try config.validate()
        #expect(config.allPorts.map(\.name) == ["p1", "hp0-sw"])
        #expect(config.allPorts.last?.path == .redirect)
        config.ports.append(SwitchPortSpec(name: "hp0-sw"))
        #expect(throws: UserError.self) { try config.validate() }
        // A switch of only a host port is a switch too (VMs join by --port-glob later).
        let alone = SwitchConfig(name: "sw", ports: [])
        var withHost = alone
        withHost.hostPort = "hp0"
        #expect(throws: UserError.self) { try alone.validate() }
        try withHost.validate()
    }
}

@Suite struct StaticFDBEntryTests {
    @Test func parsesPortMACAndVLAN() throws {
        #expect(try StaticFDBEntry.parse("tap1=52:54:00:AB:cd:01") == StaticFDBEntry(port: "tap1", mac: [0x52, 0x54, 0, 0xab, 0xcd, 1]))
        #expect(try StaticFDBEntry.parse("eth1=02:00:00:00:00:05@200").vlan == 200)
    }

    @Test(arguments: ["tap1", "tap1=52:54:00:ab:cd", "tap1=01:00:5e:00:00:01", "tap1=52:54:00:ab:cd:zz", "tap1=52:54:00:ab:cd:01@0"])
    func refusesBadWords(word: String) {
        #expect(throws: UserError.self) { try StaticFDBEntry.parse(word) }
    }

    @Test func mustNameAPortAndAVLANItCarries() throws {
        var config = SwitchConfig(name: "sw", ports: [SwitchPortSpec(name: "t", mode: .trunk, vlans: [10])])
        config.staticEntries = [try StaticFDBEntry.parse("t=02:00:00:00:00:01")]
        #expect(throws: UserError.self) { try config.validate() }  // a trunk without native: give @VID
        config.staticEntries = [try StaticFDBEntry.parse("t=02:00:00:00:00:01@10")]
        try config.validate()
        config.staticEntries = [try StaticFDBEntry.parse("x=02:00:00:00:00:01@10")]
        #expect(throws: UserError.self) { try config.validate() }
    }
}
