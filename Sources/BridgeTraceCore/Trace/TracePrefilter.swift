import CBridgeTraceABI

/// The kernel half of a `trace FILTER`: conditions cheap enough for the BPF programs
/// (`struct bt_trace_config`: event kinds, one IPv4 host, one MAC, the outer VID) that
/// every frame the full libpcap filter accepts also passes. The kernel may drop any frame
/// that fails them; the libpcap filter still runs on every event in userspace. It is never
/// wrong, only less selective: whatever is not understood constrains nothing.
///
/// ## The kernel it is sound against (bpf/classify.bpf.h, bpf/events.bpf.h)
/// - Tags: the kernel walks in-band tags whose TPID is in `kernelTagTPIDs` (two at XDP;
///   one offloaded plus two at tc). The outer tag's VID is `vlan_id`.
/// - Kind, from the protocol after the tags: ARP (0x0806) is `arp` whatever its body;
///   IPv4 is `icmp` or `dhcp` (UDP 67<->68) only when the header fits, IHL >= 5 and it is
///   a first fragment, otherwise "other"; IPv6 is `icmp6` only when the fixed header fits
///   and next header is 58; "other" becomes `vlan` when the frame is tagged.
/// - Host: IPv4 source/destination when the IPv4 header fits (fragments too); ARP
///   sender/target only for Ethernet/IPv4 ARP (hlen 6, plen 4); never RARP.
/// - MAC: Ethernet source or destination.
///
/// Tests/BridgeTracePcapTests/KernelPrefilterModel.swift is a copy of that code; a
/// property test checks, over random frames and expressions, that libpcap never accepts
/// a frame the kernel would drop. The one gap left is a runt cut inside a tag or the IPv4
/// addresses (under 42 bytes, below Ethernet's minimum), which the kernel reads as whole
/// headers and libpcap field by field.
///
/// ## Rules
/// Each libpcap primitive gives a necessary condition, in the kernel's terms:
/// - `arp` → kind arp. `icmp` → icmp or the fallback kind (libpcap's `icmp` is `ip proto
///   1`, which also matches later fragments, which the kernel calls "other"). `icmp6` →
///   icmp6 or fallback. `ip` → icmp, dhcp or fallback. `ip6` → icmp6 or fallback. `udp`,
///   `port N`, `udp port N` → dhcp or fallback (`port 67` is no proof of DHCP: the kernel's
///   DHCP is 67<->68 exactly). `tcp`, `sctp`, `rarp` → fallback. The fallback kind is
///   `other`, or `vlan` for a primitive that looks behind a tag.
/// - `host A.B.C.D` (also `src host`, `dst host`, `src or dst host`, `ip host`, `ip src`)
///   → kinds of IPv4/ARP/RARP, and "if the kernel sees IPv4, A.B.C.D is its source or
///   destination". That becomes the kernel's host condition only where the expression also
///   proves IPv4 (`ip`, `icmp`, `ip host`) on every branch: ARP with odd address sizes,
///   and RARP, carry no host the kernel sees. A branch that is never IPv4 (`arp`, `ip6`)
///   does not stand in the way: `(arp or host X) and ip` keeps X. `host 0.0.0.0`
///   constrains nothing (0 means "any" to the kernel); `host 10.0.0` (a network) neither.
/// - `ether host|src|dst MAC` → the MAC (the kernel accepts it as source or destination,
///   a superset). It does not depend on tags.
/// - `vlan [N]` → the frame is tagged: any kind but "other"; `vlan N` as the first `vlan`
///   of the expression also gives the outer VID N. Only while the kernel walks every TPID
///   libpcap's `vlan` accepts (see `kernelTagTPIDs`); until then `vlan`, and whatever
///   stands behind it, constrain nothing.
/// - `and` intersects kinds (none = all) and keeps a host, MAC or VID from either side;
///   `or` unites kinds (none if either side has none) and keeps a host, MAC or VID only
///   when both sides require the same; `not` and anything else constrain nothing. As in
///   libpcap, `and` and `or` bind equally, left to right: `a or b and c` is
///   `(a or b) and c`.
/// - Tags: each `vlan` keyword moves libpcap's offsets for the rest of the text. A
///   primitive behind `d` of them is used only when all `d` are `and`-ed with it (so the
///   frame really has `d` tags there, which the kernel also walks), and `d` is at most 2;
///   with `d` > 2 only "tagged" is kept. `mpls`, `pppoes`, `geneve` and `vxlan` turn the
///   whole prefilter off.
public struct TracePrefilter: Equatable, Sendable, CustomStringConvertible {
    /// The frame kinds of `enum bt_kind` (drops are not frames: see `kindsMask`).
    public enum Kind: String, CaseIterable, Comparable, Sendable, CustomStringConvertible {
        case arp, icmp, icmp6, dhcp, vlan, other

