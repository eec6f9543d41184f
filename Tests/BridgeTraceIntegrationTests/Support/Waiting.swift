import BridgeTraceLab
import Foundation

/// A condition that did not come true in time: says what was awaited and what was seen last.
struct WaitTimeout: Error, CustomStringConvertible {
    var description: String
}

/// Reads `probe` every `interval` seconds until `done` holds on what it returns, and returns
/// that value, instead of a fixed sleep that a loaded machine overruns (softirq work runs
/// late when the CPUs are busy) or an idle one wastes. Throws naming `what` and the last
/// value after `timeout` seconds.
@discardableResult
func waitFor<T>(
    _ what: String, timeout: Double = 10, interval: Double = 0.05,
    _ probe: () throws -> T, until done: (T) throws -> Bool
) throws -> T {
    let timeout = TestTime.scaled(timeout)
    let deadline = Date().addingTimeInterval(timeout)
    var value = try probe()
    while try !done(value) {
        guard Date() < deadline else {
            throw WaitTimeout(description: "waited \(timeout) s for \(what); last seen: \(value)")
        }
        usleep(useconds_t(interval * 1e6))
        value = try probe()
    }
    return value
}

/// `waitFor` for a plain condition.
func waitFor(_ what: String, timeout: Double = 10, interval: Double = 0.05, _ condition: () throws -> Bool) throws {
    try waitFor(what, timeout: timeout, interval: interval, condition) { $0 }
}

/// Every bridge port's counters, by port, for `waitForPortTx`.
func portCounters(_ lab: LabTopology) throws -> [String: LinkCounters] {
    try Dictionary(uniqueKeysWithValues: lab.bridgePorts.map { ($0, try LinkCounters.read($0, inNetns: lab.bridgeNamespace)) })
}

/// Waits until each bridge port in `frames` has sent at least that many frames since
/// `before`: then the port's tc egress hook (which runs before the count) has seen them all,
/// and the tracer has them queued, since its stop drains the ring.
func waitForPortTx(_ lab: LabTopology, _ frames: [String: Int], since before: [String: LinkCounters]) throws {
    try waitFor("bridge ports to send \(frames)", { () throws -> [String: Int] in
        try Dictionary(uniqueKeysWithValues: frames.keys.map { port in
            (port, try LinkCounters.read(port, inNetns: lab.bridgeNamespace).txPackets - (before[port]?.txPackets ?? 0))
        })
    }, until: { sent in frames.allSatisfy { sent[$0.key, default: 0] >= $0.value } })
}

/// How much longer than on the host a wait may take. The kernel matrix runs these suites in
/// QEMU guests under TCG (scripts/kernel-matrix sets BRIDGETRACE_TEST_TIME_SCALE), where a
/// process start, a symbol-table load or a netlink round trip is several times slower.
/// It scales only how long a test waits for something to happen, never what it expects.
enum TestTime {
    static let scale: Double = {
        let text = ProcessInfo.processInfo.environment["BRIDGETRACE_TEST_TIME_SCALE"] ?? ""
        return Double(text).map { max(1, $0) } ?? 1
    }()

    /// `seconds` of waiting on the host, as long as this machine needs.
    static func scaled(_ seconds: Double) -> Double { seconds * scale }
}
