import BridgeTraceCore
import CBridgeTraceABI
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
        if event.vlan_proto != 0 {
            bytes = CapturedFrame.reinsertingTag(bytes, tpid: event.vlan_proto, tci: event.vlan_tci)
        }
        let ifindex = Int32(bitPattern: event.ifindex)
        return DropRecord(monotonicNs: event.time_ns, ifindex: ifindex, port: portName(ifindex),
                          reason: reasons.name(of: event.reason), location: symbols(event.location),
                          length: Int(event.len), bytes: bytes)
    }
}
