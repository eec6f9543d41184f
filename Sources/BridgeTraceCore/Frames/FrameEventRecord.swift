import CBridgeTraceABI

/// Reads a `struct bt_frame_event` as the ring buffer hands it over (raw bytes, no
/// libbpf here). The fixed header is read once into a `Header`; the captured bytes are
/// used where they lie (`withFrameBytes`); then, only for a frame the caller keeps, the
/// protocol decode into a `TraceEventView` lent to the sinks. Records shorter than the
/// header, or claiming more bytes than they carry, are cut to what is there instead of
/// trusted.
public enum FrameEventRecord {
    public static let size = MemoryLayout<bt_frame_event>.size
    // Computed, not stored: the optimizer folds each offset to a constant, where a stored
    // static costs a lazy-initialization check per field per record.
    static var timeOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.time_ns)! }
    static var ifindexOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.ifindex)! }
    static var lenOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.len)! }
    static var caplenOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.caplen)! }
    static var dirOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.dir)! }
    static var kindOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.kind)! }
    static var tciOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.vlan_offload_tci)! }
    static var tpidOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.vlan_offload_tpid)! }
    static var dhcpTypeOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.dhcp_msg_type)! }
    static var dropReasonOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.drop_reason)! }
    static var dataOffset: Int { MemoryLayout<bt_frame_event>.offset(of: \.data)! }

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

        /// Length on the wire with an offloaded tag put back, as `withFrameBytes` shows the frame.
        public var frameLength: Int { offloadTPID != 0 ? length + 4 : length }
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

    /// The captured bytes of a record whose header was read with `header`, as they were on
    /// the wire: where they lie in the record, or, when the stack had moved a VLAN tag into
    /// metadata, copied to stack memory with the tag put back after the MAC addresses.
    /// Valid only inside `body`; nothing goes to the heap.
    public static func withFrameBytes(_ raw: UnsafeRawBufferPointer, header: Header,
                                      _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let data = UnsafeRawBufferPointer(rebasing: raw[dataOffset..<(dataOffset + header.captured)])
        guard header.offloadTPID != 0 else { return body(data.assumingMemoryBound(to: UInt8.self)) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: header.captured + 4) { out in
            let count = CapturedFrame.copyReinsertingTag(data, tpid: header.offloadTPID, tci: header.offloadTCI,
                                                         to: out.baseAddress!)
            body(UnsafeBufferPointer(rebasing: out[..<count]))
        }
    }

    /// A record's event, lent to `body` (TraceEventView.decoding): the bytes where they
    /// lie, decoded once in place, nothing copied to the heap.
    public static func withEvent(_ raw: UnsafeRawBufferPointer, header: Header, port: String,
                                 _ body: (borrowing TraceEventView) -> Void) {
        withFrameBytes(raw, header: header) { bytes in
            TraceEventView.decoding(bytes, header: header, port: port, body)
        }
    }

    /// Header, frame and event in one go, as an event of its own (a copy of the bytes), for
    /// callers that keep every record.
    public static func event(_ raw: UnsafeRawBufferPointer, port: String) -> TraceEvent? {
        guard let header = header(raw) else { return nil }
        var event: TraceEvent?
        withEvent(raw, header: header, port: port) { event = TraceEvent($0) }
        return event
    }
}
