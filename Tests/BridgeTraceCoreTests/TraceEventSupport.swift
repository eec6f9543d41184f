import Foundation

@testable import BridgeTraceCore

/// Events at a fixed wall-clock time: 2026-11-21T12:00:01.123456789Z.
enum TraceClock {
    static let wallNs: Int64 = 1_795_262_401_123_456_789
    static let monotonicNs: UInt64 = 5_000_000_000
    static let offsetNs: Int64 = wallNs - Int64(monotonicNs)

    /// `HH:MM:SS.123456` in the local time zone, computed independently of the code under test.
    static var localPrefix: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: 1_795_262_401)) + ".123456"
    }

    static func event(_ bytes: [UInt8], port: String = "tap-vm1", direction: Direction = .rx, ifindex: Int32 = 7,
                      length: Int? = nil) -> TraceEvent {
        TraceEvent.make(CapturedFrame(monotonicNs: monotonicNs, ifindex: ifindex, port: port, direction: direction,
                                      length: length ?? bytes.count, bytes: bytes))
    }

    static func text(_ event: TraceEvent) -> String {
        TraceText.line(event, wallClockOffsetNs: offsetNs)
    }

    /// The text after `HH:MM:SS.uuuuuu `.
    static func textAfterTime(_ event: TraceEvent) -> String {
        String(text(event).dropFirst(16))
    }

    static func json(_ event: TraceEvent) -> String {
        TraceJSON.line(event, wallClockOffsetNs: offsetNs)
    }

    static func jsonObject(_ event: TraceEvent) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(json(event).utf8)) as! [String: Any]
    }
}
