import BridgeTraceCore
import Foundation

/// `counters`: the counting programs on every watched port, kept in step with the bridge.
///
/// Netns-bound work (netlink, attach) must happen on the thread that entered the
/// namespace: create, refresh and close the session from that one thread.
public final class CounterSession {
    public let request: WatchRequest
    private let lock: InstanceLock
    private let object: BPFObject
    private let programs: PortPrograms
    private let maps: CounterMaps
    private var attached: [Int32: AttachedPort] = [:]
    /// Stale programs removed at start (a previous run was killed).
    public private(set) var removedStale: [String] = []

    public init(request: WatchRequest) throws {
        self.request = request
        lock = try InstanceLock(netnsInode: NetworkNamespace.currentInode())
        let links = try NetlinkLinks.dump()
        let ports = try request.resolve(in: links)
        removedStale = StaleProgramCleanup.run(links: links.map { ($0.name, $0.ifindex) })
        object = try BPFObject(embedded: .counters)
        try object.load()
        programs = try PortPrograms(object: object)
        maps = try CounterMaps(object: object)
        do {
            for port in ports { try attach(port) }
        } catch {
            close()
            throw error
        }
    }

    private func attach(_ link: NetLink) throws {
        try maps.reset(ifindex: link.ifindex)
        attached[link.ifindex] = try AttachedPort(name: link.name, ifindex: link.ifindex, programs: programs)
    }

    public var ports: [AttachedPort] {
        attached.values.sorted { $0.name < $1.name }
    }

    /// Picks up ports that joined and forgets ports that left; returns what changed, for
    /// the operator. A port that vanishes is not an error: a VM was shut down.
    @discardableResult
    public func refresh() throws -> [String] {
        let links = try NetlinkLinks.dump()
        let wanted = (try? request.resolve(in: links)) ?? []
        var changes: [String] = []
        let wantedIndexes = Set(wanted.map(\.ifindex))
        for (ifindex, port) in attached where !wantedIndexes.contains(ifindex) {
            port.detach()
            attached[ifindex] = nil
            changes.append("\(port.name): port left, no longer watched")
        }
        for link in wanted where attached[link.ifindex] == nil {
            do {
                try attach(link)
                changes.append("\(link.name): new port, now watched")
            } catch let error as UserError {
                changes.append("\(link.name): new port, cannot watch it: \(error.message)")
            }
        }
        return changes
    }

    public func snapshot(lostEvents: UInt64 = 0) throws -> CountersSnapshot {
        var portCounters: [PortCounters] = []
        for port in ports {
            let (rx, tx) = try maps.read(ifindex: port.ifindex)
            portCounters.append(PortCounters(port: port.name, ifindex: port.ifindex, rxHook: port.rxHook,
                                             rxHookNote: port.rxHookNote, rx: rx, tx: tx))
        }
        return CountersSnapshot(time: Date().timeIntervalSince1970, bridge: request.bridge ?? "",
                                netns: request.netns, ports: portCounters, lostEvents: lostEvents)
    }

    /// Detaches everything this session attached. Idempotent.
    public func close() {
        for port in attached.values { port.detach() }
        attached.removeAll()
    }

    deinit {
        close()
    }
}
