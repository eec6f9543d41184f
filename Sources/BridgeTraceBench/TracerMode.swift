/// What is attached to the DUT's ports while it is measured (`--with-tracer`).
public enum TracerMode: String, CaseIterable, Codable, Sendable {
    /// Nothing: the reference.
    case none
    /// Programs that only return, on the hooks `counters` uses: the hook's own cost, so
    /// that each tracer's figure reads as hook floor + bridgetrace's programs.
    case floor
    /// `bridgetrace counters`: per-port, per-direction counters.
    case counters
    /// Everything at once, as `diagnose` runs it: counters, an event per frame into the
    /// ring buffer (`trace --all`, the worst case) drained and rendered as JSON in
    /// userspace, and the kernel drop tracer with its events.
    case full
    /// `tcpdump -i PORT -w /dev/null` on every port, the tool everyone compares with.
    case tcpdump

    /// Parses `--with-tracer` values; `all` is every mode.
    public static func parse(_ text: String) -> [TracerMode]? {
        if text == "all" { return allCases }
        return TracerMode(rawValue: text).map { [$0] }
    }
}
