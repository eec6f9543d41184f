import CBridgeTraceABI
import Foundation
import Testing

@testable import BridgeTraceCore

@Suite struct TracePrefilterTests {
    typealias K = TracePrefilter.Kind
    static let vm: [UInt8] = [10, 0, 0, 5]
    /// A kernel that walks 0x9100 tags too, as libpcap's `vlan` does.
    static let allTags = TracePrefilter.libpcapTagTPIDs

    struct Case: CustomTestStringConvertible, Sendable {
        var expression: String
        var expected: TracePrefilter
        var tags: Set<UInt16> = TracePrefilter.kernelTagTPIDs
        var testDescription: String { "\(expression.isEmpty ? "(empty)" : expression) [\(tags.count) TPIDs]" }
    }

    static let cases: [Case] = [
        Case(expression: "", expected: .none),
        Case(expression: "arp", expected: TracePrefilter(kinds: [.arp])),
        Case(expression: "arp or icmp", expected: TracePrefilter(kinds: [.arp, .icmp, .other])),
        Case(expression: "icmp and host 10.0.0.5", expected: TracePrefilter(kinds: [.icmp, .other], hostIPv4: vm)),
        Case(expression: "arp or (icmp and host 10.0.0.5)", expected: TracePrefilter(kinds: [.arp, .icmp, .other])),
        Case(expression: "not arp", expected: .none),
        Case(expression: "! arp && icmp", expected: TracePrefilter(kinds: [.icmp, .other])),
        // A kernel that walks fewer tag TPIDs than libpcap must get no VLAN pre-filter.
        Case(expression: "vlan 100 and arp", expected: .none, tags: [0x8100, 0x88A8]),
        Case(expression: "vlan 100 and arp", expected: TracePrefilter(kinds: [.arp], vlanID: 100), tags: allTags),
        Case(expression: "vlan 0x64 and (arp or icmp)", expected: TracePrefilter(kinds: [.arp, .icmp, .vlan], vlanID: 100), tags: allTags),
        Case(expression: "vlan 0144", expected: TracePrefilter(kinds: K.tagged, vlanID: 100), tags: allTags),
        Case(expression: "vlan and icmp", expected: TracePrefilter(kinds: [.icmp, .vlan]), tags: allTags),
        Case(expression: "vlan 100 and vlan 200 and icmp", expected: TracePrefilter(kinds: [.icmp, .vlan], vlanID: 100), tags: allTags),
        Case(expression: "vlan and vlan and vlan and arp", expected: TracePrefilter(kinds: K.tagged), tags: allTags),
        // libpcap checks `icmp` behind the tag even for untagged frames: no kinds from it.
        Case(expression: "vlan 100 or icmp", expected: .none, tags: allTags),
        Case(expression: "not vlan and icmp", expected: .none, tags: allTags),
        Case(expression: "ether host 52:54:00:12:34:56 and vlan", expected: TracePrefilter(kinds: K.tagged, mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56]), tags: allTags),
        Case(expression: "foo bar baz(", expected: .none),
        Case(expression: "host 10.0.0.5", expected: TracePrefilter(kinds: [.arp, .icmp, .dhcp, .other])),
        Case(expression: "ip host 10.0.0.5", expected: TracePrefilter(kinds: [.icmp, .dhcp, .other], hostIPv4: vm)),
        Case(expression: "src or dst host 10.0.0.5 and icmp", expected: TracePrefilter(kinds: [.icmp, .other], hostIPv4: vm)),
        Case(expression: "dst host 10.0.0.5 and ip", expected: TracePrefilter(kinds: [.icmp, .dhcp, .other], hostIPv4: vm)),
        Case(expression: "arp host 10.0.0.5", expected: TracePrefilter(kinds: [.arp])),
        // ARP frames are never IPv4: the host of the other side survives, and `ip` proves IPv4.
        Case(expression: "(arp or dst host 10.0.0.1) and ip", expected: TracePrefilter(kinds: [.icmp, .dhcp, .other], hostIPv4: [10, 0, 0, 1])),
        Case(expression: "(arp or icmp6 or ip host 10.0.0.1) and icmp", expected: TracePrefilter(kinds: [.icmp, .other], hostIPv4: [10, 0, 0, 1])),
        Case(expression: "host 0.0.0.0 and udp", expected: TracePrefilter(kinds: [.dhcp, .other])),
        Case(expression: "host 10.0.0 and icmp", expected: TracePrefilter(kinds: [.icmp, .other])),
        Case(expression: "ether host 52:54:00:12:34:56", expected: TracePrefilter(mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56])),
        Case(expression: "ether src 0102.0304.0506 and arp", expected: TracePrefilter(kinds: [.arp], mac: [1, 2, 3, 4, 5, 6])),
        Case(expression: "ether dst 1-2-3-4-5-6 or ether src 01:02:03:04:05:06", expected: TracePrefilter(mac: [1, 2, 3, 4, 5, 6])),
        Case(expression: "ether host 1:2:3:4:5:6 or ether host 1:2:3:4:5:7", expected: .none),
        Case(expression: "tcp port 22", expected: TracePrefilter(kinds: [.other])),
        Case(expression: "udp port 67", expected: TracePrefilter(kinds: [.dhcp, .other])),
        Case(expression: "port 67 or port 68", expected: TracePrefilter(kinds: [.dhcp, .other])),
        Case(expression: "icmp6", expected: TracePrefilter(kinds: [.icmp6, .other])),
        Case(expression: "ip6 host fe80::1", expected: TracePrefilter(kinds: [.icmp6, .other])),
        Case(expression: "arp and icmp", expected: TracePrefilter(kinds: [])),
        // Same precedence for and/or, left to right: (arp or icmp) and host.
        Case(expression: "arp or icmp and host 10.0.0.5", expected: TracePrefilter(kinds: [.arp, .icmp, .other])),
        Case(expression: "icmp || ip && host 10.0.0.5", expected: TracePrefilter(kinds: [.icmp, .dhcp, .other], hostIPv4: vm)),
        Case(expression: "icmp[0] = 8 and host 10.0.0.5 and ip", expected: TracePrefilter(kinds: [.icmp, .dhcp, .other], hostIPv4: vm)),
        Case(expression: "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 or arp", expected: .none),
        Case(expression: "(len - 14) > 100 and arp", expected: .none),
        Case(expression: "mpls and arp", expected: .none),
        Case(expression: "host 10.0.0.5 or 10.0.0.6", expected: .none),
        Case(expression: "ARP", expected: .none),
    ]

    @Test(arguments: cases) func derives(_ c: Case) {
        let derived = TracePrefilter.derive(from: c.expression, kernelTagTPIDs: c.tags)
        #expect(derived == c.expected, "\(c.expression): got \(derived), expected \(c.expected)")
    }

    @Test func appliesToTheKernelConfig() {
        let all = TraceConfiguration.everyFrame.kindsMask | 1 << BT_KIND_DROP.rawValue
        var config = bt_trace_config()
        config.events = 1
        config.snaplen = 128
        let prefilter = TracePrefilter(kinds: [.icmp, .other], hostIPv4: [10, 0, 0, 5],
                                       mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56], vlanID: 100)
        prefilter.apply(to: &config, defaultKinds: all)
        #expect(config.events == 1 && config.snaplen == 128)
        #expect(config.kinds == 1 << BT_KIND_ICMP.rawValue | 1 << BT_KIND_OTHER.rawValue | 1 << BT_KIND_DROP.rawValue)
        #expect(withUnsafeBytes(of: config.host_ip) { Array($0) } == [10, 0, 0, 5]) // network order in memory
        #expect(withUnsafeBytes(of: config.mac) { Array($0) } == [0x52, 0x54, 0, 0x12, 0x34, 0x56])
        #expect(config.mac_set == 1 && config.vlan_set == 1 && config.vlan_id == 100)

        TracePrefilter.none.apply(to: &config, defaultKinds: all)
        #expect(config.kinds == all && config.host_ip == 0 && config.mac_set == 0 && config.vlan_set == 0)
    }

    @Test func kindsStayWithinTheDefaultAndKeepDrops() {
        let drop: UInt32 = 1 << BT_KIND_DROP.rawValue
        let defaults = TraceConfiguration.outage.kindsMask | drop // no "other"
        #expect(TracePrefilter(kinds: [.icmp, .other]).kindsMask(defaultKinds: defaults) == K.icmp.abiBit | drop)
        #expect(TracePrefilter(kinds: [.other]).kindsMask(defaultKinds: defaults) == drop)
        #expect(TracePrefilter(kinds: [.arp]).kindsMask(defaultKinds: TraceConfiguration.outage.kindsMask) == K.arp.abiBit)
        #expect(TracePrefilter.none.kindsMask(defaultKinds: defaults) == defaults)
    }

    @Test func kindBitsAreTheABIs() {
        #expect(K.allCases.map(\.abiBit) == [BT_KIND_ARP, BT_KIND_ICMP, BT_KIND_ICMP6, BT_KIND_DHCP, BT_KIND_VLAN, BT_KIND_OTHER].map { 1 << $0.rawValue })
    }

    @Test func describesItself() {
        #expect(TracePrefilter.none.description == "none")
        #expect(TracePrefilter(kinds: [.other, .arp], hostIPv4: [10, 0, 0, 5], mac: [1, 2, 3, 4, 5, 0xab], vlanID: 7).description
            == "kinds arp,other host 10.0.0.5 mac 01:02:03:04:05:ab vlan 7")
    }

    /// `kernelTagTPIDs` must say what bt_classify really walks: with 0x9100 missing there,
    /// a `vlan` prefilter would drop 0x9100 frames that libpcap matches.
    @Test func tagTPIDsMatchTheKernelClassifier() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: root.appendingPathComponent("bpf/classify.bpf.h"), encoding: .utf8)
        #expect(source.contains("bpf_htons(ETH_P_8021Q)") && source.contains("bpf_htons(ETH_P_8021AD)"))
        let walks9100 = source.contains("0x9100") || source.contains("ETH_P_QINQ1")
        #expect(walks9100 == TracePrefilter.kernelTagTPIDs.contains(0x9100),
                "bpf/classify.bpf.h and TracePrefilter.kernelTagTPIDs disagree about 0x9100 tags")
    }
}

