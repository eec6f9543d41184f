/// `trace --json` lines at the drain's rate: the same bytes as `TraceJSON.value(...)
/// .rendered()` (the shape is described in TraceJSON; TraceJSONTests and the fuzz test
/// compare the two), written by a cursor into space reserved once per line. Keys and the
/// separators around them are literals copied whole; numbers, MACs, IPv4 addresses and hex
/// come from digit tables. Rare values (IPv6 addresses, names of unknown DHCP or ARP
/// codes) go through ASCIIBuffer's own appends, which keep the reservation valid.
enum TraceJSONLine {
    /// Room for the line with every optional part present, the port name escaped at worst
    /// (6 bytes per byte) and each VLAN tag; the longest real line is ~1300 bytes.
    @inline(__always)
    static func bound(portBytes: Int, tags: Int) -> Int { 2048 + 6 * portBytes + 96 * tags }

    static func append(_ event: borrowing TraceEventView, wallClockOffsetNs: Int64, to buffer: inout ASCIIBuffer) {
        // A drop event (a switch's) also quotes its reason and location.
        let quotedBytes = event.port.utf8.count + (event.dropReason?.utf8.count ?? 0) + (event.dropLocation?.utf8.count ?? 0)
        buffer.reserve(bound(portBytes: quotedBytes, tags: event.decoded.vlans.count))
        var out = LineCursor(buffer.end)
        out.literal(#"{"time_ns": "#)
        out.decimal(event.wallClockNs(offsetNs: wallClockOffsetNs))
        out.literal(#", "port": "#)
        out.quoted(event.port)
        out.literal(#", "ifindex": "#)
        out.decimal(Int64(event.ifindex))
        out.literal(event.direction == .rx ? #", "dir": "rx", "kind": ""# : #", "dir": "tx", "kind": ""#)
        out.literal(TraceJSON.kindName(event.decoded.kind))
        out.literal(#"", "len": "#)
        out.decimal(Int64(event.length))
        out.literal(#", "src_mac": "#)
        out.mac(event.decoded.srcMAC)
        out.literal(#", "dst_mac": "#)
        out.mac(event.decoded.dstMAC)
        out.literal(#", "vlan": ["#)
        for (index, tag) in event.decoded.vlans.enumerated() {
            if index > 0 { out.literal(", ") }
            out.decimal(UInt64(tag.vid))
        }
        out.literal(#"], "arp": "#)
        if let arp = event.decoded.arp {
            writeARP(arp, &out, &buffer)
        } else {
            out.literal("null")
        }
        out.literal(#", "src_ip": "#)
        if let ipv4 = event.decoded.ipv4 {
            out.ipv4(ipv4.source)
            out.literal(#", "dst_ip": "#)
            out.ipv4(ipv4.destination)
        } else if let ipv6 = event.decoded.ipv6 {
            out.ipv6(ipv6.source, &buffer)
            out.literal(#", "dst_ip": "#)
            out.ipv6(ipv6.destination, &buffer)
        } else {
            out.literal(#"null, "dst_ip": null"#)
        }
        out.literal(#", "icmp": "#)
        if let icmp = event.decoded.icmp {
            writeICMP(icmp, &out, &buffer)
        } else {
            out.literal("null")
        }
        out.literal(#", "mono_ns": "#)
        out.decimal(event.monotonicNs)
        out.literal(#", "caplen": "#)
        out.decimal(UInt64(event.bytes.count))
        out.literal(#", "ethertype": "#)
        if let etherType = event.decoded.etherType { out.hex16(etherType) } else { out.literal("null") }
        out.literal(#", "vlan_tags": ["#)
        for (index, tag) in event.decoded.vlans.enumerated() {
            out.literal(index > 0, #", {"tpid": "#, else: #"{"tpid": "#)
            out.hex16(tag.tpid)
            out.literal(#", "vid": "#)
            out.decimal(UInt64(tag.vid))
            out.literal(#", "pcp": "#)
            out.digit(tag.pcp)
            out.literal(tag.dei, #", "dei": true}"#, else: #", "dei": false}"#)
        }
        out.literal(#"], "ip_proto": "#)
        out.decimal(event.decoded.ipProtocol ?? event.decoded.ipv4?.protocol)
        out.literal(#", "ttl": "#)
        out.decimal(event.decoded.ipv4?.ttl ?? event.decoded.ipv6?.hopLimit)
        out.literal(#", "fragment": "#)
        writeFragment(event.decoded, &out)
        out.literal(#", "src_port": "#)
        if let udp = event.decoded.udp {
            out.decimal(UInt64(udp.sourcePort))
            out.literal(#", "dst_port": "#)
            out.decimal(UInt64(udp.destinationPort))
            out.literal(#", "tcp_flags": "#)
        } else if let tcp = event.decoded.tcp {
            out.decimal(UInt64(tcp.sourcePort))
            out.literal(#", "dst_port": "#)
            out.decimal(UInt64(tcp.destinationPort))
            out.literal(#", "tcp_flags": "#)
        } else {
            out.literal(#"null, "dst_port": null, "tcp_flags": "#)
        }
        if let tcp = event.decoded.tcp { out.tcpFlags(tcp.flags) } else { out.literal("null") }
        out.literal(#", "dhcp": "#)
        if let dhcp = event.decoded.dhcp {
            writeDHCP(dhcp, &out, &buffer)
        } else {
            out.literal("null")
        }
        out.literal(event.decoded.truncated, #", "truncated": true"#, else: #", "truncated": false"#)
        if let reason = event.dropReason {
            out.literal(#", "reason": "#)
            out.quoted(reason)
            out.literal(#", "location": "#)
            out.quoted(event.dropLocation ?? "")
        }
        out.byte(UInt8(ascii: "}"))
        buffer.end = out.position
    }

    private static func writeARP(_ arp: ARPInfo, _ out: inout LineCursor, _ buffer: inout ASCIIBuffer) {
        switch arp.op {
        case .request: out.literal(#"{"op": "request", "sender_ip": "#)
        case .reply: out.literal(#"{"op": "reply", "sender_ip": "#)
        case .other(let value):
            out.literal(#"{"op": "op "#)
            out.decimal(UInt64(value))
            out.literal(#"", "sender_ip": "#)
        }
        out.ipv4(arp.senderIP)
        out.literal(#", "target_ip": "#)
        out.ipv4(arp.targetIP)
        out.literal(#", "sender_mac": "#)
        out.mac(arp.senderMAC)
        out.literal(#", "target_mac": "#)
        out.mac(arp.targetMAC)
        out.byte(UInt8(ascii: "}"))
    }

    private static func writeICMP(_ icmp: ICMPInfo, _ out: inout LineCursor, _ buffer: inout ASCIIBuffer) {
        out.literal(#"{"type": "#)
        out.decimal(UInt64(icmp.type))
        out.literal(#", "code": "#)
        out.decimal(UInt64(icmp.code))
        out.literal(#", "id": "#)
        out.decimal(icmp.id)
        out.literal(#", "seq": "#)
        out.decimal(icmp.seq)
        if let mtu = icmp.mtu {
            out.literal(#", "mtu": "#)
            out.decimal(UInt64(mtu))
        }
        if let target = icmp.target {
            out.literal(#", "target": "#)
            out.ipv6(target, &buffer)
        }
        if let quoted = icmp.quoted {
            out.literal(#", "orig_src": "#)
            out.ipv4(quoted.source)
            out.literal(#", "orig_dst": "#)
            out.ipv4(quoted.destination)
            out.literal(#", "orig_proto": "#)
            out.decimal(UInt64(quoted.protocol))
            if let port = quoted.sourcePort {
                out.literal(#", "orig_src_port": "#)
                out.decimal(UInt64(port))
            }
            if let port = quoted.destinationPort {
                out.literal(#", "orig_dst_port": "#)
                out.decimal(UInt64(port))
            }
        }
        out.byte(UInt8(ascii: "}"))
    }

    private static func writeFragment(_ decoded: DecodedFrame, _ out: inout LineCursor) {
        guard let fragment = TraceJSON.fragment(decoded) else {
            out.literal("null")
            return
        }
        out.literal(#"{"id": "#)
        out.decimal(fragment.id)
        out.literal(#", "offset": "#)
        out.decimal(Int64(fragment.offset))
        out.literal(fragment.more, #", "more": true}"#, else: #", "more": false}"#)
    }

    private static func writeDHCP(_ dhcp: DHCPInfo, _ out: inout LineCursor, _ buffer: inout ASCIIBuffer) {
        out.literal(#"{"message_type": "#)
        if let type = dhcp.messageType {
            out.byte(UInt8(ascii: "\""))
            if let name = type.staticName {
                out.literal(name)
            } else {
                out.literal("type ")
                out.decimal(UInt64(type.rawValue))
            }
            out.byte(UInt8(ascii: "\""))
        } else {
            out.literal("null")
        }
        out.literal(#", "xid": "0x"#)
        out.hex32(dhcp.transactionID)
        out.literal(#"", "client_mac": "#)
        out.mac(dhcp.clientMAC)
        switch dhcp.op {
        case 1: out.literal(#", "op": "BOOTREQUEST", "client_ip": "#)
        case 2: out.literal(#", "op": "BOOTREPLY", "client_ip": "#)
        default:
            out.literal(#", "op": "op "#)
            out.decimal(UInt64(dhcp.op))
            out.literal(#"", "client_ip": "#)
        }
        out.ipv4(dhcp.clientIP)
        out.literal(#", "your_ip": "#)
        out.ipv4(dhcp.yourIP)
        out.literal(#", "requested_ip": "#)
        out.ipv4(dhcp.requestedIP)
        out.literal(#", "server_id": "#)
        out.ipv4(dhcp.serverID)
        out.byte(UInt8(ascii: "}"))
    }
}

/// Where the line being written has got to, inside space `ASCIIBuffer.reserve` made: every
/// write is a store, with no capacity check.
struct LineCursor {
    private(set) var position: UnsafeMutablePointer<UInt8>

    @inline(__always)
    init(_ position: UnsafeMutablePointer<UInt8>) { self.position = position }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        position.pointee = value
        position += 1
    }

    /// A literal of two bytes or more (one-character literals may not be stored as bytes):
    /// its length is known where it is inlined, so the copy is a few moves, not a call.
    @inline(__always)
    mutating func literal(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        UnsafeMutableRawPointer(position).copyMemory(from: text.utf8Start, byteCount: length)
        position += length
    }

    /// One of two literals: a branch each, so that each copy keeps its known length (a
    /// literal chosen by `?:` has a variable length, and its copy becomes a memcpy call).
    @inline(__always)
    mutating func literal(_ condition: Bool, _ yes: StaticString, else no: StaticString) {
        if condition { literal(yes) } else { literal(no) }
    }

    @inline(__always)
    mutating func digit(_ value: UInt8) { byte(0x30 &+ value) }

    @inline(__always)
    private mutating func pair(at target: UnsafeMutablePointer<UInt8>, _ value: Int) {
        UnsafeMutableRawPointer(target).copyMemory(from: decimalPairs.utf8Start + 2 * value, byteCount: 2)
    }

    /// Decimal, written in place from its last digit: the digit count first (from the bit
    /// length, one comparison), then two digits per table lookup.
    mutating func decimal(_ value: UInt64) {
        if value < 10 {
            byte(0x30 &+ UInt8(truncatingIfNeeded: value))
            return
        }
        if value < 100 {
            pair(at: position, Int(value))
            position += 2
            return
        }
        // floor(log10(2^bits)) is bits * 1233 >> 12 for bits <= 64; one more digit when the
        // value reaches the next power of ten.
        let estimate = ((64 &- value.leadingZeroBitCount) &* 1233) >> 12
        let digits = estimate &+ (value >= Self.powerOfTen(estimate) ? 1 : 0)
        var cursor = position + digits
        position = cursor
        var rest = value
        while rest >= 100 {
            let quotient = rest / 100
            cursor -= 2
            pair(at: cursor, Int(truncatingIfNeeded: rest &- quotient &* 100))
            rest = quotient
        }
        if rest >= 10 {
            pair(at: cursor - 2, Int(truncatingIfNeeded: rest))
        } else {
            (cursor - 1).pointee = 0x30 &+ UInt8(truncatingIfNeeded: rest)
        }
    }

    /// 10^exponent for 0...19 (the switch becomes a constant table).
    @inline(__always)
    private static func powerOfTen(_ exponent: Int) -> UInt64 {
        switch exponent {
        case 0: return 1
        case 1: return 10
        case 2: return 100
        case 3: return 1_000
        case 4: return 10_000
        case 5: return 100_000
        case 6: return 1_000_000
        case 7: return 10_000_000
        case 8: return 100_000_000
        case 9: return 1_000_000_000
        case 10: return 10_000_000_000
        case 11: return 100_000_000_000
        case 12: return 1_000_000_000_000
        case 13: return 10_000_000_000_000
        case 14: return 100_000_000_000_000
        case 15: return 1_000_000_000_000_000
        case 16: return 10_000_000_000_000_000
        case 17: return 100_000_000_000_000_000
        case 18: return 1_000_000_000_000_000_000
        default: return 10_000_000_000_000_000_000
        }
    }

    @inline(__always)
    mutating func decimal(_ value: Int64) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        decimal(value.magnitude)
    }

    /// The number or `null`.
    @inline(__always)
    mutating func decimal<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value?) {
        if let value { decimal(UInt64(value)) } else { literal("null") }
    }

    /// `"aa:bb:cc:dd:ee:ff"` or `null`: six hex pairs from the table, colons between.
    @inline(__always)
    mutating func mac(_ value: MACAddress?) {
        guard let value else {
            literal("null")
            return
        }
        let raw = value.rawValue
        let hex = hexPairs.utf8Start
        position.pointee = UInt8(ascii: "\"")
        let out = position + 1
        for index in 0..<6 {
            let octet = Int(truncatingIfNeeded: raw >> UInt64(40 - 8 * index)) & 0xff
            UnsafeMutableRawPointer(out + 3 * index).copyMemory(from: hex + 2 * octet, byteCount: 2)
            (out + 3 * index + 2).pointee = UInt8(ascii: ":")
        }
        // The sixth colon's place takes the closing quote.
        (out + 17).pointee = UInt8(ascii: "\"")
        position = out + 18
    }

    @inline(__always)
    private mutating func octet(_ value: UInt32) {
        if value >= 100 {
            let hundreds = value / 100
            byte(0x30 &+ UInt8(truncatingIfNeeded: hundreds))
            pair(at: position, Int(value &- hundreds &* 100))
            position += 2
        } else if value >= 10 {
            pair(at: position, Int(value))
            position += 2
        } else {
            byte(0x30 &+ UInt8(truncatingIfNeeded: value))
        }
    }

    /// `"a.b.c.d"` or `null`.
    @inline(__always)
    mutating func ipv4(_ value: IPv4Address?) {
        guard let value else {
            literal("null")
            return
        }
        let raw = value.rawValue
        byte(UInt8(ascii: "\""))
        octet(raw >> 24)
        byte(UInt8(ascii: "."))
        octet((raw >> 16) & 0xff)
        byte(UInt8(ascii: "."))
        octet((raw >> 8) & 0xff)
        byte(UInt8(ascii: "."))
        octet(raw & 0xff)
        byte(UInt8(ascii: "\""))
    }

    /// `"fe80::1"`, through ASCIIBuffer (rare, and RFC 5952 is not a table lookup).
    mutating func ipv6(_ value: IPv6Address, _ buffer: inout ASCIIBuffer) {
        byte(UInt8(ascii: "\""))
        buffer.end = position
        buffer.appendIPv6(value)
        position = buffer.end
        byte(UInt8(ascii: "\""))
    }

    /// `"0x0800"`.
    @inline(__always)
    mutating func hex16(_ value: UInt16) {
        let hex = hexPairs.utf8Start
        literal(#""0x"#)
        UnsafeMutableRawPointer(position).copyMemory(from: hex + 2 * Int(value >> 8), byteCount: 2)
        UnsafeMutableRawPointer(position + 2).copyMemory(from: hex + 2 * Int(value & 0xff), byteCount: 2)
        (position + 4).pointee = UInt8(ascii: "\"")
        position += 5
    }

    /// Eight hex digits, unquoted.
    @inline(__always)
    mutating func hex32(_ value: UInt32) {
        let hex = hexPairs.utf8Start
        for index in 0..<4 {
            let octet = Int(truncatingIfNeeded: value >> UInt32(24 - 8 * index)) & 0xff
            UnsafeMutableRawPointer(position + 2 * index).copyMemory(from: hex + 2 * octet, byteCount: 2)
        }
        position += 8
    }

    /// tcpdump's flag letters in `"..."` (TraceText.appendTCPFlags' order and `none`).
    mutating func tcpFlags(_ flags: UInt16) {
        byte(UInt8(ascii: "\""))
        if flags & 0xff == 0 {
            literal("none")
        } else {
            let letters: StaticString = "FSRP.UEW"
            for bit in 0..<8 where flags & (1 << bit) != 0 { byte(letters.utf8Start[bit]) }
        }
        byte(UInt8(ascii: "\""))
    }

    /// A JSON string, escaped as `JSONValue` escapes: copied whole when nothing needs it,
    /// which is every interface name.
    mutating func quoted(_ text: String) {
        byte(UInt8(ascii: "\""))
        let plain = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            if let start = utf8.baseAddress {
                position.update(from: start, count: utf8.count)
                position += utf8.count
            }
            return true
        }
        if plain != true { escaped(text) }
        byte(UInt8(ascii: "\""))
    }

    private mutating func escaped(_ text: String) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): literal("\\\"")
            case UInt8(ascii: "\\"): literal("\\\\")
            case UInt8(ascii: "\n"): literal("\\n")
            case UInt8(ascii: "\r"): literal("\\r")
            case UInt8(ascii: "\t"): literal("\\t")
            case 0..<0x20:
                literal("\\u00")
                UnsafeMutableRawPointer(position).copyMemory(from: hexPairs.utf8Start + 2 * Int(byte), byteCount: 2)
                position += 2
            default:
                self.byte(byte)
            }
        }
    }
}

/// "00" through "ff": two lowercase hex digits per lookup.
private let hexPairs: StaticString = """
    000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
    202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\
    404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\
    606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\
    808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f\
    a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
    c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf\
    e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff
    """
