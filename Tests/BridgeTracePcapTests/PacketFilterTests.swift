import BridgeTraceCore
import Testing

@testable import BridgeTracePcap

@Suite struct PacketFilterTests {
    typealias F = TestFrames

    @Test func arpOrPingsOfOneHost() throws {
        let filter = try PacketFilter(expression: "arp or (icmp and host 10.0.0.5)")
        let arp = F.arpRequest()
        let pingFromVM = F.ping(from: F.vm, to: F.gateway, seq: 1)
        let pingToVM = F.ping(from: F.gateway, to: F.vm, seq: 1)
        let pingElsewhere = F.ping(from: [10, 0, 0, 7], to: F.gateway, seq: 1)
        let tcpFromVM = F.ethernet(dst: F.macB, src: F.macA, type: 0x0800,
                                   payload: F.ipv4(src: F.vm, dst: F.gateway, proto: 6, payload: F.tcp(srcPort: 40000, dstPort: 22)))
        #expect(filter.matches(arp, wireLength: arp.count))
        #expect(filter.matches(pingFromVM, wireLength: pingFromVM.count))
        #expect(filter.matches(pingToVM, wireLength: pingToVM.count))
        #expect(!filter.matches(pingElsewhere, wireLength: pingElsewhere.count))
        #expect(!filter.matches(tcpFromVM, wireLength: tcpFromVM.count))
        // A tag moves the EtherType: plain `arp` does not look behind it.
        let taggedARP = F.arpRequest(tags: [.init(vid: 100)])
        #expect(!filter.matches(taggedARP, wireLength: taggedARP.count))
    }

    @Test func vlanAndARP() throws {
        let filter = try PacketFilter(expression: "vlan 100 and arp")
        for (tags, expected) in [([F.Tag(vid: 100)], true), ([F.Tag(tpid: 0x88A8, vid: 100)], true),
                                 ([F.Tag(vid: 200)], false), ([], false)] {
            let frame = F.arpRequest(tags: tags)
            #expect(filter.matches(frame, wireLength: frame.count) == expected, "tags \(tags)")
        }
        let taggedPing = F.ping(from: F.vm, to: F.gateway, seq: 1, tags: [.init(vid: 100)])
        #expect(!filter.matches(taggedPing, wireLength: taggedPing.count))
    }

    @Test func lengthsUseTheWireLength() throws {
        let filter = try PacketFilter(expression: "greater 1000")
        let ping = F.ping(from: F.vm, to: F.gateway, seq: 1) // 66 bytes captured
        #expect(filter.matches(ping, wireLength: 1514))
        #expect(!filter.matches(ping, wireLength: ping.count))
    }

    @Test func loadsPastTheCapturedBytesReject() throws {
        let filter = try PacketFilter(expression: "icmp[0] = 8")
        let ping = F.ping(from: F.vm, to: F.gateway, seq: 1)
        #expect(filter.matches(ping, wireLength: ping.count))
        #expect(!filter.matches(Array(ping.prefix(34)), wireLength: ping.count))
        #expect(!filter.matches([], wireLength: 0))
    }

    @Test func emptyExpressionMatchesEverything() throws {
        let filter = try PacketFilter(expression: "")
        #expect(filter.matches(F.arpRequest(), wireLength: 42))
        #expect(filter.matches([], wireLength: 0))
    }

    @Test func syntaxErrorsCarryLibpcapsMessage() {
        #expect {
            _ = try PacketFilter(expression: "arp and and")
        } throws: { error in
            guard let error = error as? FilterSyntaxError else { return false }
            return error.expression == "arp and and" && error.libpcapMessage.contains("syntax error")
                && error.description == "invalid filter \"arp and and\": \(error.libpcapMessage)"
        }
        #expect {
            _ = try PacketFilter(expression: "vlan 5000")
        } throws: { error in
            "\(error)" == "invalid filter \"vlan 5000\": VLAN tag 5000 greater than maximum 4095"
        }
    }
}
