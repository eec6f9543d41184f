/// What `FrameDecoder` read from one frame's bytes. Plain values: no text is made until
/// a formatter asks for it. Every field is optional past what the capture reached;
/// `truncated` says a header was cut.
public struct DecodedFrame: Hashable, Sendable {
    public var dstMAC: MACAddress?
    public var srcMAC: MACAddress?
    /// In-band tags, outermost first.
    public var vlans: VLANTags
    /// The EtherType after the tags; nil when the capture ends before it. A value ≤ 1500
    /// is an 802.3 length (see `llc`).
    public var etherType: UInt16?
    public var kind: EventKind
    public var llc: LLCHeader?
    public var arp: ARPInfo?
    public var ipv4: IPv4Info?
    public var ipv6: IPv6Info?
    /// The protocol the IP payload carries: IPv4's protocol field, or IPv6's last next
    /// header after the extension headers. Nil when not reached.
    public var ipProtocol: UInt8?
    /// Bytes after the IP header (and IPv6 extension headers), as the IP header declares
    /// them, or as captured when it declares none.
    public var ipPayloadLength: Int?
    public var icmp: ICMPInfo?
    public var udp: UDPInfo?
    public var tcp: TCPInfo?
    public var dhcp: DHCPInfo?
    /// A header the decoder needed ended past the captured bytes.
    public var truncated: Bool

    public init(dstMAC: MACAddress? = nil, srcMAC: MACAddress? = nil, vlans: VLANTags = VLANTags(),
                etherType: UInt16? = nil, kind: EventKind = .other, llc: LLCHeader? = nil,
                arp: ARPInfo? = nil, ipv4: IPv4Info? = nil, ipv6: IPv6Info? = nil,
                ipProtocol: UInt8? = nil, ipPayloadLength: Int? = nil, icmp: ICMPInfo? = nil,
                udp: UDPInfo? = nil, tcp: TCPInfo? = nil, dhcp: DHCPInfo? = nil, truncated: Bool = false) {
        self.dstMAC = dstMAC
        self.srcMAC = srcMAC
        self.vlans = vlans
        self.etherType = etherType
        self.kind = kind
        self.llc = llc
        self.arp = arp
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.ipProtocol = ipProtocol
        self.ipPayloadLength = ipPayloadLength
        self.icmp = icmp
        self.udp = udp
        self.tcp = tcp
        self.dhcp = dhcp
        self.truncated = truncated
    }

    /// Nothing decoded yet: what a decode starts from, built where it is stored (the
    /// decoder fills a frame in place).
    @inline(__always)
    public init() {
        self.init(dstMAC: nil)
    }

    public var isTagged: Bool { !vlans.isEmpty }

    /// The outer tag's VID, as the per-VLAN counters key it.
    public var outerVLAN: UInt16? { vlans.first?.vid }

    public var sourceIP: IPAddress? {
        if let ipv4 { return .v4(ipv4.source) }
        if let ipv6 { return .v6(ipv6.source) }
        return nil
    }

    public var destinationIP: IPAddress? {
        if let ipv4 { return .v4(ipv4.destination) }
        if let ipv6 { return .v6(ipv6.destination) }
        return nil
    }

    public var sourcePort: UInt16? { udp?.sourcePort ?? tcp?.sourcePort }
    public var destinationPort: UInt16? { udp?.destinationPort ?? tcp?.destinationPort }

    /// An IP fragment other than the first: it carries no transport header.
    public var isNonFirstFragment: Bool {
        if let ipv4, ipv4.fragmentOffset != 0 { return true }
        if let offset = ipv6?.fragment?.offset, offset != 0 { return true }
        return false
    }
}
