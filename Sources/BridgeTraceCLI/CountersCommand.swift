import ArgumentParser
import BridgeTraceCore
import BridgeTraceKernel
import Foundation

struct CountersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "counters",
        abstract: "Per-port, per-direction frame counters: ARP, ICMP, DHCP, VLAN and the rest.",
        discussion: """
        rx is what the bridge received on a port, tx what it sent out of it. Counters are \
        cumulative since attach. On a terminal the table refreshes in place; in a pipe it \
        prints one table per interval; --json prints one JSON object per interval.
        """
    )

    @OptionGroup var watch: WatchOptions

    @Option(help: "Seconds between readings.")
    var interval: Double = 1

    @Option(help: "Stop after this many seconds (default: until Ctrl-C).")
    var duration: Double?

    @Flag(help: "Print one JSON object per interval.")
    var json = false

    @Flag(inversion: .prefixedNo, help: "Count kernel drops per port and reason (the drops field).")
    var drops = true

    func validate() throws {
        if !(interval > 0) { throw ValidationError("--interval must be a positive number of seconds") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be a positive number of seconds") }
    }

    func run() throws {
        try watch.prepare()
        StopSignals.install()
        let session = try WatchSession(request: watch.request,
                                       drops: drops ? DropOptions(events: false, required: false) : nil)
        defer { session.close() }
        if let note = session.dropNote { writeStandardError("bridgetrace: \(note)") }
        for line in session.removedStale {
            writeStandardError("bridgetrace: removed a stale program left by a killed run: \(line)")
        }
        for port in session.ports where port.rxHookNote != nil {
            writeStandardError("bridgetrace: \(port.name): rx counted at tc ingress: \(port.rxHookNote ?? "")")
        }
        try watch.signalReady()

        let output = CountersOutput(json: json, terminal: isatty(STDOUT_FILENO) == 1)
        let start = Date()
        let end = duration.map { start.addingTimeInterval($0) }
        var previous: CountersSnapshot?
        var lastPrint = start
        var next = start.addingTimeInterval(interval)
        while !StopSignals.stopRequested {
            StopSignals.sleep(until: min(next, end ?? next))
            let now = Date()
            let finished = StopSignals.stopRequested || end.map { now >= $0 } ?? false
            if now < next && !finished { continue }
            for change in try session.refresh() { writeStandardError("bridgetrace: \(change)") }
            let snapshot = try session.snapshot()
            // A short last interval is still printed: it carries the final counts.
            if !output.write(snapshot, previous: previous, elapsed: now.timeIntervalSince(lastPrint)) { break }
            previous = snapshot
            lastPrint = now
            next = next.addingTimeInterval(interval)
            if finished { break }
        }
    }
}

/// Where each reading goes: JSON lines, a table redrawn in place on a terminal, or
/// plain tables one after another in a pipe.
struct CountersOutput {
    let json: Bool
    let terminal: Bool

    /// False when stdout is gone (the reader closed the pipe): time to stop.
    func write(_ snapshot: CountersSnapshot, previous: CountersSnapshot?, elapsed: Double) -> Bool {
        var text: String
        if json {
            text = CountersJSON.line(for: snapshot) + "\n"
        } else {
            text = CountersTable.render(snapshot, previous: previous, elapsed: elapsed)
            text = terminal ? "\u{1B}[H\u{1B}[2J" + text : text + "\n"
        }
        return writeStandardOutput(text)
    }
}
