/// `counters --json`: one object per interval, in DESIGN.md's shape. Fields may be added,
/// never renamed.
public enum CountersJSON {
    public static func value(of snapshot: CountersSnapshot) -> JSONValue {
        .object([
            ("time", .string(rfc3339Milliseconds(snapshot.time))),
            ("bridge", .string(snapshot.bridge)),
            ("netns", snapshot.netns.map(JSONValue.string) ?? .null),
            ("ports", .array(snapshot.ports.map(value(of:)))),
            ("lost_events", .uint(snapshot.lostEvents)),
            ("degraded", .array(snapshot.degraded.map(JSONValue.string))),
        ])
    }

    public static func line(for snapshot: CountersSnapshot) -> String {
        value(of: snapshot).rendered()
    }

    static func value(of port: PortCounters) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("port", .string(port.port)),
            ("ifindex", .int(Int64(port.ifindex))),
            ("rx", value(of: port.rx)),
            ("tx", value(of: port.tx)),
            ("drops", .object([
                ("total", .uint(port.drops.total)),
                ("reasons", .object(port.drops.reasons.sorted { $0.key < $1.key }.map { ($0.key, .uint($0.value)) })),
            ])),
            ("rx_hook", .string(port.rxHook.rawValue)),
            ("tc_attach", .string(port.tcAttachment.rawValue)),
        ]
        if let note = port.rxHookNote {
            members.append(("rx_hook_note", .string(note)))
        }
        return .object(members)
    }

    static func value(of counters: DirectionCounters) -> JSONValue {
        var members: [(String, JSONValue)] = []
        for kind in CounterKind.allCases {
            members.append((kind.jsonKey, .uint(counters[kind])))
            if kind == .vlanTagged {
                let perVLAN = counters.vlanFrames.sorted { $0.key < $1.key }.map { (String($0.key), JSONValue.uint($0.value)) }
                members.append(("vlan", .object(perVLAN)))
            }
        }
        return .object(members)
    }
}
