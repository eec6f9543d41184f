import BridgeTraceCore
import CBridgeTraceShim
import Glibc

/// Reads a bridge's state (ports, STP states, port flags, carrier, MTU, counters, FDB)
/// over rtnetlink, in the calling thread's network namespace. setns is per thread, so a
/// caller that wants another namespace enters it on a dedicated thread first (see
/// `NetworkNamespace`).
///
/// Three dumps make one snapshot:
/// - RTM_GETLINK, AF_UNSPEC, with IFLA_STATS64 and IFLA_LINKINFO: every link's MTU, MAC,
///   carrier, operstate, kind and counters, and the bridge's IFLA_INFO_DATA (STP, VLAN
///   filtering, ageing time);
/// - RTM_GETLINK, AF_BRIDGE: each port's IFLA_PROTINFO (STP state, isolated, learning,
///   unicast and broadcast flooding);
/// - RTM_GETNEIGH, AF_BRIDGE: the FDB;
/// - RTM_GETADDR: the bridge's own IPv4 addresses (the host's side of the segment);
/// and, unless asked not to, netfilter (`NetfilterStateReader`).
/// The dumps are not one atomic read: a port that joins or leaves in between is reported
/// with what the link dump said (its flags at their kernel defaults) or not at all.
public enum BridgeStateReader {
    /// A snapshot of bridge `bridgeName` in the current thread's namespace. Throws
    /// `UserError` when there is no such bridge, `NetlinkError` when a dump fails.
    /// `netfilter`: also read br_netfilter's sysctls and the ruleset (runs nft).
    public static func read(bridgeName: String, netfilter: Bool = true) throws -> BridgeState {
        let links = try retrying("RTM_GETLINK dump (stats)") { dumpLinkDetails() }
        guard let bridgeLink = links.first(where: { linkName($0.link) == bridgeName }) else {
            throw UserError(noSuchBridge(bridgeName, links: links))
        }
        guard cString(bridgeLink.link.kind) == "bridge" else {
            let kind = cString(bridgeLink.link.kind)
            throw UserError(
                "\(bridgeName) is not a bridge (its kind is \(kind.isEmpty ? "none" : kind)); "
                    + noSuchBridge(bridgeName, links: links, lead: false))
        }
        let bridgeIndex = bridgeLink.link.ifindex
        let portFlags = try retrying("RTM_GETLINK dump (AF_BRIDGE)") { dumpBridgePorts() }
        let fdbRaw = try retrying("RTM_GETNEIGH dump (AF_BRIDGE)") { dumpFDB() }
        let addresses = try retrying("RTM_GETADDR dump") { dumpAddresses() }
        var state = assemble(bridge: bridgeLink, links: links, portFlags: portFlags, fdb: fdbRaw, bridgeIndex: bridgeIndex)
        state.bridge.addresses = addresses.filter { $0.ifindex == bridgeIndex && Int32($0.family) == AF_INET }.map { raw in
            let octets = withUnsafeBytes(of: raw.addr) { Array($0.prefix(4)) }
            return "\(octets.map(String.init).joined(separator: "."))/\(raw.prefixlen)"
        }
        if netfilter { state.netfilter = NetfilterStateReader.read() }
        return state
    }

    // MARK: Assembly

    private static func assemble(
        bridge raw: bt_nl_link_detail, links: [bt_nl_link_detail], portFlags: [bt_nl_brport],
        fdb fdbRaw: [bt_nl_fdb], bridgeIndex: Int32
    ) -> BridgeState {
        let bridge = BridgeState.Bridge(
            name: linkName(raw.link), ifindex: bridgeIndex,
            isUp: raw.link.flags & UInt32(IFF_UP) != 0, mtu: raw.link.mtu, mac: mac(raw.link.mac, raw.link.mac_len),
            stpEnabled: raw.br_stp_state != 0, vlanFiltering: raw.br_vlan_filtering != 0,
            ageingTime: raw.has_bridge_info != 0 ? Double(raw.br_ageing_time) / 100 : 300)

        let flagsByIndex = Dictionary(
            portFlags.filter { $0.master_ifindex == bridgeIndex }.map { ($0.ifindex, $0) },
            uniquingKeysWith: { _, last in last })
        let portLinks = links.filter { $0.link.master_ifindex == bridgeIndex }
            .sorted { linkName($0.link) < linkName($1.link) }

        var ports: [BridgeState.Port] = []
        var counters: [String: BridgeState.DeviceCounters] = [:]
        var names: [Int32: String] = [bridgeIndex: bridge.name]
        for detail in portLinks {
            let link = detail.link
            let name = linkName(link)
            names[link.ifindex] = name
            let flags = flagsByIndex[link.ifindex]
            let kind = cString(link.kind)
            ports.append(
                BridgeState.Port(
                    name: name, ifindex: link.ifindex, kind: kind.isEmpty ? nil : kind,
                    mac: mac(link.mac, link.mac_len), mtu: link.mtu,
                    isUp: link.flags & UInt32(IFF_UP) != 0,
                    hasCarrier: link.carrier == BT_NL_CARRIER_UNKNOWN
                        ? link.flags & iffLowerUp != 0 : link.carrier != 0,
                    operState: operStateName(link.operstate),
                    stpState: flags.flatMap { BridgeState.STPState(rawValue: $0.state) } ?? .forwarding,
                    isolated: flag(flags?.isolated, default: false),
                    learning: flag(flags?.learning, default: true),
                    unicastFlood: flag(flags?.unicast_flood, default: true),
                    broadcastFlood: flag(flags?.bcast_flood, default: true)))
            if detail.has_stats != 0 {
                counters[name] = BridgeState.DeviceCounters(
                    rxPackets: detail.rx_packets, txPackets: detail.tx_packets,
                    rxDropped: detail.rx_dropped, txDropped: detail.tx_dropped,
                    rxMissedErrors: detail.rx_missed_errors, txErrors: detail.tx_errors)
            }
        }

        // The bridge's entries: learned and local ones (NDA_MASTER = the bridge), and each
        // port's or the bridge's own address-list ("self") entries, as `bridge fdb show br`.
        let fdb: [BridgeState.FDBEntry] = fdbRaw.compactMap { entry -> BridgeState.FDBEntry? in
            let belongs = entry.master_ifindex == bridgeIndex
                || (entry.master_ifindex == 0 && names[entry.ifindex] != nil)
            guard belongs, entry.mac_len == 6 else { return nil }
            let state = Int32(entry.state)
            return BridgeState.FDBEntry(
                mac: mac(entry.mac, entry.mac_len), ifindex: entry.ifindex,
                port: names[entry.ifindex] ?? "if\(entry.ifindex)",
                isLocal: state & nudPermanent != 0,
                isStatic: state & nudNoARP != 0,
                vlan: entry.has_vlan != 0 ? entry.vlan : nil)
        }
        return BridgeState(bridge: bridge, ports: ports, fdb: fdb, deviceCounters: counters)
    }

