import Foundation
import Testing

@testable import BridgeTraceCore

@Suite struct TraceJSONTests {
    @Test func contractKeysComeFirstInOrder() {
        let line = TraceClock.json(TraceClock.event(Fixture.arpRequestTagged))
        #expect(line.hasPrefix(#"{"time_ns": 1795262401123456789, "port": "tap-vm1", "ifindex": 7, "dir": "rx", "kind": "arp", "len": 60, "src_mac": "52:54:00:12:34:56", "dst_mac": "ff:ff:ff:ff:ff:ff", "vlan": [100], "arp": {"op": "request", "sender_ip": "10.0.0.50", "target_ip": "10.0.0.1", "sender_mac": "52:54:00:12:34:56", "target_mac": "00:00:00:00:00:00"}, "src_ip": null, "dst_ip": null, "icmp": null, "mono_ns": 5000000000"#))
        #expect(line.hasSuffix(#""truncated": false}"#))
    }

    @Test func icmpEcho() throws {
        let event = TraceClock.event(Fixture.echoRequestTagged, port: "vm1", direction: .tx, ifindex: 12)
        let line = TraceClock.json(event)
        #expect(line.hasPrefix(#"{"time_ns": 1795262401123456789, "port": "vm1", "ifindex": 12, "dir": "tx", "kind": "icmp", "len": 102, "src_mac": "52:54:00:12:34:56", "dst_mac": "52:54:00:00:00:fe", "vlan": [42], "arp": null, "src_ip": "198.18.0.11", "dst_ip": "198.18.0.12", "icmp": {"type": 0, "code": 0, "id": 7, "seq": 4}, "#))
        let object = try TraceClock.jsonObject(event)
        #expect(object["ethertype"] as? String == "0x0800")
        #expect(object["ip_proto"] as? Int == 1)
        #expect(object["ttl"] as? Int == 64)
        #expect(object["caplen"] as? Int == 102)
        let tags = object["vlan_tags"] as! [[String: Any]]
        #expect(tags.count == 1)
        #expect(tags[0]["tpid"] as? String == "0x8100")
        #expect(tags[0]["vid"] as? Int == 42)
        #expect(tags[0]["pcp"] as? Int == 5)
        #expect(tags[0]["dei"] as? Bool == true)
        #expect(object["src_port"] is NSNull)
        #expect(object["dhcp"] is NSNull)
        #expect(object["fragment"] is NSNull)
    }

    @Test func icmpWithoutEchoHasNullIdAndSeq() throws {
        let object = try TraceClock.jsonObject(TraceClock.event(Fixture.portUnreachable))
        let icmp = object["icmp"] as! [String: Any]
        #expect(icmp["type"] as? Int == 3)
        #expect(icmp["code"] as? Int == 3)
        #expect(icmp["id"] is NSNull)
        #expect(icmp["seq"] is NSNull)
        #expect(icmp["orig_dst"] as? String == "198.18.0.1")
        #expect(icmp["orig_proto"] as? Int == 17)
        #expect(icmp["orig_dst_port"] as? Int == 53)
        #expect(TraceClock.json(TraceClock.event(Fixture.portUnreachable)).contains(
            #""icmp": {"type": 3, "code": 3, "id": null, "seq": null, "orig_src": "198.18.0.11", "orig_dst": "198.18.0.1""#))
    }

    @Test func qinq() throws {
        let object = try TraceClock.jsonObject(TraceClock.event(Fixture.qinqARP))
        #expect(object["vlan"] as? [Int] == [300, 100])
        #expect((object["vlan_tags"] as! [[String: Any]]).map { $0["tpid"] as! String } == ["0x88a8", "0x8100"])
        #expect(object["ethertype"] as? String == "0x0806")
    }

