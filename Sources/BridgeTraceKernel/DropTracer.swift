import BridgeTraceCore
import CBridgeTraceABI
import Foundation

/// Which kernel hook the drop program is attached to.
public enum DropHook: String, Sendable, CaseIterable {
    /// `tp_btf/kfree_skb`: BTF-typed, the cheapest.
    case tpBTF = "tp_btf"
    /// `raw_tp/kfree_skb`: where BTF-typed tracing cannot attach.
    case rawTP = "raw_tp"
}

/// What the caller wants from the drop tracer.
public struct DropOptions: Sendable {
    /// nil: tp_btf, falling back to raw_tp. Set: only that hook.
    public var hook: DropHook?
    /// Also emit one event per drop into the ring buffer (with the frame's first bytes).
    public var events: Bool
    /// Fail the session when drops cannot be traced (the `drops` command); otherwise
    /// carry on without them and say so (`counters`).
    public var required: Bool

    public init(hook: DropHook? = nil, events: Bool = false, required: Bool = true) {
        self.hook = hook
        self.events = events
        self.required = required
    }
}

/// Kernel drops (kfree_skb with a drop reason) on the watched ports of one network
/// namespace: counts per (port, reason, location), and optionally one event per drop.
///
/// The program is attached to a kernel tracepoint through a bpf_link owned by this
/// process: it is detached when the tracer closes or the process dies, even by SIGKILL,
/// so nothing can be left behind.
public final class DropTracer {
    public let object: BPFObject
    public let hook: DropHook
    /// Why the preferred hook was not used, for the operator; nil when it was.
    public let hookNote: String?
    public let reasons: DropReasonNames
    public let symbols: KernelSymbolCache
    private var link: BPFLink?
    private let portsMap: BPFMap
    private let bigPortsMap: BPFMap
    private let countsMap: BPFMap
    private let lostMap: BPFMap
    private(set) var watched: Set<Int32> = []

    static let lostEventsSlot = UInt32(BT_DROP_LOST_EVENTS)
    static let lostKeysSlot = UInt32(BT_DROP_LOST_KEYS)

    /// Loads and attaches. `netnsInode` is the namespace whose devices count (0: any).
    public init(netnsInode: UInt64, options: DropOptions = DropOptions(),
                symbols: KernelSymbolCache = KernelSymbolCache()) throws {
        reasons = try DropReasonNames.loadFromKernel()
        self.symbols = symbols
        var config = bt_drop_config()
        config.netns_inum = netnsInode
        let ignored = reasons.ignored.prefix(Int(BT_DROP_IGNORED_MAX))
        withUnsafeMutableBytes(of: &config.ignored) { raw in
            for (index, value) in ignored.enumerated() { raw.storeBytes(of: value, toByteOffset: index * 4, as: UInt32.self) }
        }
        config.ignored_count = UInt32(ignored.count)
        config.events = options.events ? 1 : 0

        let order: [DropHook] = options.hook.map { [$0] } ?? [.tpBTF, .rawTP]
        var failures: [String] = []
        var loaded: (BPFObject, BPFLink, DropHook)?
        for hook in order {
            do {
                let spec = try BPFObjectSpec(embedded: .drops)
                try spec.setReadOnly("bt_drop_cfg", to: config)
                // Only the program for `hook` is loaded: a kernel that refuses tp_btf
                // would otherwise fail the whole object.
                for candidate in DropHook.allCases {
                    try spec.setAutoload(program: Self.programName(candidate), candidate == hook)
                }
                let object = try spec.load()
                let link = try Self.attach(object, hook)
                loaded = (object, link, hook)
                break
            } catch let error as any OperatorError {
                failures.append("\(hook.rawValue): \(error.message)")
            }
        }
        guard let (object, link, hook) = loaded else {
            throw UserError("cannot trace kernel drops (kfree_skb): " + failures.joined(separator: "; "))
        }
        self.object = object
        self.link = link
        self.hook = hook
        hookNote = failures.isEmpty ? nil : "drops traced at \(hook.rawValue)/kfree_skb: " + failures.joined(separator: "; ")
        portsMap = try object.map("bt_drop_ports")
        bigPortsMap = try object.map("bt_drop_big_ports")
        countsMap = try object.map("bt_drop_counts")
        lostMap = try object.map("bt_drop_lost")
    }

