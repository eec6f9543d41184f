import BridgeTraceCore
import CBridgeTraceABI

/// Ring-buffer records built the way the kernel fills them (events.bpf.h, drops.bpf.c),
/// and the frames in them.
enum Recorded {
    /// ARP who-has 198.18.0.250 tell 198.18.0.11, broadcast.
    static let arp: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc6, 0x12, 0x00, 0xfa]
        + [UInt8](repeating: 0, count: 18)
    /// ICMP echo request 198.18.0.11 -> 198.18.0.12, id 7, seq 3.
    static let icmp: [UInt8] = [0x52, 0x54, 0x00, 0x00, 0x00, 0x02, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x54, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x0b, 0xc6, 0x12, 0x00, 0x0c, 0x08, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x03]
        + [UInt8](repeating: 0x42, count: 56)
    /// UDP 198.18.0.11:4000 -> 198.18.0.250:9: background load, not followed by the rules.
    static let udp: [UInt8] = [0x52, 0x54, 0x00, 0x00, 0x00, 0x02, 0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc6, 0x12, 0x00, 0x0b, 0xc6, 0x12, 0x00, 0xfa, 0x0f, 0xa0, 0x00, 0x09, 0x00, 0x08, 0x00, 0x00]
        + [UInt8](repeating: 0, count: 18)

    static let timeNs: UInt64 = 5_000_000_000

    static func frame(_ frame: [UInt8], ifindex: UInt32, dir: Direction, kind: EventKind,
                      timeNs: UInt64 = timeNs, snaplen: Int = Int(BT_SNAPLEN_DEFAULT)) -> [UInt8] {
        var event = bt_frame_event()
        event.time_ns = timeNs
        event.ifindex = ifindex
        event.len = UInt32(frame.count)
        event.caplen = UInt16(min(frame.count, snaplen))
        event.dir = UInt8(dir.abiValue)
        event.kind = UInt8(kind.abiValue)
        var bytes = withUnsafeBytes(of: event) { Array($0) }
        let dataOffset = MemoryLayout<bt_frame_event>.offset(of: \.data)!
        for (i, byte) in frame.prefix(Int(event.caplen)).enumerated() { bytes[dataOffset + i] = byte }
        // The kernel reserves the header plus the snap length's size class.
        return Array(bytes.prefix(dataOffset + snaplen))
    }

    static func drop(_ frame: [UInt8], ifindex: UInt32, reason: UInt32, location: UInt64,
                     timeNs: UInt64 = timeNs) -> [UInt8] {
        var event = bt_drop_event()
        event.time_ns = timeNs
        event.location = location
        event.ifindex = ifindex
        event.reason = reason
        event.len = UInt32(frame.count)
        event.mac_offset = 14
        event.caplen = UInt16(min(frame.count, Int(BT_DROP_SNAPLEN)))
        withUnsafeMutableBytes(of: &event.data) { raw in
            for (index, byte) in frame.prefix(Int(BT_DROP_SNAPLEN)).enumerated() { raw[index] = byte }
        }
        return withUnsafeBytes(of: event) { Array($0) }
    }
}
