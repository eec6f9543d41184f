import Foundation
import Testing

@testable import BridgeTraceCore

/// Reads what `diagnose --record` wrote (`DiagnosisRecording`) back into a DiagnosisInput.
enum RecordingReader {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("DiagnosisRecordings")

    static func load(_ name: String) throws -> DiagnosisInput {
        try parse(String(contentsOf: directory.appendingPathComponent("\(name).jsonl"), encoding: .utf8))
    }

    static func parse(_ text: String) throws -> DiagnosisInput {
        var lines = text.split(separator: "\n").makeIterator()
        guard let first = lines.next(), let header = try object(first),
              header["bridgetrace_recording"] as? Int == DiagnosisRecording.version else {
            throw ReadError(what: "not a bridgetrace recording")
        }
        var input = DiagnosisInput(
            bridge: header["bridge"] as! String, durationSeconds: header["duration_s"] as! Double, events: [], drops: [],
            stateBefore: state(header["state_before"] as! [String: Any]),
            stateAfter: state(header["state_after"] as! [String: Any]),
            probeTarget: header["probe_target"] as? String,
            lostEvents: UInt64(header["lost_events"] as! Int), collectorOverflow: UInt64(header["collector_overflow"] as! Int),
            countedDrops: (header["counted_drops"] as? [[String: Any]] ?? []).map { c in
                DropCount(port: c["port"] as! String, ifindex: Int32(c["ifindex"] as! Int), reason: c["reason"] as! String,
                          location: c["location"] as! String, count: UInt64(c["count"] as! Int))
            },
            watchEndNs: (header["watch_end_ns"] as? NSNumber).map { $0.uint64Value })
        while let line = lines.next() {
            guard let item = try object(line) else { continue }
            if let f = item["f"] as? [Any] {
                var event = TraceEvent.make(CapturedFrame(
                    monotonicNs: UInt64(f[0] as! Int), ifindex: Int32(f[1] as! Int), port: f[2] as! String,
                    direction: Direction(rawValue: f[3] as! String)!, length: f[4] as! Int, bytes: bytes(f[5] as! String)))
                if let type = f[6] as? Int, event.decoded.dhcp != nil, event.decoded.dhcp?.messageType == nil {
                    event.decoded.dhcp?.messageType = DHCPMessageType(rawValue: UInt8(type))
                }
                input.events.append(event)
            } else if let d = item["d"] as? [Any] {
                input.drops.append(DropRecord(
                    monotonicNs: UInt64(d[0] as! Int), ifindex: Int32(d[1] as! Int), port: d[2] as! String,
                    reason: d[3] as! String, location: d[4] as! String, length: d[5] as! Int, bytes: bytes(d[6] as! String)))
            }
        }
        return input
    }

    static func object(_ line: Substring) throws -> [String: Any]? {
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    static func state(_ s: [String: Any]) -> BridgeState {
        let b = s["bridge"] as! [String: Any]
        return BridgeState(
            bridge: .init(name: b["name"] as! String, ifindex: Int32(b["ifindex"] as! Int), isUp: b["up"] as! Bool,
                          mtu: UInt32(b["mtu"] as! Int), mac: b["mac"] as! String, stpEnabled: b["stp"] as! Bool,
                          vlanFiltering: b["vlan_filtering"] as! Bool, ageingTime: (b["ageing_s"] as! NSNumber).doubleValue,
                          addresses: b["addresses"] as? [String] ?? []),
            ports: (s["ports"] as! [[String: Any]]).map { p in
                BridgeState.Port(
                    name: p["name"] as! String, ifindex: Int32(p["ifindex"] as! Int), kind: p["kind"] as? String,
                    mac: p["mac"] as! String, mtu: UInt32(p["mtu"] as! Int), isUp: p["up"] as! Bool,
                    hasCarrier: p["carrier"] as! Bool, operState: p["operstate"] as! String,
                    stpState: BridgeState.STPState(rawValue: UInt8(p["stp_state"] as! Int))!, isolated: p["isolated"] as! Bool,
                    learning: p["learning"] as! Bool, unicastFlood: p["flood"] as! Bool, broadcastFlood: p["bcast_flood"] as! Bool)
            },
            fdb: (s["fdb"] as! [[String: Any]]).map { e in
                BridgeState.FDBEntry(mac: e["mac"] as! String, ifindex: Int32(e["ifindex"] as! Int), port: e["port"] as! String,
                                     isLocal: e["local"] as! Bool, isStatic: e["static"] as! Bool,
                                     vlan: (e["vlan"] as? Int).map(UInt16.init))
            },
            deviceCounters: (s["counters"] as! [String: [String: Any]]).mapValues { c in
                BridgeState.DeviceCounters(
                    rxPackets: UInt64(c["rx_packets"] as! Int), txPackets: UInt64(c["tx_packets"] as! Int),
                    rxDropped: UInt64(c["rx_dropped"] as! Int), txDropped: UInt64(c["tx_dropped"] as! Int),
                    rxMissedErrors: UInt64(c["rx_missed_errors"] as! Int), txErrors: UInt64(c["tx_errors"] as! Int))
            },
            netfilter: (s["netfilter"] as? [String: Any]).map { n in
                NetfilterState(
                    callIPTables: n["bridge_nf_call_iptables"] as? Bool, callIP6Tables: n["bridge_nf_call_ip6tables"] as? Bool,
                    callARPTables: n["bridge_nf_call_arptables"] as? Bool,
                    chains: (n["chains"] as? [[String: Any]] ?? []).map { c in
                        NetfilterState.Chain(family: c["family"] as! String, table: c["table"] as! String,
                                             name: c["name"] as! String, hook: c["hook"] as! String,
                                             policyDrop: c["policy_drop"] as! Bool, dropRules: c["drop_rules"] as! Int)
                    },
                    rulesetRead: n["ruleset_read"] as? Bool ?? false)
            })
    }

    struct ReadError: Error { var what: String }
}

/// The event streams of real runs (DiagnoseHandBuiltTests, DiagnoseUnderLoadTests:
/// hand-built bridges, real pings, ARP, busybox DHCP, trafgen), recorded with `diagnose
/// --record` and replayed into the rules without root. Refresh them with
/// BRIDGETRACE_RECORD_FIXTURES=$PWD/Tests/BridgeTraceCoreTests/DiagnosisRecordings.
@Suite struct DiagnosisRecordedStreamTests {
    static let faults: [(name: String, cause: CauseCode, port: String?)] = [
        ("arp_unanswered_nobody", .arpUnanswered, "vm1"),
        ("port_isolated_third_port", .portIsolated, "vm1"),
        ("flooded_unknown_mac", .icmpUnanswered, nil),
        ("upstream_mac_filter", .upstreamMACFilter, "uplink"),
        ("dhcp_multiple_servers", .dhcpMultipleServers, nil),
        ("load_netfilter", .netfilterDrop, "uplink"),
        ("load_stp", .stpNotForwarding, "uplink"),
        ("load_isolated", .portIsolated, "vm1"),
    ]

