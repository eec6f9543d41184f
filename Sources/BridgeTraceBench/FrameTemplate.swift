import BridgeTraceCore
import CBridgeTraceABI

/// The frame the generator sends, flow 0, before stamping: Ethernet (optionally 802.1Q),
/// IPv4 without options, UDP to `BT_BENCH_UDP_PORT`, then the stamp and zero padding.
///
/// Sizes follow RFC 2544: a 64-byte frame is 64 bytes on the wire *with* its 4-byte FCS
/// (and with its VLAN tag, when there is one), so the device is handed `size - 4` bytes.
public struct FrameTemplate: Sendable, Equatable {
    public static let fcsBytes = 4
    public static let minimumSize = 64
    /// The standard Ethernet maximum; sizes above need jumbo frames (MTU 9000).
    public static let standardMaximum = 1518
    public static let jumboMaximum = 9018
    /// Where flows start: the source IP's low 16 bits and the UDP source port grow by the
    /// flow number, the last two bytes of the source MAC are the flow number.
    static let firstSourcePort: UInt16 = 1024

    public let size: Int
    public let vlan: UInt16?
    public let sourceMAC: [UInt8]
    public let destinationMAC: [UInt8]
    public let sourceIP: [UInt8]
    public let destinationIP: [UInt8]

    public init(size: Int, vlan: UInt16? = nil, sourceMAC: [UInt8], destinationMAC: [UInt8],
                sourceIP: [UInt8] = [198, 18, 1, 0], destinationIP: [UInt8] = [198, 19, 1, 0]) throws {
        try Self.validate(size: size)
        if let vlan, !(1...4094).contains(vlan) {
            throw UserError("--vlan \(vlan) is not a VLAN ID: use 1 to 4094")
        }
        precondition(sourceMAC.count == 6 && destinationMAC.count == 6)
        precondition(sourceIP.count == 4 && destinationIP.count == 4)
        self.size = size
        self.vlan = vlan
        self.sourceMAC = sourceMAC
        self.destinationMAC = destinationMAC
        self.sourceIP = sourceIP
        self.destinationIP = destinationIP
    }

    public static func validate(size: Int) throws {
        guard (minimumSize...standardMaximum).contains(size) || size == 9000 else {
            throw UserError("frame size \(size) is not supported: use \(minimumSize) to \(standardMaximum) bytes, or 9000 (jumbo)")
        }
    }

    /// Offset of the IPv4 header.
    public var l3Offset: Int { vlan == nil ? 14 : 18 }
    /// Bytes handed to the device (no FCS).
    public var deviceLength: Int { size - Self.fcsBytes }
    /// The IPv4 packet's length, which decides the MTU the links need.
    public var ipLength: Int { deviceLength - l3Offset }
    public var stampOffset: Int { l3Offset + 28 }

    /// Low 16 bits of the source IP, host order (for `bt_bench_gen_config.src_ip_lo`).
    public var sourceIPLow: UInt16 { UInt16(sourceIP[2]) << 8 | UInt16(sourceIP[3]) }

    public var bytes: [UInt8] {
        var frame = [UInt8](repeating: 0, count: deviceLength)
        frame.replaceSubrange(0..<6, with: destinationMAC)
        frame.replaceSubrange(6..<12, with: sourceMAC)
        var offset = 12
        if let vlan {
            frame.put16(0x8100, at: offset)
            frame.put16(vlan, at: offset + 2)
            offset += 4
        }
        frame.put16(0x0800, at: offset)
        let ip = offset + 2
        frame[ip] = 0x45
        frame.put16(UInt16(ipLength), at: ip + 2)
        frame[ip + 6] = 0x40  // don't fragment
        frame[ip + 8] = 64  // TTL
        frame[ip + 9] = 17  // UDP
        frame.replaceSubrange(ip + 12..<ip + 16, with: sourceIP)
        frame.replaceSubrange(ip + 16..<ip + 20, with: destinationIP)
        frame.put16(Self.ipv4Checksum(frame[ip..<ip + 20]), at: ip + 10)
        let udp = ip + 20
        frame.put16(Self.firstSourcePort, at: udp)
        frame.put16(UInt16(BT_BENCH_UDP_PORT), at: udp + 2)
        frame.put16(UInt16(ipLength - 20), at: udp + 4)
        // UDP checksum 0: "none", allowed for IPv4, and the stamp changes every frame.
        return frame
    }

    static func ipv4Checksum(_ header: ArraySlice<UInt8>) -> UInt16 {
        var sum: UInt32 = 0
        var index = header.startIndex
        while index + 1 < header.endIndex {
            sum += UInt32(header[index]) << 8 | UInt32(header[index + 1])
            index += 2
        }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

extension Array where Element == UInt8 {
    /// Big-endian (network order) store.
    mutating func put16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(value >> 8)
        self[offset + 1] = UInt8(value & 0xff)
    }
}