        /// The same kind as a trace event's (EventKind holds the `enum bt_kind` mapping).
        public var eventKind: EventKind { EventKind(rawValue: rawValue)! }

        /// BT_KIND_BIT(kind).
        public var abiBit: UInt32 { eventKind.abiBit }

        public var description: String { rawValue }

        public static func < (a: Kind, b: Kind) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }

        /// A tagged frame is never "other": its fallback kind is `vlan`.
        public static let tagged: Set<Kind> = [.arp, .icmp, .icmp6, .dhcp, .vlan]
    }

    /// Kinds that can match; nil = any.
    public var kinds: Set<Kind>?
    /// IPv4 address (4 bytes, as on the wire) that must be the source or destination of
    /// an IPv4 frame, or the sender or target of an ARP frame.
    public var hostIPv4: [UInt8]?
    /// Ethernet address (6 bytes) that must be the source or destination.
    public var mac: [UInt8]?
    /// Outer VID the frame must carry.
    public var vlanID: UInt16?

    public init(kinds: Set<Kind>? = nil, hostIPv4: [UInt8]? = nil, mac: [UInt8]? = nil, vlanID: UInt16? = nil) {
        self.kinds = kinds
        self.hostIPv4 = hostIPv4
        self.mac = mac
        self.vlanID = vlanID
    }

    /// No constraint.
    public static let none = TracePrefilter()

    /// TPIDs that libpcap's `vlan` accepts as a tag.
    public static let libpcapTagTPIDs: Set<UInt16> = [0x8100, 0x88A8, 0x9100]
    /// TPIDs that bt_classify walks as tags; a test keeps this equal to
    /// bpf/classify.bpf.h. While it lacks one of `libpcapTagTPIDs` (0x9100 today), `vlan`
    /// gives no prefilter, nor does anything behind it: a 0x9100 frame that libpcap sees
    /// as tagged looks untagged, kind "other", to the kernel. Walk 0x9100 in bt_classify
    /// too and add it here to get the VID and the kinds behind `vlan` into the kernel.
    public static let kernelTagTPIDs: Set<UInt16> = [0x8100, 0x88A8, 0x9100]

    public var isUnconstrained: Bool { self == .none }

    /// The prefilter of a pcap-filter expression (no constraint when empty or not
    /// understood). Does not validate: compile the expression with libpcap for that.
    /// `kernelTagTPIDs` is there for tests of a kernel that walks other tags.
    public static func derive(from expression: String,
                              kernelTagTPIDs: Set<UInt16> = TracePrefilter.kernelTagTPIDs) -> TracePrefilter {
        guard let tree = PcapFilterSyntax.parse(expression) else { return .none }
        let derivation = Derivation(vlanModelled: libpcapTagTPIDs.isSubset(of: kernelTagTPIDs))
        return derivation.facts(tree, guaranteedTags: []).prefilter
    }

    // MARK: - The kernel's fields

    /// bt_trace_config.kinds: the prefilter's kinds within `defaultKinds` (the kinds the
    /// command traces without a filter), or `defaultKinds` when it has none. Drop events
    /// (BT_KIND_DROP) are not frames of a kind and stay as `defaultKinds` has them.
    public func kindsMask(defaultKinds: UInt32) -> UInt32 {
        guard let kinds else { return defaultKinds }
        let drop = EventKind.drop.abiBit
        return kinds.reduce(0) { $0 | $1.abiBit } & defaultKinds | defaultKinds & drop
    }

    /// bt_trace_config.host_ip: network order, 0 = any.
    public var hostIPv4NetworkOrder: UInt32 {
        guard let host = hostIPv4, host.count == 4 else { return 0 }
        let hostOrder = UInt32(host[0]) << 24 | UInt32(host[1]) << 16 | UInt32(host[2]) << 8 | UInt32(host[3])
        return hostOrder.bigEndian
    }

    /// Sets kinds, host_ip, mac/mac_set and vlan_id/vlan_set; leaves events and snaplen.
    public func apply(to config: inout bt_trace_config, defaultKinds: UInt32) {
        config.kinds = kindsMask(defaultKinds: defaultKinds)
        config.host_ip = hostIPv4NetworkOrder
        if let mac, mac.count == 6 {
            config.mac = (mac[0], mac[1], mac[2], mac[3], mac[4], mac[5])
            config.mac_set = 1
        } else {
            config.mac = (0, 0, 0, 0, 0, 0)
            config.mac_set = 0
        }
        config.vlan_id = vlanID ?? 0
        config.vlan_set = vlanID == nil ? 0 : 1
    }

    /// e.g. `kinds arp,icmp host 10.0.0.5 vlan 100`, or `none`.
    public var description: String {
        var parts: [String] = []
        if let kinds { parts.append("kinds " + (kinds.isEmpty ? "(nothing)" : kinds.sorted().map(\.description).joined(separator: ","))) }
        if let hostIPv4 { parts.append("host " + hostIPv4.map(String.init).joined(separator: ".")) }
        if let mac {
            parts.append("mac " + mac.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":"))
        }
        if let vlanID { parts.append("vlan \(vlanID)") }
        return parts.isEmpty ? "none" : parts.joined(separator: " ")
    }
}

