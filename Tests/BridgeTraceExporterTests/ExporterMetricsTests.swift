import BridgeTraceCore
import BridgeTraceExporter
import Testing

/// The exposition made from readings, without a kernel: names, labels, exact values, and
/// series that go away with what they describe.
struct ExporterMetricsTests {
    static func port(_ name: String, ifindex: Int32, rxFrames: [CounterKind: UInt64] = [:], txFrames: [CounterKind: UInt64] = [:],
                     rxVLANs: [UInt16: UInt64] = [:], up: Bool = true, stp: BridgeState.STPState = .forwarding, mtu: UInt32 = 1500) -> PortReading {
        var rx = DirectionCounters(vlanFrames: rxVLANs)
        var tx = DirectionCounters()
        for (kind, value) in rxFrames { rx[kind] = value }
        for (kind, value) in txFrames { tx[kind] = value }
        return PortReading(name: name, counters: PortCounters(port: name, ifindex: ifindex, rx: rx, tx: tx),
                           isUp: up, stpState: stp, mtu: mtu)
    }

    /// Sample lines "name{labels} value" of the exposition, keyed by everything before the value.
    static func samples(_ metrics: ExporterMetrics) -> [String: String] {
        var result: [String: String] = [:]
        for line in metrics.registry.emitToString().split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            result[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return result
    }

    @Test func countersGaugesAndFindingsHaveDesignNamesAndExactValues() {
        let metrics = ExporterMetrics()
        let vm1 = Self.port("vm1", ifindex: 5, rxFrames: [.frames: 7, .bytes: 700, .arpRequest: 3, .icmpEchoRequest: 4, .vlanTagged: 2],
                            txFrames: [.frames: 4, .bytes: 400, .icmpEchoReply: 4], rxVLANs: [100: 2], stp: .blocking, mtu: 9000)
        let finding = Finding(cause: .netfilterDrop, port: "uplink", severity: .error, summary: "s", evidence: ["e"], fix: "f")
        metrics.apply(NamespaceReading(netns: "lab", devices: [
            DeviceReading(name: "br0", ports: [vm1], drops: [DropCount(port: "uplink", ifindex: 6, reason: "NETFILTER_DROP", location: "nft_do_chain", count: 9)],
                          fdbEntries: 3, findings: [finding]),
        ], lostEvents: 2, programs: [ProgramStats(program: "bt_tc_rx", runTimeNs: 1_500_000_000, runCount: 42)]))
        let s = Self.samples(metrics)
        let port = #"netns="lab",bridge="br0",port="vm1",vm="""#
        #expect(s[#"bridgetrace_frames_total{\#(port),direction="rx",kind="arp_request"}"#] == "3")
        #expect(s[#"bridgetrace_frames_total{\#(port),direction="rx",kind="icmp_echo_request"}"#] == "4")
        #expect(s[#"bridgetrace_frames_total{\#(port),direction="tx",kind="icmp_echo_reply"}"#] == "4")
        #expect(s[#"bridgetrace_bytes_total{\#(port),direction="rx"}"#] == "700")
        #expect(s[#"bridgetrace_vlan_frames_total{\#(port),direction="rx",vlan="100"}"#] == "2")
        #expect(s[#"bridgetrace_port_stp_state{\#(port)}"#] == "4.0")
        #expect(s[#"bridgetrace_port_mtu_bytes{\#(port)}"#] == "9000.0")
        #expect(s[#"bridgetrace_port_up{\#(port)}"#] == "1.0")
        #expect(s[#"bridgetrace_fdb_entries{netns="lab",bridge="br0"}"#] == "3.0")
        #expect(s[#"bridgetrace_drops_total{netns="lab",bridge="br0",port="uplink",vm="",reason="NETFILTER_DROP",location="nft_do_chain"}"#] == "9")
        #expect(s[#"bridgetrace_finding{netns="lab",bridge="br0",port="uplink",vm="",cause="netfilter_drop",severity="error"}"#] == "1.0")
        #expect(s[#"bridgetrace_lost_events_total{netns="lab",bridge=""}"#] == "2")
        #expect(s[#"bridgetrace_bpf_program_runs_total{netns="lab",bridge="",program="bt_tc_rx"}"#] == "42")
        #expect(s[#"bridgetrace_bpf_program_run_seconds_total{netns="lab",bridge="",program="bt_tc_rx"}"#] == "1.5")
        // The kinds partition the frames: neither frames, bytes nor vlan_tagged is a kind.
        let kinds = s.keys.filter { $0.hasPrefix("bridgetrace_frames_total{\(port),direction=\"rx\"") }
        #expect(kinds.count == 12)
        #expect(!kinds.contains { $0.contains("kind=\"frames\"") || $0.contains("kind=\"vlan_tagged\"") || $0.contains("kind=\"bytes\"") })
        #expect(!metrics.registry.emitToString().contains(":"), "no MAC or IP address in any label")
    }

    @Test func countersFollowCumulativeReadingsAndRestartAfterAReset() {
        let metrics = ExporterMetrics()
        let key = #"bridgetrace_frames_total{netns="",bridge="br0",port="vm1",vm="",direction="rx",kind="dhcp"}"#
        for (reading, expected) in [(5, "5"), (9, "9"), (9, "9"), (2, "2")] as [(UInt64, String)] {
            metrics.apply(NamespaceReading(netns: "", devices: [
                DeviceReading(name: "br0", ports: [Self.port("vm1", ifindex: 5, rxFrames: [.dhcp: reading])]),
            ]))
            #expect(Self.samples(metrics)[key] == expected)
        }
    }

    @Test func seriesOfVanishedPortsBridgesFindingsAndNamespacesGoAway() {
        let metrics = ExporterMetrics()
        let finding = Finding(cause: .portDown, port: "vm2", severity: .error, summary: "", evidence: [], fix: "")
        metrics.apply(NamespaceReading(netns: "a", devices: [
            DeviceReading(name: "br0", ports: [Self.port("vm1", ifindex: 5), Self.port("vm2", ifindex: 6)], findings: [finding]),
        ]))
        metrics.apply(NamespaceReading(netns: "b", devices: [DeviceReading(name: "br1", ports: [Self.port("p", ifindex: 5)])]))
        let full = metrics.seriesCount
        metrics.apply(NamespaceReading(netns: "a", devices: [DeviceReading(name: "br0", ports: [Self.port("vm1", ifindex: 5)])]))
        var text = metrics.registry.emitToString()
        #expect(!text.contains(#"port="vm2""#))
        #expect(!text.contains("bridgetrace_finding"))
        #expect(text.contains(#"netns="b""#), "another namespace's series stay")
        // A port costs 12 kinds x 2 + bytes x 2 + 3 gauges; the finding was one more.
        #expect(metrics.seriesCount == full - 29 - 1)
        metrics.remove(netns: "a")
        metrics.remove(netns: "b")
        text = metrics.registry.emitToString()
        #expect(!text.contains("netns="), "\(text)")
        #expect(metrics.seriesCount == 0)
    }

    @Test func aVMsPortCarriesItsNameOnEveryPortSeries() {
        let metrics = ExporterMetrics()
        var tap = Self.port("vnet3", ifindex: 9, rxFrames: [.frames: 2, .arpRequest: 2])
        tap.vm = "web-01"
        let finding = Finding(cause: .portDown, port: "vnet3", severity: .error, summary: "", evidence: [], fix: "")
        metrics.apply(NamespaceReading(netns: "", devices: [
            DeviceReading(name: "br0", ports: [tap, Self.port("uplink", ifindex: 2)],
                          drops: [DropCount(port: "vnet3", ifindex: 9, reason: "NETFILTER_DROP", location: "nft_do_chain", count: 1)],
                          findings: [finding]),
        ]))
        let s = Self.samples(metrics)
        let labels = #"netns="",bridge="br0",port="vnet3",vm="web-01""#
        #expect(s[#"bridgetrace_frames_total{\#(labels),direction="rx",kind="arp_request"}"#] == "2")
        #expect(s[#"bridgetrace_port_up{\#(labels)}"#] == "1.0")
        #expect(s[#"bridgetrace_drops_total{\#(labels),reason="NETFILTER_DROP",location="nft_do_chain"}"#] == "1")
        #expect(s[#"bridgetrace_finding{\#(labels),cause="port_down",severity="error"}"#] == "1.0")
        #expect(s[#"bridgetrace_port_up{netns="",bridge="br0",port="uplink",vm=""}"#] == "1.0")
        // One vm value per port: the label adds no series.
        #expect(s.keys.filter { $0.contains("vnet3") }.count == 29 + 1 + 1)
    }

    @Test func vlanLabelsAreBoundedPerPortAndTheRestIsSummed() {
        let metrics = ExporterMetrics(vlanLimit: 2)
        let vlans: [UInt16: UInt64] = [10: 1, 20: 2, 30: 4, 40: 8]
        metrics.apply(NamespaceReading(netns: "", devices: [
            DeviceReading(name: "br0", ports: [Self.port("vm1", ifindex: 5, rxVLANs: vlans)]),
        ]))
        let s = Self.samples(metrics).filter { $0.key.hasPrefix("bridgetrace_vlan_frames_total") }
        let base = #"bridgetrace_vlan_frames_total{netns="",bridge="br0",port="vm1",vm="",direction="rx",vlan="#
        #expect(s == [base + #""10"}"#: "1", base + #""20"}"#: "2", base + #""other"}"#: "12"])
    }
}

struct LabelBoundsTests {
    @Test func admissionIsStickyAndForgottenWithTheOwner() {
        var bounds = LabelBounds(limit: 2)
        #expect(bounds.label("a", owner: "p") == "a")
        #expect(bounds.label("b", owner: "p") == "b")
        #expect(bounds.label("c", owner: "p") == "other")
        #expect(bounds.label("a", owner: "p") == "a")
        #expect(bounds.label("c", owner: "q") == "c", "per owner")
        bounds.retain(owners: ["q"])
        #expect(bounds.label("c", owner: "p") == "c", "p's admissions went with p")
        #expect(Set(bounds.owners) == ["p", "q"])
    }
}

struct ListenAddressTests {
    @Test func parsesTheFormsOperatorsType() throws {
        #expect(try ListenAddress(parsing: "127.0.0.1:9100") == ListenAddress(host: "127.0.0.1", port: 9100))
        #expect(try ListenAddress(parsing: "[::1]:80") == ListenAddress(host: "::1", port: 80))
        #expect(try ListenAddress(parsing: ":19876") == ListenAddress(host: "::", port: 19876))
        #expect(try ListenAddress(parsing: "127.0.0.1:0") == ListenAddress(host: "127.0.0.1", port: 0))
        #expect(ListenAddress.default.description == "127.0.0.1:19876")
        for bad in ["127.0.0.1", "localhost:80", "::1:80", "1.2.3.4:70000", "1.2.3.4:x", "[::1]80"] {
            #expect(throws: UserError.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
    }
}

struct ExporterSettingsTests {
    @Test func namespacesFollowTheOptions() {
        func settings(_ netns: [String], all: Bool) -> ExporterSettings {
            ExporterSettings(bridges: [], netns: netns, allNetns: all, listen: .default, collector: CollectorSettings())
        }
        #expect(settings([], all: false).namespaces(available: ["x"]) == [nil])
        #expect(settings(["a"], all: false).namespaces(available: ["a", "b"]) == ["a"])
        #expect(settings([], all: true).namespaces(available: ["a", "b"]) == [nil, "a", "b"])
        #expect(settings(["c"], all: true).namespaces(available: ["a", "c"]) == [nil, "a", "c"])
    }
}