    private static func flag(_ value: UInt8?, default fallback: Bool) -> Bool {
        guard let value, value != UInt8(BT_NL_FLAG_UNKNOWN) else { return fallback }
        return value != 0
    }

    /// iproute2's names for IF_OPER_*, lowercase ("up", "lowerlayerdown"...).
    static func operStateName(_ value: UInt8) -> String {
        switch value {
        case 0: return "unknown"
        case 1: return "notpresent"
        case 2: return "down"
        case 3: return "lowerlayerdown"
        case 4: return "testing"
        case 5: return "dormant"
        case 6: return "up"
        default: return "unknown"
        }
    }

    private static func noSuchBridge(_ name: String, links: [bt_nl_link_detail], lead: Bool = true) -> String {
        let bridges = links.filter { cString($0.link.kind) == "bridge" }.map { linkName($0.link) }.sorted()
        let here = bridges.isEmpty
            ? "no bridges in this network namespace (use --netns NAME for a bridge in another one)"
            : "bridges here: \(bridges.joined(separator: ", "))"
        return (lead ? "no bridge named \(name): " : "") + here
    }

    // MARK: Dumps

    /// Redoes a dump the kernel flagged as interrupted, as `NetlinkLinks.dump` does.
    private static func retrying<T>(_ operation: String, _ dump: () -> (Int32, [T])) throws -> [T] {
        var attempt = 0
        while true {
            let (rc, items) = dump()
            if rc == 0 { return items }
            attempt += 1
            if rc == -EINTR && attempt <= NetlinkLinks.interruptedRetries { continue }
            throw NetlinkError(operation: operation, errno: -rc)
        }
    }

    private static func dumpLinkDetails() -> (Int32, [bt_nl_link_detail]) {
        var items: [bt_nl_link_detail] = []
        let rc = withUnsafeMutablePointer(to: &items) { out in
            bt_nl_dump_link_details({ raw, ctx in
                guard let raw, let ctx else { return }
                ctx.assumingMemoryBound(to: [bt_nl_link_detail].self).pointee.append(raw.pointee)
            }, out)
        }
        return (rc, items)
    }

    private static func dumpBridgePorts() -> (Int32, [bt_nl_brport]) {
        var items: [bt_nl_brport] = []
        let rc = withUnsafeMutablePointer(to: &items) { out in
            bt_nl_dump_bridge_ports({ raw, ctx in
                guard let raw, let ctx else { return }
                ctx.assumingMemoryBound(to: [bt_nl_brport].self).pointee.append(raw.pointee)
            }, out)
        }
        return (rc, items)
    }

    private static func dumpAddresses() -> (Int32, [bt_nl_addr]) {
        var items: [bt_nl_addr] = []
        let rc = withUnsafeMutablePointer(to: &items) { out in
            bt_nl_dump_addrs({ raw, ctx in
                guard let raw, let ctx else { return }
                ctx.assumingMemoryBound(to: [bt_nl_addr].self).pointee.append(raw.pointee)
            }, out)
        }
        return (rc, items)
    }

    private static func dumpFDB() -> (Int32, [bt_nl_fdb]) {
        var items: [bt_nl_fdb] = []
        let rc = withUnsafeMutablePointer(to: &items) { out in
            bt_nl_dump_fdb({ raw, ctx in
                guard let raw, let ctx else { return }
                ctx.assumingMemoryBound(to: [bt_nl_fdb].self).pointee.append(raw.pointee)
            }, out)
        }
        return (rc, items)
    }

    // MARK: C conversions

    // linux/if.h and linux/neighbour.h values Glibc does not export to Swift.
    private static let iffLowerUp: UInt32 = 0x10000
    private static let nudNoARP: Int32 = 0x40
    private static let nudPermanent: Int32 = 0x80

    private static func linkName(_ link: bt_nl_link) -> String { cString(link.name) }

    private static func mac<T>(_ tuple: T, _ length: UInt8) -> String {
        withUnsafeBytes(of: tuple) { bytes in
            let octets = bytes.prefix(Int(length))
            if let address = MACAddress(octets) { return address.description }
            return octets.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined(separator: ":")
        }
    }

    private static func cString<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { bytes in
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }
}
