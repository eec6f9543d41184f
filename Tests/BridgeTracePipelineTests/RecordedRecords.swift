import BridgeTraceCore
import CBridgeTraceABI

/// Ring-buffer records built the way the kernel fills them (events.bpf.h, drops.bpf.c),
/// and the frames in them.
enum Recorded {
    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(text.filter { !$0.isWhitespace })
        while chars.count >= 2 {
            out.append(UInt8(String(chars[0...1]), radix: 16)!)
            chars.removeFirst(2)
        }
        return out
    }

    /// ARP who-has 198.18.0.250 tell 198.18.0.11, broadcast.
    static let arp = hex("ffffffffffff 525400000001 0806 0001 0800 06 04 0001 525400000001 c612000b 000000000000 c61200fa")
        + [UInt8](repeating: 0, count: 18)
    /// ICMP echo request 198.18.0.11 -> 198.18.0.12, id 7, seq 3.
    static let icmp = hex("525400000002 525400000001 0800 4500 0054 1234 4000 4001 0000 c612000b c612000c 0800 0000 0007 0003")
        + [UInt8](repeating: 0x42, count: 56)
    /// UDP 198.18.0.11:4000 -> 198.18.0.250:9: background load, not followed by the rules.
    static let udp = hex("525400000002 525400000001 0800 4500 001c 0001 0000 4011 0000 c612000b c61200fa 0fa0 0009 0008 0000")
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
