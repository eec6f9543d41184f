/// `trace`'s default output: one tcpdump-like line per frame, port and direction first.
///
///     12:00:01.123456 tap-vm1 rx vlan 100 ARP who-has 10.0.0.1 tell 10.0.0.50
///     12:00:01.123460 vm1 rx IP 198.18.0.11 > 198.18.0.12: ICMP echo request, id 7, seq 3, length 64
///
/// The time is local, as tcpdump prints it. A frame whose headers were cut ends with
/// ` [truncated]`.
public enum TraceText {
    public static func line(_ event: TraceEvent, wallClockOffsetNs: Int64) -> String {
        event.withView { view in
            ASCIIBuffer.string(capacity: 160) { write(view, wallClockOffsetNs: wallClockOffsetNs, to: &$0) }
        }
    }

    /// Appends the line, without a newline, to a byte buffer, for writers that batch output.
    public static func append(_ event: TraceEvent, wallClockOffsetNs: Int64, to bytes: inout [UInt8]) {
        var buffer = ASCIIBuffer(capacity: 160)
        event.withView { write($0, wallClockOffsetNs: wallClockOffsetNs, to: &buffer) }
        bytes.append(contentsOf: buffer.bytes)
    }

    static func write(_ event: borrowing TraceEventView, wallClockOffsetNs: Int64, to out: inout ASCIIBuffer) {
        WallClock.appendLocalTimeOfDay(event.wallClockNs(offsetNs: wallClockOffsetNs), to: &out)
        out.append(UInt8(ascii: " "))
        out.appendUTF8(event.port)
        out.append(UInt8(ascii: " "))
        out.appendASCII(event.direction == .rx ? "rx" : "tx")
        out.append(UInt8(ascii: " "))
        if let reason = event.dropReason {
            out.appendASCII("DROP ")
            out.appendUTF8(reason)
            out.appendASCII(" at ")
            out.appendUTF8(event.dropLocation ?? "?")
            out.appendASCII(": ")
        }
        appendSummary(event.decoded, length: event.length, to: &out)
    }

    /// What the frame is, without time, port and direction: `vlan 100 ARP who-has ...`.
    /// `length` is the frame's length on the wire.
    public static func summary(_ decoded: DecodedFrame, length: Int) -> String {
        ASCIIBuffer.string(capacity: 128) { appendSummary(decoded, length: length, to: &$0) }
    }

    static func appendSummary(_ decoded: DecodedFrame, length: Int, to out: inout ASCIIBuffer) {
        for tag in decoded.vlans {
            out.appendASCII("vlan ")
            out.appendDecimal(UInt64(tag.vid))
            out.append(UInt8(ascii: " "))
        }
        if let etherType = decoded.etherType {
            switch etherType {
            case 0x0806: appendARP(decoded.arp, to: &out)
            case 0x0800 where decoded.ipv4 != nil: appendIP(decoded, to: &out)
            case 0x86dd where decoded.ipv6 != nil: appendIP(decoded, to: &out)
            case 0x0800: out.appendASCII("IP")
            case 0x86dd: out.appendASCII("IP6")
            case ...1500: appendLLC(decoded.llc, length: length, to: &out)
            default:
                out.appendASCII("ethertype ")
                if let name = etherTypeName(etherType) {
                    out.appendASCII(name)
                    out.appendASCII(" (")
                    out.appendHex16(etherType)
                    out.append(UInt8(ascii: ")"))
                } else {
                    out.appendHex16(etherType)
                }
                appendLength(length, to: &out)
            }
        } else {
            out.appendASCII("ethernet")
            appendLength(length, to: &out)
        }
        if decoded.truncated { out.appendASCII(" [truncated]") }
    }

    static func etherTypeName(_ etherType: UInt16) -> StaticString? {
        switch etherType {
        case 0x88cc: return "LLDP"
        case 0x888e: return "EAPOL"
        case 0x8809: return "slow-protocols"
        case 0x88f7: return "PTP"
        case 0x8847: return "MPLS"
        case 0x8848: return "MPLS-multicast"
        case 0x8863: return "PPPoE-discovery"
        case 0x8864: return "PPPoE-session"
        case 0x8035: return "RARP"
        case 0x0842: return "WoL"
        case 0x8100, 0x88a8, 0x9100: return "VLAN"
        default: return nil
        }
    }