    static func programName(_ hook: DropHook) -> String {
        hook == .tpBTF ? "bt_drop_btf" : "bt_drop_raw"
    }

    private static func attach(_ object: BPFObject, _ hook: DropHook) throws -> BPFLink {
        let program = try object.program(programName(hook))
        LibBPFLog.clear()
        return hook == .tpBTF ? try program.attach(hook: "tp_btf/kfree_skb") : try program.attachRawTracepoint("kfree_skb")
    }

    /// Starts counting drops on `ifindex` (counts from earlier watches are kept).
    public func watch(ifindex: Int32) throws {
        let key = UInt32(bitPattern: ifindex)
        if key < UInt32(BT_DIRECT_IFINDEX_MAX) {
            try portsMap.update(key, bytes: [1] + [UInt8](repeating: 0, count: portsMap.lookupSize - 1))
        } else {
            try bigPortsMap.update(key, bytes: [1] + [UInt8](repeating: 0, count: bigPortsMap.lookupSize - 1))
        }
        watched.insert(ifindex)
    }

    public func unwatch(ifindex: Int32) {
        let key = UInt32(bitPattern: ifindex)
        if key < UInt32(BT_DIRECT_IFINDEX_MAX) {
            try? portsMap.update(key, bytes: [UInt8](repeating: 0, count: portsMap.lookupSize))
        } else {
            bigPortsMap.delete(key)
        }
        watched.remove(ifindex)
    }

    /// Raw totals since attach, summed over CPUs: (ifindex, reason, location) -> drops.
    public func rawCounts() throws -> [(key: bt_drop_key, count: UInt64)] {
        var result: [(key: bt_drop_key, count: UInt64)] = []
        for key in countsMap.keys(as: bt_drop_key.self) {
            guard let raw = try countsMap.lookup(key) else { continue }
            result.append((key, countsMap.sum(raw)))
        }
        return result
    }

    /// Totals since attach per (port, reason, location), for the ports named in
    /// `portNames` (ifindex -> name), sorted by port, then reason, then location. Counts of
    /// one name at several addresses of one function are merged.
    public func counts(portNames: [Int32: String]) throws -> [DropCount] {
        var merged: [DropCountKey: UInt64] = [:]
        for (key, count) in try rawCounts() where count > 0 {
            let ifindex = Int32(bitPattern: key.ifindex)
            guard let port = portNames[ifindex] else { continue }
            let mergedKey = DropCountKey(port: port, ifindex: ifindex, reason: reasons.name(of: key.reason),
                                         location: symbols.name(of: key.location))
            merged[mergedKey, default: 0] &+= count
        }
        return merged.map { DropCount(port: $0.key.port, ifindex: $0.key.ifindex, reason: $0.key.reason,
                                      location: $0.key.location, count: $0.value) }
            .sorted { ($0.port, $0.reason, $0.location) < ($1.port, $1.reason, $1.location) }
    }

    /// Drop events the ring buffer had no room for, since load.
    public func lostEvents() throws -> UInt64 {
        try lostSlot(Self.lostEventsSlot)
    }

    /// Drops not counted because the counts hash was full (BT_DROP_KEYS_MAX keys).
    public func lostCounts() throws -> UInt64 {
        try lostSlot(Self.lostKeysSlot)
    }

    private func lostSlot(_ slot: UInt32) throws -> UInt64 {
        try lostMap.lookupSum(slot)
    }

    /// Detaches the program. Idempotent.
    public func close() {
        link?.detach()
        link = nil
    }

    deinit {
        close()
    }
}

private struct DropCountKey: Hashable {
    var port: String
    var ifindex: Int32
    var reason: String
    var location: String
}
