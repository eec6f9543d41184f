/// One in-band VLAN tag: its TPID and the fields of its TCI.
public struct VLANTag: Hashable, Sendable {
    /// 0x8100 (802.1Q), 0x88a8 (802.1ad service tag) or 0x9100 (pre-standard QinQ).
    public var tpid: UInt16
    public var vid: UInt16
    public var pcp: UInt8
    /// Drop eligible indicator (formerly CFI).
    public var dei: Bool

    public init(tpid: UInt16, vid: UInt16, pcp: UInt8 = 0, dei: Bool = false) {
        self.tpid = tpid
        self.vid = vid & 0x0fff
        self.pcp = pcp & 0x7
        self.dei = dei
    }

    /// From the tag control information as on the wire.
    public init(tpid: UInt16, tci: UInt16) {
        self.init(tpid: tpid, vid: tci & 0x0fff, pcp: UInt8(truncatingIfNeeded: tci >> 13), dei: tci & 0x1000 != 0)
    }

    public var tci: UInt16 { UInt16(pcp) << 13 | (dei ? 0x1000 : 0) | vid }

    public static let tpid8021Q: UInt16 = 0x8100
    public static let tpid8021AD: UInt16 = 0x88a8
    public static let tpidQinQLegacy: UInt16 = 0x9100

    /// Whether an EtherType announces a VLAN tag.
    @inline(__always)
    public static func isTPID(_ etherType: UInt16) -> Bool {
        etherType == tpid8021Q || etherType == tpid8021AD || etherType == tpidQinQLegacy
    }
}