    @Test func dhcp() throws {
        let event = TraceClock.event(Fixture.dhcpDiscover)
        let object = try TraceClock.jsonObject(event)
        #expect(object["kind"] as? String == "dhcp")
        #expect(object["src_ip"] as? String == "0.0.0.0")
        #expect(object["dst_ip"] as? String == "255.255.255.255")
        #expect(object["src_port"] as? Int == 68)
        #expect(object["dst_port"] as? Int == 67)
        #expect(object["ip_proto"] as? Int == 17)
        let dhcp = object["dhcp"] as! [String: Any]
        #expect(dhcp["message_type"] as? String == "discover")
        #expect(dhcp["xid"] as? String == "0x1234abcd")
        #expect(dhcp["client_mac"] as? String == "52:54:00:12:34:56")
        #expect(dhcp["op"] as? String == "BOOTREQUEST")
        #expect(dhcp["requested_ip"] as? String == "198.18.0.50")
        #expect(dhcp["your_ip"] is NSNull)
        #expect(TraceClock.json(event).contains(#""dhcp": {"message_type": "discover", "xid": "0x1234abcd", "client_mac": "52:54:00:12:34:56", "op": "BOOTREQUEST""#))

        let snapped = try TraceClock.jsonObject(TraceClock.event(Array(Fixture.dhcpDiscover.prefix(128)), length: 300))
        #expect((snapped["dhcp"] as! [String: Any])["message_type"] is NSNull)
        #expect(snapped["truncated"] as? Bool == true)
        #expect(snapped["len"] as? Int == 300)
        #expect(snapped["caplen"] as? Int == 128)
    }

    @Test func icmp6AndFragments() throws {
        let icmp6 = try TraceClock.jsonObject(TraceClock.event(Fixture.icmp6Echo))
        #expect(icmp6["kind"] as? String == "icmp6")
        #expect(icmp6["src_ip"] as? String == "fe80::1")
        #expect(icmp6["ethertype"] as? String == "0x86dd")
        let icmp = icmp6["icmp"] as! [String: Any]
        #expect(icmp["type"] as? Int == 128 && icmp["id"] as? Int == 7 && icmp["seq"] as? Int == 3)

        let ns = try TraceClock.jsonObject(TraceClock.event(Fixture.neighborSolicitation))
        #expect((ns["icmp"] as! [String: Any])["target"] as? String == "fe80::2")

        let fragment = try TraceClock.jsonObject(TraceClock.event(Fixture.icmpFragment))
        #expect(fragment["kind"] as? String == "other")
        #expect(fragment["icmp"] is NSNull)
        #expect(fragment["ip_proto"] as? Int == 1)
        let info = fragment["fragment"] as! [String: Any]
        #expect(info["id"] as? Int == 4660 && info["offset"] as? Int == 1480 && info["more"] as? Bool == false)
    }

    @Test func runtHasNullsNotMissingKeys() throws {
        let line = TraceClock.json(TraceClock.event([0x52, 0x54], port: "eth0", direction: .tx, ifindex: 2))
        #expect(line.hasPrefix(#"{"time_ns": 1795262401123456789, "port": "eth0", "ifindex": 2, "dir": "tx", "kind": "other", "len": 2, "src_mac": null, "dst_mac": null, "vlan": [], "arp": null, "src_ip": null, "dst_ip": null, "icmp": null, "mono_ns": 5000000000, "caplen": 2, "ethertype": null, "vlan_tags": [], "ip_proto": null, "ttl": null, "fragment": null, "src_port": null, "dst_port": null, "tcp_flags": null, "dhcp": null, "truncated": true}"#))
    }

    @Test func tcpFlags() throws {
        let object = try TraceClock.jsonObject(TraceClock.event(Fixture.tcpSynAck))
        #expect(object["tcp_flags"] as? String == "S.")
        #expect(object["src_port"] as? Int == 80)
    }

    @Test func portNamesAreEscaped() throws {
        let event = TraceClock.event(Fixture.arpReply, port: "we\"ird\\\n\u{1}ü")
        let object = try TraceClock.jsonObject(event)
        #expect(object["port"] as? String == "we\"ird\\\n\u{1}ü")
        #expect(TraceClock.json(event).contains(#""port": "we\"ird\\\n\u0001ü""#))
    }

    @Test func directWriterMatchesJSONValueTree() {
        for (name, bytes) in Fixture.all {
            for length in [bytes.count, 0, 14, 17, 30, 60] where length <= bytes.count {
                let event = TraceClock.event(Array(bytes.prefix(length)), length: bytes.count)
                let tree = TraceJSON.value(event, wallClockOffsetNs: TraceClock.offsetNs).rendered()
                #expect(TraceClock.json(event) == tree, "\(name) cut at \(length)")
            }
        }
    }

    @Test func appendingToABufferAddsOneLine() {
        var buffer = Array("previous\n".utf8)
        let event = TraceClock.event(Fixture.echoRequest)
        TraceJSON.append(event, wallClockOffsetNs: TraceClock.offsetNs, to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "previous\n" + TraceClock.json(event))
    }
}
