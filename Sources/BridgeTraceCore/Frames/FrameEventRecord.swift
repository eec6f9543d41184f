import CBridgeTraceABI

/// Reads a `struct bt_frame_event` as the ring buffer hands it over (raw bytes, no
/// libbpf here) into a `CapturedFrame`. Records shorter than the struct, or claiming
/// more bytes than they carry, are cut to what is there instead of trusted.
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

    /// The ifindex of a record, to look up the port name before decoding the rest.
    public static func ifindex(_ raw: UnsafeRawBufferPointer) -> Int32? {
        guard raw.count >= dataOffset else { return nil }
        return Int32(bitPattern: raw.loadUnaligned(fromByteOffset: ifindexOffset, as: UInt32.self))
    }

    /// The kernel's `enum bt_kind` of the record (0 when unreadable).
    public static func kind(_ raw: UnsafeRawBufferPointer) -> UInt8 {
        raw.count >= dataOffset ? raw.load(fromByteOffset: kindOffset, as: UInt8.self) : 0
    }

    /// DHCP option 53 as the kernel read it (it lies beyond any snap length), or nil.
    public static func dhcpMessageType(_ raw: UnsafeRawBufferPointer) -> UInt8? {
        guard raw.count >= dataOffset else { return nil }
        let type = raw.load(fromByteOffset: dhcpTypeOffset, as: UInt8.self)
        return type == 0 ? nil : type
    }

    public static func decode(_ raw: UnsafeRawBufferPointer, port: String) -> CapturedFrame? {
        guard raw.count >= dataOffset else { return nil }
        let time = raw.loadUnaligned(fromByteOffset: timeOffset, as: UInt64.self)
        let ifindex = Int32(bitPattern: raw.loadUnaligned(fromByteOffset: ifindexOffset, as: UInt32.self))
        var length = Int(raw.loadUnaligned(fromByteOffset: lenOffset, as: UInt32.self))
        let caplen = Int(raw.loadUnaligned(fromByteOffset: caplenOffset, as: UInt16.self))
        let direction: Direction = UInt32(raw.load(fromByteOffset: dirOffset, as: UInt8.self)) == Direction.tx.abiValue ? .tx : .rx
        let tci = raw.loadUnaligned(fromByteOffset: tciOffset, as: UInt16.self)
        let tpid = raw.loadUnaligned(fromByteOffset: tpidOffset, as: UInt16.self)
        let available = min(caplen, raw.count - dataOffset, Int(BT_SNAPLEN_MAX))
        var bytes = Array(UnsafeRawBufferPointer(rebasing: raw[dataOffset..<(dataOffset + available)]))
        if tpid != 0 {
            bytes = CapturedFrame.reinsertingTag(bytes, tpid: tpid, tci: tci)
            length += 4
        }
        return CapturedFrame(monotonicNs: time, ifindex: ifindex, port: port, direction: direction,
                             length: length, bytes: bytes)
    }

    /// A record as a typed event. The kernel classified the whole frame and the decoder
    /// only the captured bytes, so the kernel's kind wins (trace then agrees with the
    /// counters and the kind filter), and the DHCP message type the kernel read fills in
    /// what the snap cut off.
    public static func event(_ raw: UnsafeRawBufferPointer, port: String) -> TraceEvent? {
        decode(raw, port: port).map { event(from: $0, raw: raw) }
    }

    /// The same, for a frame already read from `raw` with `decode`: lets a caller filter
    /// on the captured bytes before paying for the protocol decode.
    public static func event(from frame: CapturedFrame, raw: UnsafeRawBufferPointer) -> TraceEvent {
        var event = TraceEvent.make(frame)
        if let kind = EventKind(abiValue: UInt32(kind(raw))) { event.decoded.kind = kind }
        if event.decoded.kind == .drop, raw.count >= dataOffset {
            // Only a switch emits drop events into this ring: its reasons (enum bt_sw_drop).
            let code = UInt32(raw.load(fromByteOffset: dropReasonOffset, as: UInt8.self))
            let reason = SwitchDropReason(rawValue: code)
            event.dropReason = reason?.name ?? "SWITCH_DROP_\(code)"
            event.dropLocation = reason?.location ?? "bridgetrace switch"
        }
        if event.decoded.dhcp != nil, event.decoded.dhcp?.messageType == nil, let type = dhcpMessageType(raw) {
            event.decoded.dhcp?.messageType = DHCPMessageType(rawValue: type)
        }
        return event
    }
}
