import Foundation

/// A device's packet and byte counters, from `ip -s -j link show dev DEV` (stats64). On a
/// bridge-side port, rx counts what the attached VM sent and tx what the bridge sent to it.
struct LinkCounters: Equatable, Sendable {
    var rxPackets: Int
    var rxBytes: Int
    var rxDropped: Int
    var txPackets: Int
    var txBytes: Int
    var txDropped: Int

    /// Reads `device`'s counters inside `namespace`.
    static func read(_ device: String, inNetns namespace: String) throws -> LinkCounters {
        let json = try run(["ip", "-n", namespace, "-s", "-j", "link", "show", "dev", device])
        return try parse(json, device: device)
    }

    static func parse(_ json: String, device: String) throws -> LinkCounters {
        struct Link: Decodable {
            struct Stats: Decodable {
                struct Direction: Decodable { var packets: Int; var bytes: Int; var dropped: Int }
                var rx: Direction
                var tx: Direction
            }
            var stats64: Stats
        }
        guard let stats = try JSONDecoder().decode([Link].self, from: Data(json.utf8)).first?.stats64 else {
            throw CounterReadError(message: "`ip -s -j link show dev \(device)` listed no device")
        }
        return LinkCounters(
            rxPackets: stats.rx.packets, rxBytes: stats.rx.bytes, rxDropped: stats.rx.dropped,
            txPackets: stats.tx.packets, txBytes: stats.tx.bytes, txDropped: stats.tx.dropped)
    }

    /// The change from `earlier` to `self`, for "exactly N frames arrived" checks. Signed, so
    /// a counter that went backwards (device re-created) shows as a failed expectation, not a trap.
    func since(_ earlier: LinkCounters) -> LinkCounters {
        LinkCounters(
            rxPackets: rxPackets - earlier.rxPackets, rxBytes: rxBytes - earlier.rxBytes,
            rxDropped: rxDropped - earlier.rxDropped, txPackets: txPackets - earlier.txPackets,
            txBytes: txBytes - earlier.txBytes, txDropped: txDropped - earlier.txDropped)
    }
}

struct CounterReadError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
