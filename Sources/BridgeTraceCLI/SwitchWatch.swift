import BridgeTraceCore
import BridgeTraceKernel
import BridgeTraceSwitch
import Foundation

/// `counters NAME` and `drops NAME` for a running `bridgetrace switch`: read from its
/// pinned maps (the switch counts with the tracer's classify code into the same counter
/// layout), printed in the same shapes as for a bridge. Nothing is attached: the switch's
/// own program already counts, and its drops carry the switch's reasons.
enum SwitchWatch {
    /// The switch `watch` names, when it names a running one and no extra ports.
    static func switchName(_ watch: WatchOptions) -> String? {
        guard let name = watch.bridge, watch.ports.isEmpty, SwitchPins.exists(name) else { return nil }
        return name
    }

    /// Privileges, then the switch's namespace (--netns, or the one it runs in).
    @discardableResult
    static func enter(_ name: String, watch: WatchOptions) throws -> String? {
        try Preflight.requirePrivileges()
        let netns = watch.netns ?? SwitchState.netns(of: name)
        if let netns { try NetworkNamespace.enter(named: netns) }
        return netns
    }

    /// `trace NAME` / `diagnose NAME`: the switch's own events, turned on through its pins.
    static func traceSource(_ name: String, watch: WatchOptions) throws -> SwitchTraceSource {
        let source = try SwitchTraceSource(name: name, netns: watch.netns ?? SwitchState.netns(of: name))
        writeStandardError("bridgetrace: \(name) is a bridgetrace switch: its own programs emit the events (nothing attached; ring buffer \(source.ringBufferBytes / 1024) KiB, fixed when the switch started)")
        return source
    }

    static func counters(_ name: String, watch: WatchOptions, every: IntervalOptions) throws {
        let netns = try enter(name, watch: watch)
        StopSignals.install()
        _ = try SwitchState.read(name: name, netns: netns)
        try watch.signalReady()
        let vms = VMNameReader()
        var previous: CountersSnapshot?
        try every.everyInterval { _, elapsed in
            var snapshot = try SwitchState.read(name: name, netns: netns).counters
            snapshot.vms = vms.read(ports: snapshot.ports.map(\.port))
            defer { previous = snapshot }
            return every.json ? writeStandardOutput(CountersJSON.line(for: snapshot) + "\n")
                : writeLive(CountersTable.render(snapshot, previous: previous, elapsed: elapsed))
        }
    }

    /// The switch's drops by its reasons, and the kernel's drops (kfree_skb) on its ports.
    static func drops(_ name: String, watch: WatchOptions, every: IntervalOptions, hook: DropHook?) throws {
        let netns = try enter(name, watch: watch)
        StopSignals.install()
        let first = try SwitchState.read(name: name, netns: netns)
        var kernel: DropTracer?
        var note: String?
        do {
            kernel = try DropTracer(netnsInode: NetworkNamespace.currentInode(), options: DropOptions(hook: hook, events: false))
            for port in first.ports { try kernel?.watch(ifindex: port.ifindex) }
        } catch let error as any OperatorError {
            note = "kernel drops are not counted: \(error.message)"
        }
        defer { kernel?.close() }
        if let note { writeStandardError("bridgetrace: \(note)") }
        try watch.signalReady()
        let vms = VMNameReader()
        var previous: DropsSnapshot?
        try every.everyInterval { now, elapsed in
            let state = try SwitchState.read(name: name, netns: netns)
            var counts = state.dropCounts
            let names = Dictionary(uniqueKeysWithValues: state.ports.map { ($0.ifindex, $0.name) })
            counts += (try kernel?.counts(portNames: names)) ?? []
            let snapshot = DropsSnapshot(time: now.timeIntervalSince1970, bridge: name, netns: netns, drops: counts,
                                         lostEvents: (try kernel?.lostEvents()) ?? 0, hook: kernel?.hook.rawValue,
                                         vms: vms.read(ports: state.ports.map(\.name)))
            defer { previous = snapshot }
            return every.json ? writeStandardOutput(DropsReport.jsonLine(snapshot, previous: previous, elapsed: elapsed) + "\n")
                : writeLive(DropsReport.table(snapshot, previous: previous, elapsed: elapsed))
        }
    }
}
