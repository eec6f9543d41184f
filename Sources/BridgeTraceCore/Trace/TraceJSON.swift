/// `trace --json`: one object per frame, the DESIGN.md contract keys first, in order:
///
///     time_ns port ifindex dir kind len src_mac dst_mac vlan arp src_ip dst_ip icmp
///
/// then extra keys, always present (null when they do not apply):
///
///     mono_ns caplen ethertype vlan_tags ip_proto ttl fragment src_port dst_port
///     tcp_flags dhcp truncated
///
/// `arp` is `{"op", "sender_ip", "target_ip", "sender_mac", "target_mac"}`; `icmp` is
/// `{"type", "code", "id", "seq"}` (id and seq null unless echo), followed when known by
/// `mtu`, `target` (ICMPv6 neighbor discovery) and `orig_src`, `orig_dst`, `orig_proto`,
/// `orig_src_port`, `orig_dst_port` (the datagram an ICMPv4 unreachable quotes); `dhcp` is
/// `{"message_type", "xid", "client_mac", "op", "client_ip", "your_ip", "requested_ip",
/// "server_id"}`.
public enum TraceJSON {
    public static func value(_ event: TraceEvent, wallClockOffsetNs: Int64) -> JSONValue {
        var builder = JSONValueBuilder()
        write(event, wallClockOffsetNs: wallClockOffsetNs, to: &builder)
        return builder.result
    }

    /// One line, no newline: the same text as `value(...).rendered()`, written by
    /// TraceJSONLine.
    public static func line(_ event: TraceEvent, wallClockOffsetNs: Int64) -> String {
        var buffer = ASCIIBuffer(capacity: 1024)
        event.withView { TraceJSONLine.append($0, wallClockOffsetNs: wallClockOffsetNs, to: &buffer) }
        return buffer.string
    }

    /// Appends the line (no newline) to a byte buffer, for writers that batch output.
    public static func append(_ event: TraceEvent, wallClockOffsetNs: Int64, to bytes: inout [UInt8]) {
        var buffer = ASCIIBuffer(capacity: 1024)
        event.withView { TraceJSONLine.append($0, wallClockOffsetNs: wallClockOffsetNs, to: &buffer) }
        bytes.append(contentsOf: buffer.bytes)
    }

    /// The shape, token by token, for the `JSONValue` tree (`value`): the reference that
    /// TraceJSONLine's bytes are tested against.
    static func write<Sink: JSONSink & ~Copyable>(_ event: TraceEvent, wallClockOffsetNs: Int64, to out: inout Sink) {
        let frame = event.frame
        let decoded = event.decoded
        out.beginObject()
        out.key("time_ns")
        out.int(event.wallClockNs(offsetNs: wallClockOffsetNs))
        out.key("port")
        out.string(frame.port)
        out.key("ifindex")
        out.int(Int64(frame.ifindex))
        out.key("dir")
        out.string(frame.direction == .rx ? "rx" : "tx")
        out.key("kind")
        out.string(kindName(decoded.kind))
        out.key("len")
        out.int(Int64(frame.length))
        out.member("src_mac", mac: decoded.srcMAC)
        out.member("dst_mac", mac: decoded.dstMAC)
        out.key("vlan")
        out.beginArray()
        for tag in decoded.vlans { out.uint(UInt64(tag.vid)) }
        out.endArray()
        out.key("arp")
        writeARP(decoded.arp, to: &out)
        out.member("src_ip", ip: decoded.sourceIP)
        out.member("dst_ip", ip: decoded.destinationIP)
        out.key("icmp")
        writeICMP(decoded.icmp, to: &out)

        out.key("mono_ns")
        out.uint(frame.monotonicNs)
        out.key("caplen")
        out.int(Int64(frame.bytes.count))
        out.key("ethertype")
        if let etherType = decoded.etherType { out.hex16(etherType) } else { out.null() }
        out.key("vlan_tags")
        out.beginArray()
        for tag in decoded.vlans {
            out.beginObject()
            out.key("tpid")
            out.hex16(tag.tpid)
            out.key("vid")
            out.uint(UInt64(tag.vid))
            out.key("pcp")
            out.uint(UInt64(tag.pcp))
            out.key("dei")
            out.bool(tag.dei)
            out.endObject()
        }
        out.endArray()
        out.member("ip_proto", uint: decoded.ipProtocol.map(UInt64.init) ?? decoded.ipv4.map { UInt64($0.protocol) })
        out.member("ttl", uint: decoded.ipv4.map { UInt64($0.ttl) } ?? decoded.ipv6.map { UInt64($0.hopLimit) })
        out.key("fragment")
        writeFragment(decoded, to: &out)
        out.member("src_port", uint: decoded.sourcePort.map(UInt64.init))
        out.member("dst_port", uint: decoded.destinationPort.map(UInt64.init))
        out.key("tcp_flags")
        if let tcp = decoded.tcp { out.tcpFlags(tcp.flags) } else { out.null() }
        out.key("dhcp")
        writeDHCP(decoded.dhcp, to: &out)
        out.key("truncated")
        out.bool(decoded.truncated)
        if let reason = event.dropReason {
            out.key("reason")
            out.string(reason)
            out.key("location")
            out.string(event.dropLocation ?? "")
        }
        out.endObject()
    }