    private static func appendLength(_ length: Int, to out: inout ASCIIBuffer) {
        out.appendASCII(", length ")
        out.appendDecimal(length)
    }

    private static func appendLLC(_ llc: LLCHeader?, length: Int, to out: inout ASCIIBuffer) {
        if let llc {
            if llc.isSTP {
                out.appendASCII("STP")
            } else {
                out.appendASCII("802.3 LLC dsap 0x")
                out.appendHexByte(llc.dsap)
                out.appendASCII(" ssap 0x")
                out.appendHexByte(llc.ssap)
            }
        } else {
            out.appendASCII("802.3")
        }
        appendLength(length, to: &out)
    }

    private static func appendARP(_ arp: ARPInfo?, to out: inout ASCIIBuffer) {
        out.appendASCII("ARP")
        guard let arp else { return }
        switch arp.op {
        case .request:
            if let target = arp.targetIP {
                out.appendASCII(" who-has ")
                out.appendIPv4(target)
                if let sender = arp.senderIP {
                    out.appendASCII(" tell ")
                    out.appendIPv4(sender)
                }
            } else {
                out.appendASCII(" request")
            }
        case .reply:
            out.appendASCII(" reply")
            if let sender = arp.senderIP {
                out.append(UInt8(ascii: " "))
                out.appendIPv4(sender)
                if let mac = arp.senderMAC {
                    out.appendASCII(" is-at ")
                    out.appendMAC(mac)
                }
            }
        case .other(let op):
            out.appendASCII(" op ")
            out.appendDecimal(UInt64(op))
        }
        if !arp.isEthernetIPv4 {
            out.appendASCII(", htype ")
            out.appendDecimal(UInt64(arp.hardwareType))
            out.appendASCII(" ptype ")
            out.appendHex16(arp.protocolType)
        }
    }

    /// `IP a[.port] > b[.port]: ...` or `IP6 ...`.
    private static func appendIP(_ decoded: DecodedFrame, to out: inout ASCIIBuffer) {
        guard let source = decoded.sourceIP, let destination = decoded.destinationIP else { return }
        out.appendASCII(decoded.ipv6 != nil ? "IP6 " : "IP ")
        out.appendIP(source)
        if let port = decoded.sourcePort {
            out.append(UInt8(ascii: "."))
            out.appendDecimal(UInt64(port))
        }
        out.appendASCII(" > ")
        out.appendIP(destination)
        if let port = decoded.destinationPort {
            out.append(UInt8(ascii: "."))
            out.appendDecimal(UInt64(port))
        }
        out.appendASCII(": ")
        appendIPPayload(decoded, to: &out)
    }

    private static func appendProtocolName(_ number: UInt8, to out: inout ASCIIBuffer) {
        if let name = IPProtocolNumber.name(number) {
            out.appendASCII(name)
        } else {
            out.appendASCII("ip-proto-")
            out.appendDecimal(UInt64(number))
        }
    }

