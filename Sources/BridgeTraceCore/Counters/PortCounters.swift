/// Counters of one direction of one port: the `struct bt_counters` slots summed over
/// CPUs, plus frames per outer VLAN ID.
public struct DirectionCounters: Equatable, Sendable {
    public var slots: [UInt64]
    public var vlanFrames: [UInt16: UInt64]

    public init(slots: [UInt64] = Array(repeating: 0, count: CounterKind.slotCount),
                vlanFrames: [UInt16: UInt64] = [:]) {
        precondition(slots.count == CounterKind.slotCount, "bt_counters has \(CounterKind.slotCount) slots")
        self.slots = slots
        self.vlanFrames = vlanFrames
    }

    public subscript(kind: CounterKind) -> UInt64 {
        get { slots[kind.slot] }
        set { slots[kind.slot] = newValue }
    }

    /// Adds one CPU's copy of `struct bt_counters`.
    public mutating func add(cpuSlots: UnsafeBufferPointer<UInt64>) {
        for index in 0..<min(slots.count, cpuSlots.count) {
            slots[index] &+= cpuSlots[index]
        }
    }

    /// `self - earlier`, clamped at zero: the kernel counters only grow while attached.
    public func since(_ earlier: DirectionCounters) -> DirectionCounters {
        var delta = DirectionCounters()
        for index in slots.indices {
            delta.slots[index] = slots[index] >= earlier.slots[index] ? slots[index] - earlier.slots[index] : 0
        }
        for (vid, frames) in vlanFrames {
            let before = earlier.vlanFrames[vid] ?? 0
            delta.vlanFrames[vid] = frames >= before ? frames - before : 0
        }
        return delta
    }
}

/// Where a port's `rx` is counted. XDP is preferred; tc ingress is used when XDP is held
/// by a program bridgetrace must not displace, or cannot be attached (MTU, driver).
public enum RxHook: String, Sendable, Equatable {
    case xdp
    case tc
}

/// How a port's tc programs are attached: tcx links (gone when the tracer exits, even on
/// SIGKILL) or clsact filters (kernels without tcx; a killed run leaves them behind).
public enum TCAttachment: String, Sendable, Equatable {
    case tcx
    case clsact
}

/// Which hook counts `rx`, as the operator asked (`--rx-hook`).
public enum RxHookPolicy: String, Sendable, CaseIterable {
    /// XDP, except on veth: there XDP makes the driver copy every skb it receives
    /// (veth_xdp_rcv_skb needs 256 bytes of headroom, which locally built skbs lack), so
    /// tc ingress sees the same frames at a fraction of the cost.
    case auto
    case xdp
    case tc

    public func preferred(forLinkKind kind: String?) -> RxHook {
        switch self {
        case .xdp: return .xdp
        case .tc: return .tc
        case .auto: return kind == "veth" ? .tc : .xdp
        }
    }
}

/// Drops on one port, by the kernel's reason name.
public struct PortDrops: Equatable, Sendable {
    public var reasons: [String: UInt64]

    public init(reasons: [String: UInt64] = [:]) {
        self.reasons = reasons
    }

    public var total: UInt64 { reasons.values.reduce(0, &+) }
}

public struct PortCounters: Equatable, Sendable {
    public var port: String
    public var ifindex: Int32
    public var rxHook: RxHook
    /// Why rx is not on XDP, when it is not (shown to the operator).
    public var rxHookNote: String?
    /// How the tc hooks are attached (`tc_attach` in JSON).
    public var tcAttachment: TCAttachment
    public var rx: DirectionCounters
    public var tx: DirectionCounters
    public var drops: PortDrops

    public init(port: String, ifindex: Int32, rxHook: RxHook = .xdp, rxHookNote: String? = nil,
                tcAttachment: TCAttachment = .tcx,
                rx: DirectionCounters = .init(), tx: DirectionCounters = .init(),
                drops: PortDrops = .init()) {
        self.port = port
        self.ifindex = ifindex
        self.rxHook = rxHook
        self.rxHookNote = rxHookNote
        self.tcAttachment = tcAttachment
        self.rx = rx
        self.tx = tx
        self.drops = drops
    }

    public subscript(direction: Direction) -> DirectionCounters {
        get { direction == .rx ? rx : tx }
        set { if direction == .rx { rx = newValue } else { tx = newValue } }
    }
}

/// One reading of every watched port, as `counters` prints it.
public struct CountersSnapshot: Equatable, Sendable {
    public var time: Double  // seconds since 1970
    public var bridge: String
    public var netns: String?
    public var ports: [PortCounters]
    public var lostEvents: UInt64
    /// What runs another way than designed on this kernel (fallbacks), one line each.
    public var degraded: [String]

    public init(time: Double, bridge: String, netns: String?, ports: [PortCounters], lostEvents: UInt64 = 0,
                degraded: [String] = []) {
        self.time = time
        self.bridge = bridge
        self.netns = netns
        self.ports = ports
        self.lostEvents = lostEvents
        self.degraded = degraded
    }
}
