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

    @OptionGroup var every: IntervalOptions

    @Flag(inversion: .prefixedNo, help: "Count kernel drops per port and reason (the drops field).")
    var drops = true

    func run() throws {
        if let name = SwitchWatch.switchName(watch) { return try SwitchWatch.counters(name, watch: watch, every: every) }
        try watch.prepare()
        StopSignals.install()
        let session = try WatchSession(request: watch.request,
                                       drops: drops ? DropOptions(events: false, required: false) : nil)
        defer { session.close() }
        watch.announce(session)
        try watch.signalReady()

        let vms = VMNameReader()
        var previous: CountersSnapshot?
        try every.everyInterval { _, elapsed in
            for change in try session.refresh() { writeNote("\(change)") }
            var snapshot = try session.snapshot()
            snapshot.vms = vms.read(ports: snapshot.ports.map(\.port))
            defer { previous = snapshot }
            return every.json ? writeStandardOutput(CountersJSON.line(for: snapshot) + "\n")
                : writeLive(CountersTable.render(snapshot, previous: previous, elapsed: elapsed))
        }
    }
}
