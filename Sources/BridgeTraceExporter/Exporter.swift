import BridgeTraceCore
import BridgeTraceKernel
import Foundation

/// What `bridgetrace exporter` was asked to watch and where to serve.
public struct ExporterSettings: Sendable {
    public var bridges: [String]
    /// Named namespaces to watch; empty (and not `allNetns`): the exporter's own namespace.
    public var netns: [String]
    /// The exporter's own namespace and every named one, including ones created later.
    public var allNetns: Bool
    public var listen: ListenAddress
    public var collector: CollectorSettings

    public init(bridges: [String], netns: [String], allNetns: Bool, listen: ListenAddress, collector: CollectorSettings) {
        self.bridges = bridges
        self.netns = netns
        self.allNetns = allNetns
        self.listen = listen
        self.collector = collector
    }

    /// The namespaces to watch now: nil is the exporter's own. Pure.
    public func namespaces(available: [String]) -> [String?] {
        if allNetns { return [nil] + available.filter { !netns.contains($0) } + netns }
        return netns.isEmpty ? [nil] : netns
    }
}

/// The exporter: the HTTP server, bound first in the namespace it was started in, then one
/// collector per namespace. With --all-netns, `rescan()` follows namespaces as they come and
/// go, and retries those another bridgetrace held.
public final class Exporter {
    public let settings: ExporterSettings
    public let metrics = ExporterMetrics()
    public let server: MetricsServer
    private var collectors: [String?: NamespaceCollector] = [:]
    /// Namespaces that could not be watched, with the reason last logged (to log changes only).
    private var skipped: [String: String] = [:]
    private let log: @Sendable (String) -> Void

    public init(settings: ExporterSettings, log: @escaping @Sendable (String) -> Void) throws {
        self.settings = settings
        self.log = log
        metrics.setBuildInfo(BuildInfo.current())
        server = try MetricsServer(address: settings.listen, metrics: metrics)
        for namespace in settings.namespaces(available: NetworkNamespace.available()) {
            do {
                collectors[namespace] = try start(namespace)
            } catch {
                // Named on the command line: the operator must hear it now. Found by
                // --all-netns: skip it and retry at the next rescan.
                if !settings.allNetns || (namespace.map { settings.netns.contains($0) } ?? false) {
                    stop()
                    throw error
                }
                note(namespace, error)
            }
        }
    }

    private func start(_ namespace: String?) throws -> NamespaceCollector {
        try NamespaceCollector(scope: ExporterScope(netns: namespace, bridges: settings.bridges), metrics: metrics,
                               settings: settings.collector, log: log)
    }

    private func note(_ namespace: String?, _ error: Error) {
        let key = namespace ?? ""
        let message = (error as? any OperatorError)?.message ?? "\(error)"
        if skipped[key] != message {
            log("netns \(namespace ?? "(own)"): not watched: \(message)")
            skipped[key] = message
        }
    }

    public var watchedNamespaces: [String?] { Array(collectors.keys) }

    /// --all-netns: starts collectors for new namespaces, stops those of deleted ones.
    public func rescan() {
        guard settings.allNetns else { return }
        let wanted = settings.namespaces(available: NetworkNamespace.available())
        for namespace in collectors.keys where !wanted.contains(namespace) {
            collectors.removeValue(forKey: namespace)?.stop()
            log("netns \(namespace ?? "(own)"): gone, no longer watched")
        }
        for namespace in wanted where collectors[namespace] == nil {
            do {
                collectors[namespace] = try start(namespace)
                skipped[namespace ?? ""] = nil
                log("netns \(namespace ?? "(own)"): now watched")
            } catch {
                note(namespace, error)
            }
        }
    }

    /// A collector that stopped on its own (its namespace was deleted under it), if any.
    public var failedCollector: String? {
        collectors.values.lazy.compactMap { collector in collector.failed.map { "\(collector.place): \($0)" } }.first
    }

    /// Detaches everything and stops serving. Idempotent.
    public func stop() {
        for collector in collectors.values { collector.stop() }
        collectors.removeAll()
        server.close()
    }
}
