import Testing

@testable import BridgeTraceCore

@Suite struct JourneyTrackerTests {
    typealias R = Recording
    let vm1 = R.vm1, vm2 = R.vm2, gw = R.gateway

    func journeys(_ r: Recording, localMACs: Set<MACAddress> = []) -> [Journey] {
        JourneyTracker.journeys(events: r.events, drops: r.drops,
                                configuration: .init(localMACs: localMACs))
    }

    @Test func deliveredWithHopLatencies() throws {
        var r = R()
        let request = R.echo(vm1, gw, seq: 3)
        r.see(request, "vm1", .rx, at: 1)
        r.see(request, "uplink", .tx, at: 1 + 12.3e-6)
        let all = journeys(r)
        #expect(all.count == 1)
        let journey = try #require(all.first)
        #expect(journey.outcome == .delivered)
        #expect(journey.ingress?.port == "vm1")
        #expect(journey.egress.map(\.port) == ["uplink"])
        #expect(journey.egress.first?.latencyNs == 12_300)
        #expect(JourneyText.body(journey)
            == "ICMP echo request 198.18.0.11 > 198.18.0.1 id 7 seq 3: vm1 rx -> uplink tx (+12.3us) delivered")
    }

    @Test func floodedToSeveralPorts() throws {
        var r = R()
        r.forward(R.arpRequest(vm1, for: gw.ip), from: "vm1", to: ["uplink", "vm2", "vm3"], at: 1)
        let journey = try #require(journeys(r).first)
        #expect(journeys(r).count == 1)
        #expect(journey.egress.map(\.port) == ["uplink", "vm2", "vm3"])
        #expect(JourneyText.body(journey) == "ARP who-has 198.18.0.1 tell 198.18.0.11: vm1 rx -> uplink tx (+10.0us), "
            + "vm2 tx (+20.0us), vm3 tx (+30.0us) delivered")
    }

    @Test func droppedMatchedToADropRecordByFingerprint() throws {
        var r = R()
        let request = R.echo(vm1, gw, seq: 3)
        r.see(request, "vm1", .rx, at: 1)
        r.drop(request, at: "uplink", reason: "NETFILTER_DROP", location: "nft_do_chain", seconds: 1 + 20.1e-6)
        let all = journeys(r)
        #expect(all.count == 1)
        let journey = try #require(all.first)
        #expect(journey.outcome == .dropped)
        #expect(journey.drops.map(\.port) == ["uplink"])
        #expect(JourneyText.path(journey) == "vm1 rx -> dropped at uplink: NETFILTER_DROP in nft_do_chain (+20.1us)")
    }

    @Test func dropWithoutBytesMatchesByTimeAndLength() throws {
        var r = R()
        r.see(R.echo(vm1, gw, seq: 1), "vm1", .rx, at: 1)
        r.see(R.arpRequest(vm2, for: gw.ip), "vm2", .rx, at: 1 + 1e-6)
        r.drop(R.echo(vm1, gw, seq: 1), at: "uplink", reason: "NETFILTER_DROP", location: "nft_do_chain", seconds: 1 + 2e-5,
               length: 84, keepBytes: false)
        let all = journeys(r)
        #expect(all.count == 2)
        #expect(all.first { $0.decoded.icmp != nil }?.outcome == .dropped)
        #expect(all.first { $0.decoded.arp != nil }?.outcome == .vanished)
    }

    @Test func vanishedWhenItLeavesNoPort() throws {
        var r = R(ports: ["vm1", "vm2"])
        r.see(R.arpRequest(vm1, for: vm2.ip), "vm1", .rx, at: 1)
        let journey = try #require(journeys(r).first)
        #expect(journey.outcome == .vanished)
        #expect(JourneyText.path(journey) == "vm1 rx -> vanished (left no port, no drop event)")
    }

    @Test func vlanTagsAndTTLDoNotSplitAJourney() throws {
        var r = R()
        r.see(R.echo(vm1, gw, seq: 1, vlan: 100), "vm1", .rx, at: 1)
        r.see(R.echo(vm1, gw, seq: 1), "uplink", .tx, at: 1 + 5e-6)
        #expect(journeys(r).count == 1)
        #expect(journeys(r).first?.outcome == .delivered)
        #expect(journeys(r).first?.ingress?.vlans == [100])
        // A different sequence number is a different frame.
        var other = R()
        other.see(R.echo(vm1, gw, seq: 1), "vm1", .rx, at: 1)
        other.see(R.echo(vm1, gw, seq: 2), "uplink", .tx, at: 1 + 5e-6)
        #expect(journeys(other).map(\.outcome) == [.vanished, .unseenIngress])
    }

    @Test func theSameBytesLaterAreANewJourney() {
        var r = R()
        let request = R.arpRequest(vm1, for: gw.ip)
        r.forward(request, from: "vm1", to: ["uplink"], at: 1)
        r.forward(request, from: "vm1", to: ["uplink"], at: 2)
        #expect(journeys(r).map(\.outcome) == [.delivered, .delivered])
    }

    @Test func unseenIngressAndLocalDelivery() {
        var r = R()
        let host = R.Host(mac: [0x02, 0, 0, 0, 0, 0xb0], ip: "198.18.0.254", port: "br0")
        r.see(R.echo(vm1, host, seq: 1), "vm1", .rx, at: 1)
        r.see(R.echo(host, vm1, seq: 1, reply: true), "vm1", .tx, at: 1.0001)
        let all = journeys(r, localMACs: [MACAddress(0x02, 0, 0, 0, 0, 0xb0)])
        #expect(all.map(\.outcome) == [.local, .unseenIngress])
        #expect(JourneyText.path(all[1]).hasPrefix("(not seen entering) -> vm1 tx"))
    }

    @Test func streamingFinishFlushesOnlyPassedWindows() {
        var tracker = JourneyTracker(configuration: .init(windowNs: 100_000_000))
        let request = R.echo(vm1, gw, seq: 1)
        let late = R.echo(vm1, gw, seq: 2)
        func event(_ bytes: [UInt8], _ port: String, _ direction: Direction, _ seconds: Double) -> TraceEvent {
            TraceEvent.make(CapturedFrame(monotonicNs: R.ns(seconds), ifindex: 1, port: port, direction: direction,
                                          length: bytes.count, bytes: bytes))
        }
        tracker.add(event(request, "vm1", .rx, 1))
        tracker.add(event(request, "uplink", .tx, 1.00001))
        tracker.add(event(late, "vm1", .rx, 1.05))
        #expect(tracker.finish(now: R.ns(1.05)).isEmpty)
        let first = tracker.finish(now: R.ns(1.11))
        #expect(first.map(\.outcome) == [.delivered])
        #expect(tracker.openCount == 1)
        tracker.add(DropRecord(monotonicNs: R.ns(1.06), ifindex: 10, port: "uplink", reason: "NETFILTER_DROP",
                               location: "nft_do_chain", length: late.count, bytes: late))
        #expect(tracker.finishAll().map(\.outcome) == [.dropped])
        #expect(tracker.openCount == 0)
    }

    @Test func fingerprintNeedsTheBytesItCovers() {
        let request = R.echo(vm1, gw, seq: 1)
        #expect(JourneyFingerprint.of(request) != nil)
        #expect(JourneyFingerprint.of(Array(request.prefix(14 + 20 + 8))) == JourneyFingerprint.of(request))
        #expect(JourneyFingerprint.of(Array(request.prefix(14 + 20 + 4))) == nil)
        var otherTTL = request
        otherTTL[14 + 8] = 1
        #expect(JourneyFingerprint.of(otherTTL) == JourneyFingerprint.of(request))
    }

    @Test func durations() {
        #expect(JourneyText.duration(850) == "850ns")
        #expect(JourneyText.duration(12_340) == "12.3us")
        #expect(JourneyText.duration(1_250_000) == "1.25ms")
        #expect(JourneyText.duration(2_000_000_000) == "2.0s")
    }

    @Test func lineStartsWithLocalTime() throws {
        var r = R()
        r.see(R.echo(vm1, gw, seq: 3), "vm1", .rx, at: 0)
        let journey = try #require(journeys(r).first)
        let offset = TraceClock.wallNs - Int64(R.baseNs)
        let line = JourneyText.line(journey, wallClockOffsetNs: offset)
        #expect(line.hasPrefix(TraceClock.localPrefix + " ICMP echo request"))
    }
}
