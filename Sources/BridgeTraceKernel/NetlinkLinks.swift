import Glibc
import CBridgeTraceShim

/// Link discovery over rtnetlink (libmnl), in the calling thread's network namespace.
public enum NetlinkLinks {
    /// How often to redo a dump the kernel flagged as interrupted (links changed during
    /// it) before giving up; a churning host settles well within this.
    static let interruptedRetries = 5

    /// Every link in the calling thread's current network namespace, in kernel order.
    /// Throws `NetlinkError` when the dump fails.
    public static func dump() throws -> [NetLink] {
        var attempt = 0
        while true {
            var links: [NetLink] = []
            let rc = withUnsafeMutablePointer(to: &links) { out in
                bt_nl_dump_links({ raw, ctx in
                    guard let raw, let ctx else { return }
                    ctx.assumingMemoryBound(to: [NetLink].self).pointee.append(NetLink(raw.pointee))
                }, out)
            }
            if rc == 0 { return links }
            attempt += 1
            if rc == -EINTR && attempt <= interruptedRetries { continue }
            throw NetlinkError(operation: "RTM_GETLINK dump", errno: -rc)
        }
    }

    /// The links enslaved to the bridge with that ifindex, sorted by name.
    public static func bridgePorts(ofBridgeIndex bridgeIndex: Int32, in links: [NetLink]) -> [NetLink] {
        links.filter { $0.masterIndex == bridgeIndex }.sorted { $0.name < $1.name }
    }
}

extension NetLink {
    init(_ raw: bt_nl_link) {
        let kind = cString(raw.kind)
        self.init(
            ifindex: raw.ifindex,
            name: cString(raw.name),
            kind: kind.isEmpty ? nil : kind,
            masterIndex: raw.master_ifindex == 0 ? nil : raw.master_ifindex,
            mtu: raw.mtu,
            isUp: raw.flags & UInt32(IFF_UP) != 0,
            operState: OperState(rawValue: raw.operstate) ?? .unknown,
            hasCarrier: raw.carrier == BT_NL_CARRIER_UNKNOWN ? nil : raw.carrier != 0,
            mac: withUnsafeBytes(of: raw.mac) { Array($0.prefix(Int(raw.mac_len))) }
        )
    }
}

/// A fixed-size C char array (imported as a tuple) up to its first NUL.
private func cString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { bytes in
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