@Suite struct PcapFilterSyntaxTests {
    @Test func tokenizes() {
        typealias T = PcapFilterSyntax.Token
        #expect(PcapFilterSyntax.tokenize("!arp&&(icmp||ip[2:2]!=0)") ==
            [T.not, .word("arp"), .and, .open, .word("icmp"), .or, .word("ip"), .symbol("["), .word("2:2"),
             .symbol("]"), .symbol("!="), .word("0"), .close])
    }

    @Test func recordsHowManyVlanKeywordsPrecede() {
        let tree = PcapFilterSyntax.parse("vlan 100 and (arp or vlan) and icmp")
        #expect(tree == .and(.and(.vlan(id: 100, depth: 0), .or(.primitive(.proto(.arp), depth: 1), .vlan(id: nil, depth: 1))),
                             .primitive(.proto(.icmp), depth: 2)))
    }

    @Test func readsAddressesAsLibpcapDoes() {
        #expect(PcapFilterSyntax.ipv4Address("010.0.0.1") == [10, 0, 0, 1])
        #expect(PcapFilterSyntax.ipv4Address("10.0.0") == nil)
        #expect(PcapFilterSyntax.ipv4Address("10.0.0.256") == nil)
        #expect(PcapFilterSyntax.macAddress("52:54:0:12:34:56") == [0x52, 0x54, 0, 0x12, 0x34, 0x56])
        #expect(PcapFilterSyntax.macAddress("525400123456") == [0x52, 0x54, 0, 0x12, 0x34, 0x56])
        #expect(PcapFilterSyntax.macAddress("5254.0012.3456") == [0x52, 0x54, 0, 0x12, 0x34, 0x56])
        #expect(PcapFilterSyntax.macAddress("52:54:00:12:34") == nil)
        #expect(PcapFilterSyntax.number("0x64") == 100 && PcapFilterSyntax.number("0144") == 100 && PcapFilterSyntax.number("100") == 100)
        #expect(PcapFilterSyntax.number("09") == nil)
    }
}
