import BridgeTraceCore
import CBridgeTraceABI
import CLibBPF
import Foundation

/// `struct bt_drop_event` bytes to a DropRecord. Pure: testable without a kernel.
public enum DropEventDecoding {
    public static func record(from raw: UnsafeRawBufferPointer, reasons: DropReasonNames,
                              symbols: (UInt64) -> String, portName: (Int32) -> String) -> DropRecord? {
        guard raw.count >= MemoryLayout<bt_drop_event>.size else { return nil }
        let event = raw.loadUnaligned(as: bt_drop_event.self)
        let dataOffset = MemoryLayout<bt_drop_event>.offset(of: \bt_drop_event.data)!
        let caplen = min(Int(event.caplen), Int(BT_DROP_SNAPLEN))
        var bytes = Array(raw[dataOffset..<(dataOffset + caplen)])
        bytes = reinsertingVLANTag(bytes, proto: event.vlan_proto, tci: event.vlan_tci)
        let ifindex = Int32(bitPattern: event.ifindex)
        return DropRecord(monotonicNs: event.time_ns, ifindex: ifindex, port: portName(ifindex),
                          reason: reasons.name(of: event.reason), location: symbols(event.location),
                          length: Int(event.len), bytes: bytes)
    }

    /// The stack keeps an offloaded 802.1Q tag in skb metadata; put it back after the two
    /// MAC addresses so the bytes read like the frame on the wire.
    public static func reinsertingVLANTag(_ bytes: [UInt8], proto: UInt16, tci: UInt16) -> [UInt8] {
        guard proto != 0, bytes.count >= 12 else { return bytes }
        return Array(bytes[0..<12]) + [UInt8(proto >> 8), UInt8(proto & 0xff), UInt8(tci >> 8), UInt8(tci & 0xff)]
            + bytes[12...]
    }
}

/// Drains the `bt_drop_events` ring buffer of the drops object; the handler gets each
/// record's raw bytes on the polling thread.
public final class DropEventReader {
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    private let ring: OpaquePointer
    private let context: Unmanaged<DropHandlerBox>

    init(object: BPFObject, handler: @escaping Handler) throws {
        let map = try object.map("bt_drop_events")
        context = Unmanaged.passRetained(DropHandlerBox(handler))
        let callback: ring_buffer_sample_fn = { context, data, size in
            guard let context, let data else { return 0 }
            Unmanaged<DropHandlerBox>.fromOpaque(context).takeUnretainedValue().handler(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        guard let ring = ring_buffer__new(map.fd, callback, context.toOpaque(), nil) else {
            context.release()
            throw UserError.kernel("cannot open the drop event ring buffer", errno: errno)
        }
        self.ring = ring
    }

    /// Consumes what is queued, waiting up to `timeoutMs` for the first record.
    @discardableResult
    public func poll(timeoutMs: Int32) throws -> Int {
        let rc = ring_buffer__poll(ring, timeoutMs)
        if rc < 0 && -rc != EINTR {
            throw UserError.kernel("reading the drop event ring buffer failed", errno: rc)
        }
        return Int(max(rc, 0))
    }

    deinit {
        ring_buffer__free(ring)
        context.release()
    }
}

private final class DropHandlerBox {
    let handler: DropEventReader.Handler
    init(_ handler: @escaping DropEventReader.Handler) { self.handler = handler }
}
