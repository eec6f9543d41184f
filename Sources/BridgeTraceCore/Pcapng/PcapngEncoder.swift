/// Builds pcapng blocks (draft-ietf-opsawg-pcapng) for traced frames, with no I/O, so
/// that the bytes can be checked without a file.
///
/// One section: a Section Header Block, then for every port an Interface Description
/// Block (Ethernet, nanosecond timestamps, `if_name` = the port) written just before the
/// first packet of that port, and one Enhanced Packet Block per frame whose `epb_flags`
/// carry the direction as seen from the bridge (rx = inbound, tx = outbound). Blocks are
/// little-endian; readers find the byte order in the SHB's byte-order magic.
///
/// `encode(_:wallClockNs:)` returns complete blocks only, so a writer that hands each
/// result to one write(2) leaves a readable file whenever it stops.
public struct PcapngEncoder: Sendable {
    /// LINKTYPE_ETHERNET.
    public static let linkTypeEthernet: UInt16 = 1

    enum BlockType {
        static let sectionHeader: UInt32 = 0x0A0D_0D0A
        static let interfaceDescription: UInt32 = 0x0000_0001
        static let enhancedPacket: UInt32 = 0x0000_0006
    }

    enum Option {
        static let endOfOptions: UInt16 = 0
        static let shbUserApplication: UInt16 = 4
        static let ifName: UInt16 = 2
        static let ifDescription: UInt16 = 3
        static let ifTimestampResolution: UInt16 = 9
        static let epbFlags: UInt16 = 2
    }

    /// `epb_flags` bits 0-1: 01 inbound, 10 outbound.
    public static func directionFlags(_ direction: Direction) -> UInt32 {
        switch direction {
        case .rx: return 0b01
        case .tx: return 0b10
        }
    }

    /// The snap length written into each IDB.
    public let snaplen: UInt32
    /// When set, each IDB says "bridge NAME port PORT, ifindex N" in `if_description`.
    public let bridge: String?
    private var interfaceIDs: [InterfaceKey: UInt32] = [:]

    /// The identity of a pcapng interface: a port that is renamed or comes back with a
    /// new ifindex gets an IDB of its own.
    private struct InterfaceKey: Hashable, Sendable {
        var ifindex: Int32
        var name: String
    }

    public init(snaplen: UInt32, bridge: String? = nil) {
        self.snaplen = snaplen
        self.bridge = bridge
    }

    /// Interfaces described so far.
    public var interfaceCount: Int { interfaceIDs.count }

    /// The Section Header Block that starts the file.
    public func header() -> [UInt8] {
        Self.sectionHeaderBlock(application: "bridgetrace")
    }

    /// The blocks for one frame: an IDB first when the frame's port is new, then its EPB.
    /// `wallClockNs` is nanoseconds since the Unix epoch (UTC).
    public mutating func encode(_ frame: CapturedFrame, wallClockNs: UInt64) -> [UInt8] {
        let key = InterfaceKey(ifindex: frame.ifindex, name: frame.port)
        var out: [UInt8] = []
        let id: UInt32
        if let known = interfaceIDs[key] {
            id = known
        } else {
            id = UInt32(interfaceIDs.count)
            interfaceIDs[key] = id
            let description = bridge.map { "bridge \($0) port \(frame.port), ifindex \(frame.ifindex)" }
                ?? "ifindex \(frame.ifindex)"
            out = Self.interfaceDescriptionBlock(name: frame.port, description: description, snaplen: snaplen)
        }
        out += Self.enhancedPacketBlock(interfaceID: id, timestampNs: wallClockNs, bytes: frame.bytes,
                                        originalLength: frame.length, direction: frame.direction)
        return out
    }

    // MARK: - Blocks

    public static func sectionHeaderBlock(application: String) -> [UInt8] {
        var body = PcapngByteWriter()
        body.u32(0x1A2B_3C4D)            // byte-order magic
        body.u16(1)                      // major version
        body.u16(0)                      // minor version
        body.u64(UInt64.max)             // section length: not given (-1)
        body.option(Option.shbUserApplication, Array(application.utf8))
        body.endOfOptions()
        return block(type: BlockType.sectionHeader, body: body.bytes)
    }

    public static func interfaceDescriptionBlock(name: String, description: String?, snaplen: UInt32,
                                                 linkType: UInt16 = linkTypeEthernet) -> [UInt8] {
        var body = PcapngByteWriter()
        body.u16(linkType)
        body.u16(0)                      // reserved
        body.u32(snaplen)
        body.option(Option.ifName, Array(name.utf8))
        if let description { body.option(Option.ifDescription, Array(description.utf8)) }
        body.option(Option.ifTimestampResolution, [9]) // 10^-9 s: nanoseconds
        body.endOfOptions()
        return block(type: BlockType.interfaceDescription, body: body.bytes)
    }

    /// An EPB. A captured length above `originalLength` is not possible on the wire, so
    /// the original length is raised to it rather than written inconsistent.
    public static func enhancedPacketBlock(interfaceID: UInt32, timestampNs: UInt64, bytes: [UInt8],
                                           originalLength: Int, direction: Direction) -> [UInt8] {
        var body = PcapngByteWriter(capacity: 32 + bytes.count + 12)
        body.u32(interfaceID)
        body.u32(UInt32(truncatingIfNeeded: timestampNs >> 32))
        body.u32(UInt32(truncatingIfNeeded: timestampNs))
        body.u32(UInt32(bytes.count))
        body.u32(UInt32(clamping: max(originalLength, bytes.count)))
        body.padded(bytes)
        var flags = PcapngByteWriter()
        flags.u32(directionFlags(direction))
        body.option(Option.epbFlags, flags.bytes)
        body.endOfOptions()
        return block(type: BlockType.enhancedPacket, body: body.bytes)
    }

    /// type, total length, body (already a multiple of 4), total length again.
    static func block(type: UInt32, body: [UInt8]) -> [UInt8] {
        precondition(body.count % 4 == 0, "pcapng block bodies are 32-bit aligned")
        let total = UInt32(12 + body.count)
        var out = PcapngByteWriter(capacity: Int(total))
        out.u32(type)
        out.u32(total)
        out.bytes += body
        out.u32(total)
        return out.bytes
    }
}

/// Little-endian appends with pcapng's 32-bit padding.
struct PcapngByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// The bytes, then zeros up to the next multiple of 4.
    mutating func padded(_ data: [UInt8]) {
        bytes += data
        let pad = (4 - data.count % 4) % 4
        if pad > 0 { bytes += repeatElement(0, count: pad) }
    }

    /// An option: code, length (unpadded), value padded to 32 bits. Values longer than an
    /// option can say are cut, on a UTF-8 boundary being the caller's concern.
    mutating func option(_ code: UInt16, _ value: [UInt8]) {
        let value = value.count > Int(UInt16.max) - 3 ? Array(value.prefix(Int(UInt16.max) - 3)) : value
        u16(code)
        u16(UInt16(value.count))
        padded(value)
    }

    mutating func endOfOptions() {
        u16(PcapngEncoder.Option.endOfOptions)
        u16(0)
    }
}