/// The abstract interpretation behind `TracePrefilter.derive`.
struct Derivation {
    /// Whether the kernel walks every tag libpcap's `vlan` accepts.
    var vlanModelled: Bool

    /// What every frame matching a subtree is known to satisfy.
    struct Facts: Equatable {
        var kinds: Set<TracePrefilter.Kind>?
        var mac: [UInt8]?
        var vlanID: UInt16?
        /// The kernel sees the frame as IPv4 (ethertype after its tags).
        var ipv4 = false
        /// If the kernel sees the frame as IPv4, its header fits and this address is its
        /// source or destination.
        var hostIfIPv4: [UInt8]?
        /// The kernel sees another protocol than IPv4 (ARP, RARP, IPv6).
        var notIPv4 = false

        static let none = Facts()

        var prefilter: TracePrefilter {
            TracePrefilter(kinds: kinds, hostIPv4: ipv4 ? hostIfIPv4 : nil, mac: mac, vlanID: vlanID)
        }

        static func && (a: Facts, b: Facts) -> Facts {
            var out = Facts()
            switch (a.kinds, b.kinds) {
            case (nil, let k), (let k, nil): out.kinds = k
            case (let x?, let y?): out.kinds = x.intersection(y)
            }
            out.mac = a.mac ?? b.mac
            out.vlanID = a.vlanID ?? b.vlanID
            out.ipv4 = a.ipv4 || b.ipv4
            out.hostIfIPv4 = a.hostIfIPv4 ?? b.hostIfIPv4
            out.notIPv4 = a.notIPv4 || b.notIPv4
            return out
        }

        static func || (a: Facts, b: Facts) -> Facts {
            var out = Facts()
            if let x = a.kinds, let y = b.kinds { out.kinds = x.union(y) }
            out.mac = a.mac == b.mac ? a.mac : nil
            out.vlanID = a.vlanID == b.vlanID ? a.vlanID : nil
            out.ipv4 = a.ipv4 && b.ipv4
            out.notIPv4 = a.notIPv4 && b.notIPv4
            // A side that is never IPv4 says nothing against the other side's host.
            if a.neverIPv4 {
                out.hostIfIPv4 = b.hostIfIPv4
            } else if b.neverIPv4 {
                out.hostIfIPv4 = a.hostIfIPv4
            } else {
                out.hostIfIPv4 = a.hostIfIPv4 == b.hostIfIPv4 ? a.hostIfIPv4 : nil
            }
            return out
        }