    private static func appendIPPayload(_ decoded: DecodedFrame, to out: inout ASCIIBuffer) {
        guard let ipProtocol = decoded.ipProtocol else {
            // An IPv4 header with IHL under 5, or IPv6 extension headers that were cut.
            if let ipv4 = decoded.ipv4 {
                out.appendASCII("bad header length ")
                out.appendDecimal(ipv4.headerLength)
            } else if let ipv6 = decoded.ipv6 {
                appendProtocolName(ipv6.nextHeader, to: &out)
            }
            return
        }
        let payloadLength = decoded.ipPayloadLength ?? 0
        if decoded.isNonFirstFragment {
            appendProtocolName(ipProtocol, to: &out)
            out.appendASCII(" fragment, id ")
            if let ipv4 = decoded.ipv4 {
                out.appendDecimal(UInt64(ipv4.identification))
                out.appendASCII(", offset ")
                out.appendDecimal(ipv4.fragmentOffset)
            } else if let fragment = decoded.ipv6?.fragment {
                out.appendDecimal(UInt64(fragment.identification))
                out.appendASCII(", offset ")
                out.appendDecimal(fragment.offset)
            }
            appendLength(payloadLength, to: &out)
            return
        }
        switch ipProtocol {
        case IPProtocolNumber.icmp where decoded.ipv4 != nil:
            out.appendASCII("ICMP")
            guard let icmp = decoded.icmp else { return }
            appendICMPv4(icmp, to: &out)
            appendLength(payloadLength, to: &out)
        case IPProtocolNumber.icmp6 where decoded.ipv6 != nil:
            out.appendASCII("ICMP6")
            guard let icmp = decoded.icmp else { return }
            appendICMPv6(icmp, to: &out)
            appendLength(payloadLength, to: &out)
        case IPProtocolNumber.udp:
            if decoded.kind == .dhcp {
                out.appendASCII("DHCP")
                if let dhcp = decoded.dhcp { appendDHCP(dhcp, to: &out) }
                return
            }
            out.appendASCII("UDP")
            guard let udp = decoded.udp else { return }
            appendLength(max(0, Int(udp.length) - 8), to: &out)
        case IPProtocolNumber.tcp:
            guard let tcp = decoded.tcp else {
                out.appendASCII("TCP")
                return
            }
            out.appendASCII("Flags [")
            appendTCPFlags(tcp.flags, to: &out)
            out.append(UInt8(ascii: "]"))
            appendLength(max(0, payloadLength - tcp.headerLength), to: &out)
        default:
            appendProtocolName(ipProtocol, to: &out)
            appendLength(payloadLength, to: &out)
        }
    }

    private static func appendEcho(_ icmp: ICMPInfo, request: Bool, to out: inout ASCIIBuffer) {
        out.appendASCII(request ? " echo request" : " echo reply")
        if let id = icmp.id, let seq = icmp.seq {
            out.appendASCII(", id ")
            out.appendDecimal(UInt64(id))
            out.appendASCII(", seq ")
            out.appendDecimal(UInt64(seq))
        }
    }

    private static func appendTypeAndCode(_ icmp: ICMPInfo, to out: inout ASCIIBuffer) {
        out.appendASCII(" type ")
        out.appendDecimal(UInt64(icmp.type))
        out.appendASCII(" code ")
        out.appendDecimal(UInt64(icmp.code))
    }

    private static func appendICMPv4(_ icmp: ICMPInfo, to out: inout ASCIIBuffer) {
        switch icmp.type {
        case 8: appendEcho(icmp, request: true, to: &out)
        case 0: appendEcho(icmp, request: false, to: &out)
        case 3: appendUnreachable(icmp, to: &out)
        case 11:
            if icmp.code == 0 {
                out.appendASCII(" time exceeded in-transit")
            } else {
                out.appendASCII(" time exceeded, code ")
                out.appendDecimal(UInt64(icmp.code))
            }
        default: appendTypeAndCode(icmp, to: &out)
        }
    }

    /// tcpdump's wording: `ICMP 198.18.0.1 udp port 53 unreachable`.
    private static func appendUnreachable(_ icmp: ICMPInfo, to out: inout ASCIIBuffer) {
        guard let quoted = icmp.quoted else {
            out.appendASCII(" unreachable, code ")
            out.appendDecimal(UInt64(icmp.code))
            return
        }
        out.append(UInt8(ascii: " "))
        switch icmp.code {
        case 0:
            out.appendASCII("net ")
            out.appendIPv4(quoted.destination)
            out.appendASCII(" unreachable")
        case 1:
            out.appendASCII("host ")
            out.appendIPv4(quoted.destination)
            out.appendASCII(" unreachable")
        case 2:
            out.appendIPv4(quoted.destination)
            out.appendASCII(" protocol ")
            out.appendDecimal(UInt64(quoted.protocol))
            out.appendASCII(" unreachable")
        case 3:
            out.appendIPv4(quoted.destination)
            out.append(UInt8(ascii: " "))
            if let port = quoted.destinationPort {
                appendProtocolName(quoted.protocol, to: &out)
                out.appendASCII(" port ")
                out.appendDecimal(UInt64(port))
            } else {
                out.appendASCII("port")
            }
            out.appendASCII(" unreachable")
        case 4:
            out.appendIPv4(quoted.destination)
            out.appendASCII(" unreachable - need to frag")
            if let mtu = icmp.mtu {
                out.appendASCII(" (mtu ")
                out.appendDecimal(UInt64(mtu))
                out.append(UInt8(ascii: ")"))
            }
        case 9, 10, 13:
            out.appendASCII("host ")
            out.appendIPv4(quoted.destination)
            out.appendASCII(" unreachable - admin prohibited")
        default:
            out.appendIPv4(quoted.destination)
            out.appendASCII(" unreachable, code ")
            out.appendDecimal(UInt64(icmp.code))
        }
    }

