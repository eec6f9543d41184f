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

    @OptionGroup var every: IntervalOptions

    @Option(name: .long, help: ArgumentHelp(
        "Kernel hook for kfree_skb: auto, tp_btf or raw_tp.",
        discussion: "auto tries tp_btf and falls back to raw_tp."))
    var dropHook: DropHookChoice = .auto

    func run() throws {
        if let name = SwitchWatch.switchName(watch) {
            return try SwitchWatch.drops(name, watch: watch, every: every, hook: dropHook.hook)
        }
        try watch.prepare()
        StopSignals.install()
        let session = try WatchSession(request: watch.request, drops: DropOptions(hook: dropHook.hook, events: false, required: true))
        defer { session.close() }
        watch.announce(session)
        try watch.signalReady()

        let vms = VMNameReader()
        var previous: DropsSnapshot?
        try every.everyInterval { now, elapsed in
            for change in try session.refresh() { writeNote("\(change)") }
            let snapshot = DropsSnapshot(
                time: now.timeIntervalSince1970, bridge: watch.bridge ?? "", netns: watch.netns,
                drops: try session.dropCounts(), lostEvents: try session.drops?.lostEvents() ?? 0,
                hook: session.drops?.hook.rawValue, vms: vms.read(ports: session.ports.map(\.name)))
            defer { previous = snapshot }
            return every.json ? writeStandardOutput(DropsReport.jsonLine(snapshot, previous: previous, elapsed: elapsed) + "\n")
                : writeLive(DropsReport.table(snapshot, previous: previous, elapsed: elapsed))
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
