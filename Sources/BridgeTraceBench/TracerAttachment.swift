import BridgeTraceCore
import BridgeTraceKernel
import BridgeTracePipeline
import Foundation

/// A tracer on the DUT's ports for the length of one trial. `counters` and `full` run
/// bridgetrace's own WatchSession in-process, on a thread inside the bridge's namespace
/// (attach and detach are netns-bound); `tcpdump` runs one tcpdump per port. `detach()`
/// removes everything, and must be called on every path: the trial runner defers it.
final class TracerAttachment {
    let mode: TracerMode
    /// What the tracer saw, so the results show it really was there.
    private(set) var evidence: String = ""
    private var session: SessionThread?
    private var dumps: [TcpdumpProcess] = []

    init(mode: TracerMode, wiring: DUTWiring, rxHook: RxHookPolicy = .auto) throws {
        self.mode = mode
        switch mode {
        case .none:
            return
        case .floor, .counters, .full:
            guard let bridge = wiring.bridge else {
                throw UserError("--with-tracer \(mode.rawValue) needs a bridge to attach to; this DUT has none")
            }
            session = try SessionThread(bridge: bridge, mode: mode, rxHook: rxHook)
        case .tcpdump:
            guard !wiring.ports.isEmpty else {
                throw UserError("--with-tracer tcpdump needs DUT ports to listen on; this DUT has none")
            }
            do {
                for port in wiring.ports { dumps.append(try TcpdumpProcess(port: port)) }
            } catch {
                _ = detach()
                throw error
            }
        }
    }

    /// Idempotent.
    @discardableResult
    func detach() -> String {
        if let session {
            evidence = session.stop()
            self.session = nil
        }
        if !dumps.isEmpty {
            evidence = dumps.map { $0.stop() }.joined(separator: "; ")
            dumps = []
        }
        return evidence
    }

    deinit { detach() }
}

/// A WatchSession that lives on one thread in the bridge's namespace from attach to
/// detach, and, for the full tracer, a drain that decodes and renders every event.
private final class SessionThread: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private let stopRequest = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var failure: Error?
    private var summary = ""

    init(bridge: Endpoint, mode: TracerMode, rxHook: RxHookPolicy) throws {
        let thread = Thread { [self] in
            if mode == .floor {
                floorBody(bridge: bridge, rxHook: rxHook)
            } else {
                body(bridge: bridge, events: mode == .full, rxHook: rxHook)
            }
        }
        thread.name = "bench-tracer"
        thread.start()
        ready.wait()
        if let failure {
            finished.wait()
            throw failure
        }
    }

    /// Empty programs on the same hooks: the floor under `counters` and `full`.
    private func floorBody(bridge: Endpoint, rxHook: RxHookPolicy) {
        defer { finished.signal() }
        guard let floor = attached(in: bridge, {
            try HookFloor(request: WatchRequest(bridge: bridge.interface, netns: bridge.namespace, rxHook: rxHook))
        }) else { return }
        ready.signal()
        stopRequest.wait()
        summary = "empty programs on " + floor.ports.map {
            "\($0.name) (rx at \($0.rxHook.rawValue), tc via \($0.tcAttachment.rawValue))"
        }.joined(separator: ", ")
        floor.close()
    }

    /// Enters the bridge's namespace and attaches; on failure, hands the error to `init`.
    private func attached<Value>(in bridge: Endpoint, _ attach: () throws -> Value) -> Value? {
        do {
            try NetworkNamespace.enter(named: bridge.namespace)
            return try attach()
        } catch {
            failure = error
            ready.signal()
            return nil
        }
    }

    private func body(bridge: Endpoint, events: Bool, rxHook: RxHookPolicy) {
        defer { finished.signal() }
        guard let (session, pipeline) = attached(in: bridge, { () throws -> (WatchSession, EventPipeline?) in
            // The full tracer is what `diagnose` runs: every frame an event, and kernel
            // drops with their events, when this kernel can trace them.
            let session = try WatchSession(request: WatchRequest(bridge: bridge.interface, netns: bridge.namespace, rxHook: rxHook),
                                           events: events ? EventOptions(trace: .everyFrame) : nil,
                                           drops: events ? DropOptions(events: true, required: false) : nil)
            guard events else { return (session, nil) }
            // Every frame rendered as `trace --json` renders it, and every drop decoded, then
            // thrown away: the real command's output would go to a file or a pipe; the
            // decoding and rendering are the CPU it costs.
            let pipeline = EventPipeline(source: try EventSource(session: session),
                                         sinks: [TraceOutputSink(format: .json, output: .discard, wallClockOffsetNs: 0)])
            try pipeline.start()
            return (session, pipeline)
        }) else { return }
        ready.signal()
        stopRequest.wait()
        pipeline?.stop()
        var parts: [String] = []
        if let snapshot = try? session.snapshot() {
            for port in snapshot.ports {
                parts.append("\(port.port): rx \(port.rx[.frames]) tx \(port.tx[.frames]) (rx at \(port.rxHook.rawValue), tc via \(port.tcAttachment.rawValue))")
            }
            if let pipeline { parts.append("\(pipeline.frames) events rendered, \(snapshot.lostEvents) lost") }
        }
        if let pipeline, let hook = session.drops?.hook {
            parts.append("drops traced at \(hook.rawValue): \(pipeline.drops) drop events")
        }
        if let note = session.dropNote { parts.append(note) }
        session.close()
        summary = parts.joined(separator: ", ")
    }

    func stop() -> String {
        stopRequest.signal()
        finished.wait()
        return summary
    }
}