    private static func appendICMPv6(_ icmp: ICMPInfo, to out: inout ASCIIBuffer) {
        switch icmp.type {
        case 128: appendEcho(icmp, request: true, to: &out)
        case 129: appendEcho(icmp, request: false, to: &out)
        case 1:
            out.appendASCII(" destination unreachable, code ")
            out.appendDecimal(UInt64(icmp.code))
        case 2:
            out.appendASCII(" packet too big")
            if let mtu = icmp.mtu {
                out.appendASCII(", mtu ")
                out.appendDecimal(UInt64(mtu))
            }
        case 3:
            out.appendASCII(" time exceeded, code ")
            out.appendDecimal(UInt64(icmp.code))
        case 133: out.appendASCII(" router solicitation")
        case 134: out.appendASCII(" router advertisement")
        case 135:
            out.appendASCII(" neighbor solicitation")
            if let target = icmp.target {
                out.appendASCII(", who has ")
                out.appendIPv6(target)
            }
        case 136:
            out.appendASCII(" neighbor advertisement")
            if let target = icmp.target {
                out.appendASCII(", tgt is ")
                out.appendIPv6(target)
            }
        case 137: out.appendASCII(" redirect")
        case 130: out.appendASCII(" multicast listener query")
        case 131: out.appendASCII(" multicast listener report")
        case 132: out.appendASCII(" multicast listener done")
        case 143: out.appendASCII(" multicast listener report v2")
        default:
            out.appendASCII(" type ")
            out.appendDecimal(UInt64(icmp.type))
            if icmp.code != 0 {
                out.appendASCII(" code ")
                out.appendDecimal(UInt64(icmp.code))
            }
        }
    }

    /// `DHCP discover, xid 0x1234abcd, client 52:54:00:00:00:01`. Without the options (the
    /// usual snap length stops short of them) the BOOTP op stands in for the message type.
    private static func appendDHCP(_ dhcp: DHCPInfo, to out: inout ASCIIBuffer) {
        out.append(UInt8(ascii: " "))
        if let type = dhcp.messageType {
            if let name = type.staticName {
                out.appendASCII(name)
            } else {
                out.appendASCII("type ")
                out.appendDecimal(UInt64(type.rawValue))
            }
        } else {
            switch dhcp.op {
            case 1: out.appendASCII("BOOTREQUEST")
            case 2: out.appendASCII("BOOTREPLY")
            default:
                out.appendASCII("op ")
                out.appendDecimal(UInt64(dhcp.op))
            }
        }
        out.appendASCII(", xid 0x")
        out.appendHex(UInt64(dhcp.transactionID), digits: 8)
        if let mac = dhcp.clientMAC {
            out.appendASCII(", client ")
            out.appendMAC(mac)
        }
        if let yourIP = dhcp.yourIP {
            out.appendASCII(", your-ip ")
            out.appendIPv4(yourIP)
        }
    }

    /// tcpdump's flag letters and order; `.` is ACK.
    static func appendTCPFlags(_ flags: UInt16, to out: inout ASCIIBuffer) {
        if flags & 0xff == 0 {
            out.appendASCII("none")
            return
        }
        let letters: [(UInt16, UInt8)] = [
            (0x01, UInt8(ascii: "F")), (0x02, UInt8(ascii: "S")), (0x04, UInt8(ascii: "R")),
            (0x08, UInt8(ascii: "P")), (0x10, UInt8(ascii: ".")), (0x20, UInt8(ascii: "U")),
            (0x40, UInt8(ascii: "E")), (0x80, UInt8(ascii: "W")),
        ]
        for (bit, letter) in letters where flags & bit != 0 { out.append(letter) }
    }
}
