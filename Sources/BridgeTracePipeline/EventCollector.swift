import BridgeTraceCore
import Synchronization

/// `diagnose`'s sink: keeps the decoded events and drops for the rules, bounded so a
/// flood cannot eat memory or outrun the reader. Drops of frames the rules do not follow
/// (not ARP, ICMP, DHCP or tagged: background UDP dropped by a fault, often hundreds of
/// thousands a second) are kept one by one only up to `perKeyBudget` per (port, reason,
/// location); past that they are refused from their header, before any decoding, so the
/// reader keeps up with the kernel. The kernel's drop counts (exact, lost events
/// included) say how many there were: see `notKept`.
public final class EventCollector: EventSink, @unchecked Sendable {
    public static let limit = 1_000_000
    public static let perKeyBudget = 1_000

    struct DropKey: Hashable { var ifindex: Int32; var reason: UInt32; var location: UInt64 }

    private struct State {
        var events: [TraceEvent] = []
        var drops: [DropRecord] = []
        var overflow = 0
        var kept: [DropKey: Int] = [:]
    }

    // Frames and drops arrive on two drain threads.
    private let state = Mutex<State>(State())

    public init() {}

    public func add(_ event: borrowing TraceEventView) {
        // A switch's drop events arrive in the frame ring: they are drops for the rules.
        if let reason = event.dropReason {
            return add(DropRecord(monotonicNs: event.monotonicNs, ifindex: event.ifindex, port: event.port,
                                  reason: reason, location: event.dropLocation ?? "", length: event.length,
                                  bytes: Array(event.bytes)))
        }
        state.withLock {
            if $0.events.count < EventCollector.limit { $0.events.append(TraceEvent(event)) } else { $0.overflow += 1 }
        }
    }

    public func wantsDrop(_ header: DropEventRecord.Header, data: UnsafeRawBufferPointer) -> Bool {
        let key = DropKey(ifindex: header.ifindex, reason: header.reason, location: header.location)
        let followed = DropEventRecord.isFollowedKind(data)
        return state.withLock {
            if !followed, $0.kept[key, default: 0] >= EventCollector.perKeyBudget { return false }
            $0.kept[key, default: 0] += 1
            return true
        }
    }

    public func add(_ drop: DropRecord) {
        state.withLock {
            if $0.drops.count < EventCollector.limit { $0.drops.append(drop) } else { $0.overflow += 1 }
        }
    }

    public var events: [TraceEvent] { state.withLock { $0.events } }
    public var drops: [DropRecord] { state.withLock { $0.drops } }
    /// Events and drops received past the limit, and not kept.
    public var overflow: UInt64 { UInt64(state.withLock { $0.overflow }) }

    /// The kernel's drop counts less the drops kept one by one, per (port, reason,
    /// location): drops past the budget and drop events the ring buffer lost.
    public static func notKept(_ counts: [DropCount], kept: [DropRecord]) -> [DropCount] {
        var keptCounts: [String: UInt64] = [:]
        for drop in kept { keptCounts[drop.port + "\u{0}" + drop.reason + "\u{0}" + drop.location, default: 0] += 1 }
        return counts.compactMap { count in
            let have = keptCounts[count.port + "\u{0}" + count.reason + "\u{0}" + count.location] ?? 0
            guard count.count > have else { return nil }
            var rest = count
            rest.count -= have
            return rest
        }
    }
}
