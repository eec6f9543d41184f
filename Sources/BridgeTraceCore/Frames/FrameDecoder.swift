/// Decodes Ethernet frames into `DecodedFrame`s. Total: any byte sequence, however
/// short or cut, decodes without trapping, as far as it can be read.
public enum FrameDecoder {
    /// In-band tags read before the decoder gives up on finding the EtherType.
    public static let maxVLANTags = VLANTags.capacity
    /// IPv6 extension headers followed before giving up on the upper-layer protocol.
    public static let maxIPv6ExtensionHeaders = 8

    public static func decode(_ bytes: [UInt8]) -> DecodedFrame {
        bytes.withUnsafeBufferPointer { decode($0) }
    }

    public static func decode(_ bytes: ArraySlice<UInt8>) -> DecodedFrame {
        bytes.withUnsafeBufferPointer { decode($0) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) -> DecodedFrame {
        decode(bytes.assumingMemoryBound(to: UInt8.self))
    }

    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> DecodedFrame {
        var frame = DecodedFrame()
        decode(bytes, into: &frame)
        return frame
    }

    /// Decodes into `frame`, in place (its old contents are dropped): the drain decodes
    /// into the event it lends the sinks, so the frame (hundreds of bytes) is never copied.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, into frame: inout DecodedFrame) {
        frame = DecodedFrame()
        withUnsafeMutablePointer(to: &frame) { fill($0, from: bytes) }
    }

    /// Decodes into a frame that is still `DecodedFrame()`.
    static func fill(_ frame: UnsafeMutablePointer<DecodedFrame>, from bytes: UnsafeBufferPointer<UInt8>) {
        var decoding = FrameDecoding(bytes: FrameBytes(buffer: bytes), target: frame)
        decoding.decodeEthernet()
        decoding.classify()
    }

    @_disfavoredOverload
    public static func decode<Bytes: Collection>(_ bytes: Bytes) -> DecodedFrame where Bytes.Element == UInt8 {
        if let decoded = bytes.withContiguousStorageIfAvailable({ decode($0) }) { return decoded }
        return decode(Array(bytes))
    }
}

/// One decode in progress: the bytes, and the frame filled in layer by layer where it lies.
struct FrameDecoding {
    let bytes: FrameBytes
    private let target: UnsafeMutablePointer<DecodedFrame>

    init(bytes: FrameBytes, target: UnsafeMutablePointer<DecodedFrame>) {
        self.bytes = bytes
        self.target = target
    }

    /// The frame being filled in: reads and writes go straight to `target`.
    var frame: DecodedFrame {
        @inline(__always) unsafeAddress { UnsafePointer(target) }
        @inline(__always) nonmutating unsafeMutableAddress { target }
    }

    /// Whether bytes up to `end` are there to read: within the capture and within `limit`,
    /// the end the enclosing header declares. Marks the frame truncated when the capture
    /// ended first; a header that runs past its own declared end is malformed, not cut.
    @inline(__always)
    mutating func has(_ end: Int, limit: Int = .max) -> Bool {
        if end <= bytes.count && end <= limit { return true }
        if end > bytes.count && limit > bytes.count { frame.truncated = true }
        return false
    }

    mutating func decodeEthernet() {
        guard has(6) else { return }
        frame.dstMAC = bytes.mac(0)
        guard has(12) else { return }
        frame.srcMAC = bytes.mac(6)
        guard has(14) else { return }
        var etherType = bytes.u16(12)
        var offset = 14
        while VLANTag.isTPID(etherType) && !frame.vlans.isFull {
            guard has(offset + 4) else { return }
            frame.vlans.append(VLANTag(tpid: etherType, tci: bytes.u16(offset)))
            etherType = bytes.u16(offset + 2)
            offset += 4
        }
        frame.etherType = etherType
        switch etherType {
        case 0x0806: decodeARP(at: offset)
        case 0x0800: decodeIPv4(at: offset)
        case 0x86dd: decodeIPv6(at: offset)
        case ...1500:
            if has(offset + 3) {
                frame.llc = LLCHeader(dsap: bytes.u8(offset), ssap: bytes.u8(offset + 1), control: bytes.u8(offset + 2))
            }
        default: break
        }
    }

    mutating func decodeARP(at start: Int) {
        guard has(start + 8) else { return }
        var arp = ARPInfo(op: ARPOperation(rawValue: bytes.u16(start + 6)),
                          hardwareType: bytes.u16(start), protocolType: bytes.u16(start + 2),
                          hardwareLength: bytes.u8(start + 4), protocolLength: bytes.u8(start + 5))
        if arp.isEthernetIPv4 && has(start + 14) {
            arp.senderMAC = bytes.mac(start + 8)
            if has(start + 18) {
                arp.senderIP = bytes.ipv4(start + 14)
                if has(start + 24) {
                    arp.targetMAC = bytes.mac(start + 18)
                    if has(start + 28) { arp.targetIP = bytes.ipv4(start + 24) }
                }
            }
        }
        frame.arp = arp
    }

    /// The kind, by the same rules as the kernel's classifier: ARP; ICMP in an unfragmented
    /// or first-fragment IPv4 datagram; ICMPv6; DHCP (UDP 68→67 or 67→68 over IPv4); else
    /// `vlan` when tagged, else `other`.
    mutating func classify() {
        let kind: EventKind
        if frame.etherType == 0x0806 {
            kind = .arp
        } else if frame.ipv4 != nil && frame.ipProtocol == IPProtocolNumber.icmp && !frame.isNonFirstFragment {
            kind = .icmp
        } else if frame.ipv6 != nil && frame.ipProtocol == IPProtocolNumber.icmp6 && !frame.isNonFirstFragment {
            kind = .icmp6
        } else if frame.ipv4 != nil, let udp = frame.udp,
                  (udp.sourcePort == 68 && udp.destinationPort == 67) || (udp.sourcePort == 67 && udp.destinationPort == 68) {
            kind = .dhcp
        } else if !frame.vlans.isEmpty {
            kind = .vlan
        } else {
            kind = .other
        }
        frame.kind = kind
    }
}
