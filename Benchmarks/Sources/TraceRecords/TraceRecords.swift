// The recorded ring-buffer stream shared by the userspace trace benchmarks (TraceDecode,
// bt-drainbench): raw struct bt_frame_event records as the kernel fills them.
import CBridgeTraceABI

/// Ring-buffer records built the way the kernel fills them.
public func record(_ frame: [UInt8], ifindex: UInt32, dir: UInt8, kind: bt_kind) -> [UInt8] {
    var event = bt_frame_event()
    event.time_ns = 1_000_000_000
    event.ifindex = ifindex
    event.len = UInt32(frame.count)
    event.caplen = UInt16(min(frame.count, Int(BT_SNAPLEN_DEFAULT)))
    event.dir = dir
    event.kind = UInt8(kind.rawValue)
    var bytes = withUnsafeBytes(of: event) { Array($0) }
    let dataOffset = MemoryLayout<bt_frame_event>.offset(of: \.data)!
    for (i, byte) in frame.prefix(Int(event.caplen)).enumerated() { bytes[dataOffset + i] = byte }
    // The kernel reserves the header plus the snap length's size class (events.bpf.h).
    return Array(bytes.prefix(dataOffset + Int(BT_SNAPLEN_DEFAULT)))
}

public func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var chars = Array(text.filter { !$0.isWhitespace })
    while chars.count >= 2 {
        out.append(UInt8(String(chars[0...1]), radix: 16)!)
        chars.removeFirst(2)
    }
    return out
}

public let arp = hex("ffffffffffff 525400000001 0806 0001 0800 06 04 0001 525400000001 c612000b 000000000000 c61200fa") + [UInt8](repeating: 0, count: 18)
public let taggedARP = Array(arp[0..<12]) + [0x81, 0x00, 0x00, 0x64] + Array(arp[12...])
public let qinqARP = Array(arp[0..<12]) + [0x88, 0xa8, 0x01, 0x2c, 0x81, 0x00, 0x00, 0x64] + Array(arp[12...])
public let icmp = hex("525400000002 525400000001 0800 4500 0054 1234 4000 4001 0000 c612000b c612000c 0800 0000 0007 0003") + [UInt8](repeating: 0x42, count: 56)
public let dhcp: [UInt8] = {
    var bootp = [UInt8](repeating: 0, count: 240)
    bootp[0] = 1; bootp[1] = 1; bootp[2] = 6
    bootp[4...7] = [0x12, 0x34, 0xab, 0xcd]
    bootp[28...33] = [0x52, 0x54, 0, 0, 0, 1]
    bootp[236...239] = [0x63, 0x82, 0x53, 0x63]
    let options: [UInt8] = [53, 1, 1, 255]
    let udpPayload = bootp + options
    let udp = hex("0044 0043") + [UInt8(((8 + udpPayload.count) >> 8) & 0xff), UInt8((8 + udpPayload.count) & 0xff), 0, 0] + udpPayload
    let ipLength = 20 + udp.count
    let ip = [0x45, 0, UInt8(ipLength >> 8), UInt8(ipLength & 0xff), 0, 1, 0, 0, 64, 17, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255] + udp
    return hex("ffffffffffff 525400000001 0800") + ip
}()
public let unknown = hex("ffffffffffff 525400000001 88b5") + [UInt8](repeating: 0, count: 46)

public let stream: [[UInt8]] = [
    record(arp, ifindex: 3, dir: 0, kind: BT_KIND_ARP),
    record(arp, ifindex: 4, dir: 1, kind: BT_KIND_ARP),
    record(taggedARP, ifindex: 3, dir: 0, kind: BT_KIND_ARP),
    record(qinqARP, ifindex: 5, dir: 1, kind: BT_KIND_ARP),
    record(icmp, ifindex: 3, dir: 0, kind: BT_KIND_ICMP),
    record(icmp, ifindex: 4, dir: 1, kind: BT_KIND_ICMP),
    record(dhcp, ifindex: 3, dir: 0, kind: BT_KIND_DHCP),
    record(unknown, ifindex: 3, dir: 0, kind: BT_KIND_OTHER),
]
public let ports: [Int32: String] = [3: "vm1", 4: "vm2", 5: "uplink"]

