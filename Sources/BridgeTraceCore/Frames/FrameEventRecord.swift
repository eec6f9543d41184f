import CBridgeTraceABI

/// Reads a `struct bt_frame_event` as the ring buffer hands it over (raw bytes, no
/// libbpf here). The fixed header is read once into a `Header`; the captured bytes into
/// a `CapturedFrame`; then, only for a frame the caller keeps, the protocol decode into a
/// `TraceEvent`. Records shorter than the header, or claiming more bytes than they carry,
/// are cut to what is there instead of trusted.
public enum FrameEventRecord {
    public static let size = MemoryLayout<bt_frame_event>.size
    static let timeOffset = MemoryLayout<bt_frame_event>.offset(of: \.time_ns)!
    static let ifindexOffset = MemoryLayout<bt_frame_event>.offset(of: \.ifindex)!
    static let lenOffset = MemoryLayout<bt_frame_event>.offset(of: \.len)!
    static let caplenOffset = MemoryLayout<bt_frame_event>.offset(of: \.caplen)!
    static let dirOffset = MemoryLayout<bt_frame_event>.offset(of: \.dir)!
    static let kindOffset = MemoryLayout<bt_frame_event>.offset(of: \.kind)!
    static let tciOffset = MemoryLayout<bt_frame_event>.offset(of: \.vlan_offload_tci)!
    static let tpidOffset = MemoryLayout<bt_frame_event>.offset(of: \.vlan_offload_tpid)!
    static let dhcpTypeOffset = MemoryLayout<bt_frame_event>.offset(of: \.dhcp_msg_type)!
    static let dropReasonOffset = MemoryLayout<bt_frame_event>.offset(of: \.drop_reason)!
    static let dataOffset = MemoryLayout<bt_frame_event>.offset(of: \.data)!

    /// The record's fixed fields, read once.
    public struct Header: Sendable, Equatable {
        public var monotonicNs: UInt64
        public var ifindex: Int32
        /// Length on the wire, as the kernel saw it (an offloaded tag not counted).
        public var length: Int
        /// Captured bytes the record really carries (caplen, cut to the record).
        public var captured: Int
        public var direction: Direction
        /// The kernel's classification of the whole frame (`enum bt_kind`); nil for
        /// BT_KIND_NONE and unknown values.
        public var kind: EventKind?
        public var offloadTPID: UInt16
        public var offloadTCI: UInt16
        /// DHCP option 53 as the kernel read it (it lies beyond any snap length), or nil.
        public var dhcpMessageType: UInt8?
        /// Kind `drop` (a switch's): `enum bt_sw_drop`.
        public var dropReason: UInt8 = 0
    }

    public static func header(_ raw: UnsafeRawBufferPointer) -> Header? {
        guard raw.count >= dataOffset else { return nil }
        let caplen = Int(raw.loadUnaligned(fromByteOffset: caplenOffset, as: UInt16.self))
        let dhcpType = raw.load(fromByteOffset: dhcpTypeOffset, as: UInt8.self)
        return Header(
            monotonicNs: raw.loadUnaligned(fromByteOffset: timeOffset, as: UInt64.self),
            ifindex: Int32(bitPattern: raw.loadUnaligned(fromByteOffset: ifindexOffset, as: UInt32.self)),
            length: Int(raw.loadUnaligned(fromByteOffset: lenOffset, as: UInt32.self)),
            captured: min(caplen, raw.count - dataOffset, Int(BT_SNAPLEN_MAX)),
            direction: UInt32(raw.load(fromByteOffset: dirOffset, as: UInt8.self)) == Direction.tx.abiValue ? .tx : .rx,
            kind: EventKind(abiValue: UInt32(raw.load(fromByteOffset: kindOffset, as: UInt8.self))),
            offloadTPID: raw.loadUnaligned(fromByteOffset: tpidOffset, as: UInt16.self),
            offloadTCI: raw.loadUnaligned(fromByteOffset: tciOffset, as: UInt16.self),
            dhcpMessageType: dhcpType == 0 ? nil : dhcpType,
            dropReason: raw.load(fromByteOffset: dropReasonOffset, as: UInt8.self))
    }

    /// The ifindex of a record, to look up the port name before decoding the rest.
    public static func ifindex(_ raw: UnsafeRawBufferPointer) -> Int32? {
        header(raw)?.ifindex
    }

    /// The captured frame of a record whose header was read with `header`.
    public static func frame(_ raw: UnsafeRawBufferPointer, header: Header, port: String) -> CapturedFrame {
        var bytes = Array(UnsafeRawBufferPointer(rebasing: raw[dataOffset..<(dataOffset + header.captured)]))
        var length = header.length
        if header.offloadTPID != 0 {
            bytes = CapturedFrame.reinsertingTag(bytes, tpid: header.offloadTPID, tci: header.offloadTCI)
            length += 4
        }
        return CapturedFrame(monotonicNs: header.monotonicNs, ifindex: header.ifindex, port: port,
                             direction: header.direction, length: length, bytes: bytes)
    }

    public static func decode(_ raw: UnsafeRawBufferPointer, port: String) -> CapturedFrame? {
        header(raw).map { frame(raw, header: $0, port: port) }
    }

    /// A frame as a typed event. The kernel classified the whole frame and the decoder
    /// only the captured bytes, so the kernel's kind wins (trace then agrees with the
    /// counters and the kind filter), and the DHCP message type the kernel read fills in
    /// what the snap cut off.
    public static func event(from frame: CapturedFrame, header: Header) -> TraceEvent {
        var event = TraceEvent.make(frame)
        if let kind = header.kind { event.decoded.kind = kind }
        if event.decoded.kind == .drop {
            // Only a switch emits drop events into this ring: its reasons (enum bt_sw_drop).
            let reason = SwitchDropReason(rawValue: UInt32(header.dropReason))
            event.dropReason = reason?.name ?? "SWITCH_DROP_\(header.dropReason)"
            event.dropLocation = reason?.location ?? "bridgetrace switch"
        }
        if event.decoded.dhcp != nil, event.decoded.dhcp?.messageType == nil, let type = header.dhcpMessageType {
            event.decoded.dhcp?.messageType = DHCPMessageType(rawValue: type)
        }
        return event
    }

    /// Header, frame and event in one go, for callers that keep every record.
    public static func event(_ raw: UnsafeRawBufferPointer, port: String) -> TraceEvent? {
        guard let header = header(raw) else { return nil }
        return event(from: frame(raw, header: header, port: port), header: header)
    }
}
