#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-21T12:00:00.000Z`, as in the JSON
/// contract. Built from gmtime_r: no formatter state to share between threads.
public func rfc3339Milliseconds(_ secondsSince1970: Double) -> String {
    var whole = time_t(secondsSince1970.rounded(.down))
    var millis = Int(((secondsSince1970 - Double(whole)) * 1000).rounded(.down))
    if millis >= 1000 { millis = 999 }
    var parts = tm()
    gmtime_r(&whole, &parts)
    func pad(_ value: Int32, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
}
