import ArgumentParser
import Foundation

/// `--interval`, `--duration` and `--json` of the commands that print a reading per
/// interval (counters, drops).
struct IntervalOptions: ParsableArguments {
    @Option(help: "Seconds between readings.")
    var interval: Double = 1

    @Option(help: "Stop after this many seconds (default: until Ctrl-C).")
    var duration: Double?

    @Flag(help: "Print one JSON object per interval.")
    var json = false

    func validate() throws {
        if !(interval > 0) { throw ValidationError("--interval must be a positive number of seconds") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be a positive number of seconds") }
    }

    /// Calls `reading(now, secondsSinceLastReading)` every interval, and once more at the
    /// end (--duration or a stop signal): a short last interval still carries the final
    /// counts. Stops early when `reading` returns false (the reader of stdout is gone).
    func everyInterval(_ reading: (Date, Double) throws -> Bool) rethrows {
        let start = Date()
        let end = duration.map { start.addingTimeInterval($0) }
        var last = start
        var next = start.addingTimeInterval(interval)
        while !StopSignals.stopRequested {
            StopSignals.sleep(until: min(next, end ?? next))
            let now = Date()
            let finished = StopSignals.stopRequested || end.map { now >= $0 } ?? false
            if now < next && !finished { continue }
            if try !reading(now, now.timeIntervalSince(last)) { return }
            last = now
            next = next.addingTimeInterval(interval)
            // A reading that took longer than an interval (a starved CPU) must not be
            // followed by a burst of back-to-back catch-up readings: skip the missed ones.
            if next <= now { next = now.addingTimeInterval(interval) }
            if finished { return }
        }
    }
}

/// A reading for people: redrawn in place on a terminal, one after another in a pipe.
/// False when stdout is gone.
func writeLive(_ text: String) -> Bool {
    writeStandardOutput(isatty(STDOUT_FILENO) == 1 ? "\u{1B}[H\u{1B}[2J" + text : text + "\n")
}
