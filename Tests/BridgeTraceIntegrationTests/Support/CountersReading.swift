import Foundation

/// One port of a `counters --json` object, with typed accessors for assertions.
struct CountersReading {
    let object: [String: Any]

    /// The named port of the last object in `lines`.
    static func last(_ lines: [[String: Any]], port: String) throws -> CountersReading {
        guard let last = lines.last, let ports = last["ports"] as? [[String: Any]] else {
            throw BackgroundFailure("no counters object in the output")
        }
        guard let entry = ports.first(where: { $0["port"] as? String == port }) else {
            throw BackgroundFailure("port \(port) missing; have \(ports.compactMap { $0["port"] as? String })")
        }
        return CountersReading(object: entry)
    }

    func value(_ direction: String, _ key: String) -> Int {
        ((object[direction] as? [String: Any])?[key] as? Int) ?? -1
    }

    func vlan(_ direction: String) -> [String: Int] {
        ((object[direction] as? [String: Any])?["vlan"] as? [String: Int]) ?? [:]
    }

    var rxHook: String? { object["rx_hook"] as? String }
}
