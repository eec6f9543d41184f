import BridgeTraceCore
import BridgeTraceKernel
import BridgeTracePipeline
import Foundation
import Synchronization

/// How the collectors read and judge.
public struct CollectorSettings: Sendable {
    /// Seconds between collections (netlink, maps, diagnosis).
    public var interval: Double
    /// Seconds of frames, drops and states the diagnosis looks back over.
    public var window: Double
    public var rxHook: RxHookPolicy

    public init(interval: Double = 1, window: Double = 30, rxHook: RxHookPolicy = .auto) {
        self.interval = interval
        self.window = window
        self.rxHook = rxHook
    }
}

/// One network namespace, watched from a thread of its own that entered it (setns is per
/// thread, and netlink and attach work must stay on that thread). The thread owns the
/// watch session; each interval it refreshes the ports, reads counters, drops and netlink
/// state, runs the diagnosis over the window and hands the reading to `ExporterMetrics`.
/// Between collections it drains the frame and drop ring buffers into the window.
public final class NamespaceCollector: @unchecked Sendable {
    public let scope: ExporterScope
    private let metrics: ExporterMetrics
    private let settings: CollectorSettings
    private let log: @Sendable (String) -> Void
    private let stopFlag = Mutex(false)
    private let started = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let failure = Mutex<String?>(nil)

    /// Enters the namespace, attaches and makes the first reading; throws what stopped it.
    public init(scope: ExporterScope, metrics: ExporterMetrics, settings: CollectorSettings,
                log: @escaping @Sendable (String) -> Void) throws {
        self.scope = scope
        self.metrics = metrics
        self.settings = settings
        self.log = log
        let startError = Mutex<Error?>(nil)
        let running = Mutex(false)
        let thread = Thread { [self] in
            defer { finished.signal() }
            do {
                try run {
                    running.withLock { $0 = true }
                    started.signal()
                }
            } catch {
                if running.withLock({ $0 }) {
                    failure.withLock { $0 = "\(error)" }
                    log("\(place): stopped watching: \(error)")
                } else {
                    startError.withLock { $0 = error }
                    started.signal()
                }
            }
            metrics.remove(netns: scope.netnsLabel)
        }
        thread.name = "bridgetrace-ns"
        thread.start()
        started.wait()
        if let error = startError.withLock({ $0 }) {
            finished.wait()
            throw error
        }
    }

    /// Why the collector stopped on its own, if it did.
    public var failed: String? { failure.withLock { $0 } }

    /// Stops, detaches (on the collector's thread) and removes this namespace's series.
    public func stop() {
        stopFlag.withLock { $0 = true }
        finished.wait()
        finished.signal()  // idempotent
    }

    private var stopping: Bool { stopFlag.withLock { $0 } }

    var place: String { scope.netns.map { "netns \($0)" } ?? "this netns" }

    private func run(ready: () -> Void) throws {
        if let netns = scope.netns { try NetworkNamespace.enter(named: netns) }
        let request = WatchRequest(bridge: nil, netns: scope.netns, rxHook: settings.rxHook,
                                   optionalBridges: scope.bridges.isEmpty ? .every : .named(scope.bridges))
        let session = try WatchSession(request: request, events: EventOptions(trace: .outage),
                                       drops: DropOptions(events: true, required: false))
        defer { session.close() }
        for line in session.removedStale { log("\(place): removed a stale program left by a killed run: \(line)") }
        if let note = session.dropNote { log("\(place): \(note)") }

        let state = WindowSink(window: FindingWindow(seconds: settings.window))
        // Drained here, between collections: the window is this thread's alone. A frame from
        // a port that just left is not evidence about any bridge watched now.
        let pipeline = EventPipeline(source: try EventSource(session: session), sinks: [state], unknownPorts: .skipped)
        let vms = VMNameReader()
        try collect(session, state, pipeline, vms)
        ready()

        var next = WallClock.monotonicNowNs() + UInt64(settings.interval * 1e9)
        while !stopping {
            try pipeline.poll(timeoutMs: 50)
            if WallClock.monotonicNowNs() >= next {
                do {
                    try collect(session, state, pipeline, vms)
                } catch let error as NetlinkError {
                    log("\(place): skipped a collection: \(error)")  // a dump raced a change; the next one will do
                }
                next += UInt64(settings.interval * 1e9)
                if next < WallClock.monotonicNowNs() { next = WallClock.monotonicNowNs() + UInt64(settings.interval * 1e9) }
            }
        }
    }

    private func collect(_ session: WatchSession, _ state: WindowSink, _ pipeline: EventPipeline, _ vmReader: VMNameReader) throws {
        for change in try session.refresh() { log("\(place): \(change)") }
        pipeline.refreshPorts()
        let links = try NetlinkLinks.dump()
        var bridgeStates: [BridgeState] = []
        for link in links where link.isBridge && scope.watches(bridge: link.name) {
            // A bridge deleted between the dump and this read is simply not in this reading.
            if let bridge = try? BridgeStateReader.read(bridgeName: link.name) { bridgeStates.append(bridge) }
        }
        let snapshot = try session.snapshot()
        let vms = vmReader.read(ports: bridgeStates.flatMap { $0.ports.map(\.name) })
        let counters = Dictionary(snapshot.ports.map { ($0.ifindex, $0) }, uniquingKeysWith: { first, _ in first })
        let drops = try session.dropCounts()
        let lost = snapshot.lostEvents &+ ((try session.drops?.lostEvents()) ?? 0)
        state.window.advance(nowNs: WallClock.monotonicNowNs(), states: bridgeStates, lostEvents: lost)
        let devices = bridgeStates.map { bridge in
            let ifindexes = Set(bridge.ports.map(\.ifindex))
            return DeviceReading(
                name: bridge.bridge.name,
                ports: bridge.ports.map { PortReading($0, counters: counters[$0.ifindex], vm: vms[$0.name]) },
                drops: drops.filter { ifindexes.contains($0.ifindex) },
                fdbEntries: bridge.fdb.filter { !$0.isLocal }.count,
                findings: state.window.findings(bridge: bridge.bridge.name) ?? [])
        }
        let objects = [session.object] + (session.drops.map { [$0.object] } ?? [])
        metrics.apply(NamespaceReading(netns: scope.netnsLabel, devices: devices, lostEvents: lost,
                                       programs: ProgramStatsReader.read(objects)))
        // Each diagnosis builds and frees tens of MB of journeys over the window; glibc keeps
        // freed arena memory, so without this the RSS of a daemon that runs for months
        // creeps up to the worst evaluation's high-water mark.
        MallocTrim.run()
    }
}

/// The diagnosis window as a pipeline sink, touched only by the collector's thread
/// (ring-buffer callbacks run inside its polls).
private final class WindowSink: EventSink {
    var window: FindingWindow

    init(window: FindingWindow) {
        self.window = window
    }

    func add(_ event: borrowing TraceEventView) { window.add(TraceEvent(event)) }
    func add(_ drop: DropRecord) { window.add(drop) }
}

/// glibc's malloc_trim(3): <malloc.h> is not in Swift's Glibc module, so it is looked up once.
enum MallocTrim {
    private typealias Function = @convention(c) (Int) -> Int32
    nonisolated(unsafe) private static let function: Function? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim")
        .map { unsafeBitCast($0, to: Function.self) }

    static func run() { _ = function?(0) }
}