    static func kindName(_ kind: EventKind) -> StaticString {
        switch kind {
        case .arp: return "arp"
        case .icmp: return "icmp"
        case .icmp6: return "icmp6"
        case .dhcp: return "dhcp"
        case .vlan: return "vlan"
        case .drop: return "drop"
        case .other: return "other"
        }
    }

    private static func writeARP<Sink: JSONSink & ~Copyable>(_ arp: ARPInfo?, to out: inout Sink) {
        guard let arp else {
            out.null()
            return
        }
        out.beginObject()
        out.key("op")
        switch arp.op {
        case .request: out.string("request")
        case .reply: out.string("reply")
        case .other: out.string(arp.op.description)
        }
        out.member("sender_ip", ipv4: arp.senderIP)
        out.member("target_ip", ipv4: arp.targetIP)
        out.member("sender_mac", mac: arp.senderMAC)
        out.member("target_mac", mac: arp.targetMAC)
        out.endObject()
    }

    private static func writeICMP<Sink: JSONSink & ~Copyable>(_ icmp: ICMPInfo?, to out: inout Sink) {
        guard let icmp else {
            out.null()
            return
        }
        out.beginObject()
        out.key("type")
        out.uint(UInt64(icmp.type))
        out.key("code")
        out.uint(UInt64(icmp.code))
        out.member("id", uint: icmp.id.map(UInt64.init))
        out.member("seq", uint: icmp.seq.map(UInt64.init))
        if let mtu = icmp.mtu {
            out.key("mtu")
            out.uint(UInt64(mtu))
        }
        if let target = icmp.target {
            out.key("target")
            out.ip(.v6(target))
        }
        if let quoted = icmp.quoted {
            out.key("orig_src")
            out.ip(.v4(quoted.source))
            out.key("orig_dst")
            out.ip(.v4(quoted.destination))
            out.key("orig_proto")
            out.uint(UInt64(quoted.protocol))
            if let port = quoted.sourcePort {
                out.key("orig_src_port")
                out.uint(UInt64(port))
            }
            if let port = quoted.destinationPort {
                out.key("orig_dst_port")
                out.uint(UInt64(port))
            }
        }
        out.endObject()
    }

    /// The `fragment` member: IPv4's fields when the datagram is a fragment, else the IPv6
    /// fragment header's; nil when neither.
    static func fragment(_ decoded: DecodedFrame) -> (id: UInt64, offset: Int, more: Bool)? {
        if let ipv4 = decoded.ipv4, ipv4.isFragment {
            return (UInt64(ipv4.identification), ipv4.fragmentOffset, ipv4.moreFragments)
        }
        if let fragment = decoded.ipv6?.fragment {
            return (UInt64(fragment.identification), fragment.offset, fragment.moreFragments)
        }
        return nil
    }

    private static func writeFragment<Sink: JSONSink & ~Copyable>(_ decoded: DecodedFrame, to out: inout Sink) {
        guard let fragment = Self.fragment(decoded) else {
            out.null()
            return
        }
        out.beginObject()
        out.key("id")
        out.uint(fragment.id)
        out.key("offset")
        out.int(Int64(fragment.offset))
        out.key("more")
        out.bool(fragment.more)
        out.endObject()
    }

    private static func writeDHCP<Sink: JSONSink & ~Copyable>(_ dhcp: DHCPInfo?, to out: inout Sink) {
        guard let dhcp else {
            out.null()
            return
        }
        out.beginObject()
        out.key("message_type")
        if let type = dhcp.messageType {
            if let name = type.staticName { out.string(name) } else { out.string(type.description) }
        } else {
            out.null()
        }
        out.key("xid")
        out.hex32(dhcp.transactionID)
        out.member("client_mac", mac: dhcp.clientMAC)
        out.key("op")
        switch dhcp.op {
        case 1: out.string("BOOTREQUEST")
        case 2: out.string("BOOTREPLY")
        default: out.string(dhcp.opName)
        }
        out.member("client_ip", ipv4: dhcp.clientIP)
        out.member("your_ip", ipv4: dhcp.yourIP)
        out.member("requested_ip", ipv4: dhcp.requestedIP)
        out.member("server_id", ipv4: dhcp.serverID)
        out.endObject()
    }
}
