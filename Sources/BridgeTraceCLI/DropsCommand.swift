import ArgumentParser
import BridgeTraceCore
import BridgeTraceKernel
import Foundation

struct DropsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drops",
        abstract: "Kernel drops per port: reason, kernel location, count and rate.",
        discussion: """
        Counts every skb the kernel frees with a drop reason while it is on a watched port \
        (skb->dev) of the watched namespace: the port is where the frame was when it died, \
        for a forwarded frame the egress port. Reason names come from the running kernel's \
        BTF, locations from /proc/kallsyms. Counts are cumulative since attach; the rate is \
        over the last interval. On a terminal the table refreshes in place; in a pipe it \
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

    @Option(name: .long, help: ArgumentHelp(
        "Kernel hook for kfree_skb: auto, tp_btf or raw_tp.",
        discussion: "auto tries tp_btf and falls back to raw_tp."))
    var dropHook: DropHookChoice = .auto

    func validate() throws {
        if !(interval > 0) { throw ValidationError("--interval must be a positive number of seconds") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be a positive number of seconds") }
    }

    func run() throws {
        try watch.prepare()
        StopSignals.install()
        let session = try WatchSession(request: watch.request, drops: DropOptions(hook: dropHook.hook, events: false, required: true))
        defer { session.close() }
        for line in session.removedStale {
            writeStandardError("bridgetrace: removed a stale program left by a killed run: \(line)")
        }
        if let note = session.dropNote { writeStandardError("bridgetrace: \(note)") }
        try watch.signalReady()

        let terminal = isatty(STDOUT_FILENO) == 1
        let start = Date()
        let end = duration.map { start.addingTimeInterval($0) }
        var previous: DropsSnapshot?
        var lastPrint = start
        var next = start.addingTimeInterval(interval)
        while !StopSignals.stopRequested {
            StopSignals.sleep(until: min(next, end ?? next))
            let now = Date()
            let finished = StopSignals.stopRequested || end.map { now >= $0 } ?? false
            if now < next && !finished { continue }
            for change in try session.refresh() { writeStandardError("bridgetrace: \(change)") }
            let snapshot = DropsSnapshot(
                time: now.timeIntervalSince1970, bridge: watch.bridge ?? "", netns: watch.netns,
                drops: try session.dropCounts(), lostEvents: try session.drops?.lostEvents() ?? 0,
                hook: session.drops?.hook.rawValue)
            let elapsed = now.timeIntervalSince(lastPrint)
            var text: String
            if json {
                text = DropsReport.jsonLine(snapshot, previous: previous, elapsed: elapsed) + "\n"
            } else {
                text = DropsReport.table(snapshot, previous: previous, elapsed: elapsed)
                text = terminal ? "\u{1B}[H\u{1B}[2J" + text : text + "\n"
            }
            if !writeStandardOutput(text) { break }
            previous = snapshot
            lastPrint = now
            next = next.addingTimeInterval(interval)
            if finished { break }
        }
    }
}

enum DropHookChoice: String, ExpressibleByArgument, CaseIterable {
    case auto
    case tpBTF = "tp_btf"
    case rawTP = "raw_tp"

    var hook: DropHook? {
        switch self {
        case .auto: return nil
        case .tpBTF: return .tpBTF
        case .rawTP: return .rawTP
        }
    }
}