        /// Another protocol than IPv4, known from the protocol or from the kinds.
        var neverIPv4: Bool {
            notIPv4 || kinds.map { $0.isSubset(of: [.arp, .icmp6]) } ?? false
        }
    }

    /// `guaranteedTags`: depths of `vlan` keywords that are `and`-ed with this subtree, so
    /// that a matching frame has a tag at each of those positions.
    func facts(_ node: PcapFilterNode, guaranteedTags: Set<Int>) -> Facts {
        switch node {
        case .and:
            let terms = conjuncts(node)
            var guaranteed = guaranteedTags
            for case .vlan(_, let depth) in terms { guaranteed.insert(depth) }
            return terms.map { facts($0, guaranteedTags: guaranteed) }.reduce(.none, &&)
        case .or(let left, let right):
            return facts(left, guaranteedTags: guaranteedTags) || facts(right, guaranteedTags: guaranteedTags)
        case .not, .unknown:
            return .none
        case .vlan(let id, let depth):
            guard vlanModelled, placed(depth, guaranteedTags) else { return .none }
            return Facts(kinds: TracePrefilter.Kind.tagged, vlanID: depth == 0 ? id : nil)
        case .primitive(let primitive, let depth):
            if case .etherHost(let mac) = primitive { return Facts(mac: mac) }
            guard depth == 0 || vlanModelled, placed(depth, guaranteedTags) else { return .none }
            if depth > 2 { return Facts(kinds: TracePrefilter.Kind.tagged) }
            return facts(primitive, tagged: depth > 0)
        }
    }

    /// Whether libpcap's offsets for a node behind `depth` tags point where the kernel
    /// looks: every one of those `vlan` keywords is guaranteed.
    func placed(_ depth: Int, _ guaranteed: Set<Int>) -> Bool {
        (0..<depth).allSatisfy(guaranteed.contains)
    }

    func conjuncts(_ node: PcapFilterNode) -> [PcapFilterNode] {
        if case .and(let left, let right) = node { return conjuncts(left) + conjuncts(right) }
        return [node]
    }

    func facts(_ primitive: PcapFilterPrimitive, tagged: Bool) -> Facts {
        let fallback: TracePrefilter.Kind = tagged ? .vlan : .other
        switch primitive {
        case .etherHost(let mac):
            return Facts(mac: mac)
        case .proto(let proto):
            switch proto {
            case .ether: return .none
            case .arp: return Facts(kinds: [.arp], notIPv4: true)
            case .rarp: return Facts(kinds: [fallback], notIPv4: true)
            case .tcp, .sctp: return Facts(kinds: [fallback])
            case .ip: return Facts(kinds: [.icmp, .dhcp, fallback], ipv4: true)
            case .icmp: return Facts(kinds: [.icmp, fallback], ipv4: true)
            case .ip6, .icmp6: return Facts(kinds: [.icmp6, fallback], notIPv4: true)
            case .udp: return Facts(kinds: [.dhcp, fallback])
            }
        case .port(let proto):
            return Facts(kinds: proto == .tcp || proto == .sctp ? [fallback] : [.dhcp, fallback])
        case .ipv4Host(let proto, let address):
            let host = address == [0, 0, 0, 0] ? nil : address
            switch proto {
            case .ip?: return Facts(kinds: [.icmp, .dhcp, fallback], ipv4: true, hostIfIPv4: host)
            case .arp?: return Facts(kinds: [.arp], notIPv4: true)
            case .rarp?: return Facts(kinds: [fallback], notIPv4: true)
            default: return Facts(kinds: [.arp, .icmp, .dhcp, fallback], hostIfIPv4: host)
            }
        }
    }
}
