public struct UDPInfo: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// The length field: header and payload.
    public var length: UInt16

    public init(sourcePort: UInt16, destinationPort: UInt16, length: UInt16) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
    }
}

public struct TCPInfo: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// The nine flag bits (FIN = 0x01 ... NS = 0x100).
    public var flags: UInt16
    /// Data offset in bytes.
    public var headerLength: Int

    public init(sourcePort: UInt16, destinationPort: UInt16, flags: UInt16, headerLength: Int = 20) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.flags = flags
        self.headerLength = headerLength
    }
}

/// An 802.3 frame's LLC header (EtherType field ≤ 1500 is a length). STP BPDUs are
/// DSAP = SSAP = 0x42.
public struct LLCHeader: Hashable, Sendable {
    public var dsap: UInt8
    public var ssap: UInt8
    public var control: UInt8

    public init(dsap: UInt8, ssap: UInt8, control: UInt8) {
        self.dsap = dsap
        self.ssap = ssap
        self.control = control
    }

    public var isSTP: Bool { dsap == 0x42 && ssap == 0x42 }
}