    @Test(arguments: faults.map(\.name))
    func recordedFaultGivesItsCauseAtItsPort(_ name: String) throws {
        let expected = Self.faults.first { $0.name == name }!
        let findings = DiagnosisEngine.diagnose(try RecordingReader.load(name))
        let matching = findings.filter { $0.cause == expected.cause }
        #expect(matching.count == 1, "\(findings.describeAll())")
        #expect(matching.first?.port == expected.port, "\(findings.describeAll())")
        #expect(findings.count == 1, "\(findings.describeAll())")
    }

    @Test func recordedHealthyRunsStayHealthy() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: RecordingReader.directory.path)
            .filter { $0.hasPrefix("healthy-") }.sorted()
        #expect(names.count == 10)
        for name in names {
            let input = try RecordingReader.load(String(name.dropLast(6)))
            #expect(input.events.count > 20, "\(name)")
            #expect(DiagnosisEngine.diagnose(input).isEmpty, "\(name): \(DiagnosisEngine.diagnose(input).describeAll())")
        }
    }

    /// The quiet link at its quietest: only the first two ARP requests of the recorded
    /// run (a retransmission apart), nothing else.
    @Test func twoRecordedARPRequestsAreEnough() throws {
        var input = try RecordingReader.load("arp_unanswered_nobody")
        let requests = input.events.filter { $0.decoded.arp?.op == .request }
        let keepUntil = requests.filter { $0.frame.direction == .rx }.dropFirst().first!.frame.monotonicNs + 1_000_000
        input.events = input.events.filter { $0.frame.monotonicNs <= keepUntil }
        #expect(input.events.filter { $0.frame.direction == .rx }.count == 2)
        let findings = DiagnosisEngine.diagnose(input)
        #expect(findings.map(\.cause) == [.arpUnanswered] && findings.first?.port == "vm1", "\(findings.describeAll())")
        // One request alone is not.
        input.events = input.events.filter { $0.frame.monotonicNs < requests.filter { $0.frame.direction == .rx }[1].frame.monotonicNs }
        #expect(DiagnosisEngine.diagnose(input).isEmpty)
    }

    /// Two recorded unanswered requests from an isolated port, nothing else: enough, from
    /// the port flags, without waiting for volume.
    @Test func isolationFromTwoRecordedRequestsAndThePortFlags() throws {
        var input = try RecordingReader.load("port_isolated_third_port")
        let rx = input.events.filter { $0.frame.direction == .rx }
        let keepUntil = rx[1].frame.monotonicNs + 1_000_000
        input.events = input.events.filter { $0.frame.monotonicNs <= keepUntil }
        let findings = DiagnosisEngine.diagnose(input)
        #expect(findings.map(\.cause) == [.portIsolated] && findings.first?.port == "vm1", "\(findings.describeAll())")
        // The same frames with no port isolated say nothing about isolation.
        for index in input.stateBefore.ports.indices { input.stateBefore.ports[index].isolated = false }
        input.stateAfter = input.stateBefore
        #expect(!DiagnosisEngine.diagnose(input).contains { $0.cause == .portIsolated })
    }

    /// Under load the veth towards the gateway overflowed (QDISC_DROP of background UDP):
    /// congestion of bulk traffic, not a fault of its own.
    @Test func congestionOfBackgroundUDPIsNoFinding() throws {
        let input = try RecordingReader.load("load_isolated")
        #expect(input.drops.contains { $0.reason == "QDISC_DROP" && $0.port == "uplink" })
        #expect(!DiagnosisEngine.diagnose(input).contains { $0.cause == .unknownDrop })
    }

    @Test func recordingRoundTrips() throws {
        let input = try RecordingReader.load("dhcp_multiple_servers")
        let again = try RecordingReader.parse(DiagnosisRecording.lines(input).joined(separator: "\n"))
        #expect(again.events == input.events)
        #expect(again.drops == input.drops)
        #expect(again.stateBefore == input.stateBefore && again.stateAfter == input.stateAfter)
        #expect(input.events.contains { $0.decoded.dhcp?.messageType == .offer }, "the kernel's DHCP type survives")
    }
}
