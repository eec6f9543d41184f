/// `diagnose --record FILE`: everything the rules saw, as JSON lines, so that a real run
/// can be replayed into `DiagnosisEngine` without root (the unit tests' recorded fixtures).
///
///     {"bridgetrace_recording": 1, "bridge": "br0", "duration_s": 8.0, "probe_target": null,
///      "lost_events": 0, "collector_overflow": 0, "counted_drops": [...],
///      "state_before": {...}, "state_after": {...}, "watch_end_ns": 123}
///     {"f": [monotonic_ns, ifindex, "vm1", "rx", length, "ffffffffffff5254...", dhcp_type|null]}
///     {"d": [monotonic_ns, ifindex, "uplink", "NETFILTER_DROP", "nft_do_chain", length, "5254..."]}
///
/// Frames carry their captured bytes (hex) and the kernel's DHCP message type, which the
/// bytes may not reach (options start past the default snap length).
public enum DiagnosisRecording {
    public static let version = 1

    public static func header(_ input: DiagnosisInput) -> String {
        JSONValue.object([
            ("bridgetrace_recording", .int(Int64(version))),
            ("bridge", .string(input.bridge)),
            ("duration_s", .double(input.durationSeconds)),
            ("probe_target", input.probeTarget.map { .string($0) } ?? .null),
            ("lost_events", .uint(input.lostEvents)),
            ("collector_overflow", .uint(input.collectorOverflow)),
            ("counted_drops", .array(input.countedDrops.map { count in
                .object([("port", .string(count.port)), ("ifindex", .int(Int64(count.ifindex))),
                         ("reason", .string(count.reason)), ("location", .string(count.location)),
                         ("count", .uint(count.count))])
            })),
            ("state_before", state(input.stateBefore)),
            ("state_after", state(input.stateAfter)),
            ("watch_end_ns", input.watchEndNs.map { .uint($0) } ?? .null),
        ]).rendered()
    }

    public static func line(_ event: TraceEvent) -> String {
        let frame = event.frame
        return JSONValue.object([("f", .array([
            .uint(frame.monotonicNs), .int(Int64(frame.ifindex)), .string(frame.port), .string(frame.direction.rawValue),
            .int(Int64(frame.length)), .string(hex(frame.bytes)),
            event.decoded.dhcp?.messageType.map { .int(Int64($0.rawValue)) } ?? .null,
        ]))]).rendered()
    }

    public static func line(_ drop: DropRecord) -> String {
        JSONValue.object([("d", .array([
            .uint(drop.monotonicNs), .int(Int64(drop.ifindex)), .string(drop.port), .string(drop.reason),
            .string(drop.location), .int(Int64(drop.length)), .string(hex(drop.bytes)),
        ]))]).rendered()
    }

    /// The whole recording, header first, then frames and drops in the input's order.
    public static func lines(_ input: DiagnosisInput) -> [String] {
        [header(input)] + input.events.map(line) + input.drops.map(line)
    }

    static func state(_ state: BridgeState) -> JSONValue {
        .object([
            ("bridge", .object([
                ("name", .string(state.bridge.name)), ("ifindex", .int(Int64(state.bridge.ifindex))),
                ("up", .bool(state.bridge.isUp)), ("mtu", .uint(UInt64(state.bridge.mtu))),
                ("mac", .string(state.bridge.mac)), ("stp", .bool(state.bridge.stpEnabled)),
                ("vlan_filtering", .bool(state.bridge.vlanFiltering)), ("ageing_s", .double(state.bridge.ageingTime)),
                ("addresses", .array(state.bridge.addresses.map(JSONValue.string))),
            ])),
            ("ports", .array(state.ports.map { port in
                .object([
                    ("name", .string(port.name)), ("ifindex", .int(Int64(port.ifindex))),
                    ("kind", port.kind.map { .string($0) } ?? .null), ("mac", .string(port.mac)),
                    ("mtu", .uint(UInt64(port.mtu))), ("up", .bool(port.isUp)), ("carrier", .bool(port.hasCarrier)),
                    ("operstate", .string(port.operState)), ("stp_state", .uint(UInt64(port.stpState.rawValue))),
                    ("isolated", .bool(port.isolated)), ("learning", .bool(port.learning)),
                    ("flood", .bool(port.unicastFlood)), ("bcast_flood", .bool(port.broadcastFlood)),
                ])
            })),
            ("fdb", .array(state.fdb.map { entry in
                .object([
                    ("mac", .string(entry.mac)), ("ifindex", .int(Int64(entry.ifindex))), ("port", .string(entry.port)),
                    ("local", .bool(entry.isLocal)), ("static", .bool(entry.isStatic)),
                    ("vlan", entry.vlan.map { .uint(UInt64($0)) } ?? .null),
                ])
            })),
            ("counters", .object(state.deviceCounters.keys.sorted().map { name in
                let c = state.deviceCounters[name]!
                return (name, .object([
                    ("rx_packets", .uint(c.rxPackets)), ("tx_packets", .uint(c.txPackets)),
                    ("rx_dropped", .uint(c.rxDropped)), ("tx_dropped", .uint(c.txDropped)),
                    ("rx_missed_errors", .uint(c.rxMissedErrors)), ("tx_errors", .uint(c.txErrors)),
                ]))
            })),
            ("netfilter", state.netfilter.map(netfilter) ?? .null),
        ])
    }

    static func netfilter(_ state: NetfilterState) -> JSONValue {
        func flag(_ value: Bool?) -> JSONValue { value.map(JSONValue.bool) ?? .null }
        return .object([
            ("bridge_nf_call_iptables", flag(state.callIPTables)), ("bridge_nf_call_ip6tables", flag(state.callIP6Tables)),
            ("bridge_nf_call_arptables", flag(state.callARPTables)), ("ruleset_read", .bool(state.rulesetRead)),
            ("chains", .array(state.chains.map { chain in
                .object([
                    ("family", .string(chain.family)), ("table", .string(chain.table)), ("name", .string(chain.name)),
                    ("hook", .string(chain.hook)), ("policy_drop", .bool(chain.policyDrop)),
                    ("drop_rules", .int(Int64(chain.dropRules))),
                ])
            })),
        ])
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return out
    }
}
