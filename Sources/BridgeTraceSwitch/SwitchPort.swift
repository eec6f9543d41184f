import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import CLibBPF
import Foundation

/// One attached port: its entry in bt_sw_ports, its AF_XDP socket (queue 0), its devmap
/// entry when the fast path redirects into it, and the bpf_link that holds its XDP hook.
/// Closing the link fd (or the process dying) detaches the program: nothing is left.
final class SwitchPort {
    let spec: SwitchPortSpec
    let name: String
    let ifindex: Int32
    let kind: String?
    let path: SwitchEgressPath
    /// Why the fast path cannot redirect into the port, when it cannot.
    let pathNote: String?
    let slot: UInt32
    private(set) var up: Bool
    private(set) var mtu: UInt32
    let xsk: OpaquePointer
    private var linkFD: Int32 = -1
    private let maps: SwitchMaps

    /// UMEM frames per socket: half wait in the fill ring, half carry AF_XDP TX.
    static let umemFrames: UInt32 = 4096

    init(spec: SwitchPortSpec, link: NetLink, slot: UInt32, maps: SwitchMaps) throws {
        self.spec = spec
        name = link.name
        ifindex = link.ifindex
        kind = link.kind
        self.slot = slot
        self.maps = maps
        up = SwitchPort.isUp(link)
        mtu = link.mtu
        if let forced = spec.path {
            path = forced
            pathNote = forced == .xsk ? "forced with --xsk" : nil
        } else if link.kind == "veth" {
            // A veth drops redirected frames unless its peer runs NAPI (XDP or GRO), which
            // the switch cannot know for a peer in another namespace: AF_XDP TX always lands.
            path = .xsk
            pathNote = "veth: redirects need NAPI on the peer; sent with AF_XDP TX (--redirect \(link.name) to override)"
        } else {
            path = .redirect
            pathNote = nil
        }
        try SwitchPort.refuseHeldPort(link)
        var err: Int32 = 0
        guard let socket = bt_xsk_open(link.name, 0, SwitchPort.umemFrames, &err) else {
            throw UserError.kernel("cannot open an AF_XDP socket on \(link.name)", errno: err,
                                   hint: -err == EBUSY ? "another AF_XDP socket is bound to its queue 0" : nil)
        }
        xsk = socket
        do {
            try writePortEntry()
            if path == .redirect {
                var key = UInt32(ifindex)
                var value = UInt32(ifindex)
                if bpf_map_update_elem(maps.tx.fd, &key, &value, UInt64(BPF_ANY)) != 0 {
                    throw UserError.kernel("cannot add \(name) to the devmap", errno: errno)
                }
            }
            var key = slot
            var fd = bt_xsk_fd(xsk)
            if bpf_map_update_elem(maps.xsks.fd, &key, &fd, UInt64(BPF_ANY)) != 0 {
                throw UserError.kernel("cannot add the AF_XDP socket of \(name) to the XSKMAP", errno: errno)
            }
        } catch {
            close()
            throw error
        }
    }

    /// Puts the switch's program on the port, through a bpf_link. Separate from init so
    /// that at start every port is in the maps before any of them forwards.
    func attach(programFD: Int32, link: NetLink) throws {
        linkFD = bpf_link_create(programFD, ifindex, BPF_XDP, nil)
        if linkFD < 0 {
            let code = errno
            try SwitchPort.refuseHeldPort(link)  // someone took the port meanwhile: say who
            throw UserError.kernel("cannot attach XDP to \(name)", errno: code,
                                   hint: code == ERANGE || code == EINVAL ? "MTU \(link.mtu) too large for XDP on this device?" : nil)
        }
    }

    /// Administratively up with carrier. Not operstate: the kernel's linkwatch publishes
    /// that up to a second late, while the device already carries frames.
    static func isUp(_ link: NetLink) -> Bool {
        link.isUp && link.hasCarrier != false && link.operState != .lowerLayerDown && link.operState != .notPresent
    }

    /// A port that already has an XDP program is never taken over: another switch's,
    /// or a foreign one.
    static func refuseHeldPort(_ link: NetLink) throws {
        var id: UInt32 = 0
        guard bpf_xdp_query_id(link.ifindex, 0, &id) == 0, id != 0 else { return }
        var progName = "?"
        let fd = bpf_prog_get_fd_by_id(id)
        if fd >= 0 {
            var info = bpf_prog_info()
            var length = UInt32(MemoryLayout<bpf_prog_info>.size)
            if bpf_obj_get_info_by_fd(fd, &info, &length) == 0 {
                progName = withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            }
            Glibc.close(fd)
        }
        if let owner = SwitchPins.owner(ofProgramID: id) {
            throw UserError("\(link.name) is already a port of switch \(owner) (XDP program \(progName), id \(id)); a port belongs to one switch: stop that switch or pick another port")
        }
        throw UserError("\(link.name) already runs an XDP program that is not this switch's: \(progName) (id \(id)); the switch never takes a port over: remove it first (ip link set dev \(link.name) xdp off) or pick another port")
    }

    func writePortEntry() throws {
        var entry = bt_sw_port()
        entry.ifindex = UInt32(ifindex)
        entry.mode = UInt8(spec.mode == .access ? BT_SW_MODE_ACCESS.rawValue : BT_SW_MODE_TRUNK.rawValue)
        entry.redirect = path == .redirect ? 1 : 0
        entry.up = up ? 1 : 0
        entry.pvid = spec.pvid ?? 0
        entry.mtu = mtu
        entry.xsk_slot = slot
        entry.xsk_queues = 1
        withUnsafeMutableBytes(of: &entry.vlans) { words in
            let bits = words.bindMemory(to: UInt64.self)
            for vid in spec.vlans { bits[Int(vid) >> 6] |= 1 << UInt64(vid & 63) }
        }
        var key = UInt32(ifindex)
        if bpf_map_update_elem(maps.ports.fd, &key, &entry, UInt64(BPF_ANY)) != 0 {
            throw UserError.kernel("cannot write the port entry of \(name)", errno: errno)
        }
    }

    /// Follows carrier and MTU; returns a line for the operator when either changed.
    func update(from link: NetLink) -> String? {
        let nowUp = SwitchPort.isUp(link)
        guard nowUp != up || link.mtu != mtu else { return nil }
        let line = nowUp != up ? "\(name): port \(nowUp ? "up" : "down")" : "\(name): MTU \(mtu) -> \(link.mtu)"
        up = nowUp
        mtu = link.mtu
        try? writePortEntry()
        return line
    }

    /// What this process sent out of the port (bt_counters slots, and frames per VID), in
    /// the kernel's layout, published to bt_sw_utx / bt_sw_uvlan for readers.
    private var txSlots = [UInt64](repeating: 0, count: Int(BT_CTR_MAX.rawValue))
    private var txVLAN: [UInt16: UInt64] = [:]

    func countTx(bytes: UInt64, counter: Int, vid: UInt16?) {
        txSlots[Int(BT_CTR_FRAMES.rawValue)] &+= 1
        txSlots[Int(BT_CTR_BYTES.rawValue)] &+= bytes
        if counter < txSlots.count { txSlots[counter] &+= 1 }
        if let vid {
            txSlots[Int(BT_CTR_VLAN_TAGGED.rawValue)] &+= 1
            txVLAN[vid, default: 0] &+= 1
        }
    }

    func publishTx(_ maps: SwitchMaps) {
        guard txSlots[Int(BT_CTR_FRAMES.rawValue)] > 0 else { return }
        var key = bt_port_key(ifindex: UInt32(ifindex), dir: BT_DIR_TX.rawValue)
        txSlots.withUnsafeBytes { _ = bpf_map_update_elem(maps.userTx.fd, &key, $0.baseAddress, UInt64(BPF_ANY)) }
        for (vid, frames) in txVLAN {
            var key = bt_vlan_key(ifindex: UInt32(ifindex), dir: UInt16(BT_DIR_TX.rawValue), vlan_id: vid)
            var frames = frames
            bpf_map_update_elem(maps.userVLAN.fd, &key, &frames, UInt64(BPF_ANY))
        }
    }

    func stats() -> bt_xsk_stats {
        var stats = bt_xsk_stats()
        _ = bt_xsk_stats(xsk, &stats)
        return stats
    }

    private var closed = false

    /// Detaches and forgets the port. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        if linkFD >= 0 {
            Glibc.close(linkFD)
            linkFD = -1
        }
        var key = slot
        bpf_map_delete_elem(maps.xsks.fd, &key)
        var index = UInt32(ifindex)
        bpf_map_delete_elem(maps.tx.fd, &index)
        bpf_map_delete_elem(maps.ports.fd, &index)
        var txKey = bt_port_key(ifindex: UInt32(ifindex), dir: BT_DIR_TX.rawValue)
        bpf_map_delete_elem(maps.userTx.fd, &txKey)
        for vid in txVLAN.keys {
            var key = bt_vlan_key(ifindex: UInt32(ifindex), dir: UInt16(BT_DIR_TX.rawValue), vlan_id: vid)
            bpf_map_delete_elem(maps.userVLAN.fd, &key)
        }
        bt_xsk_close(xsk)
    }
}

/// The switch object's maps, by role.
struct SwitchMaps {
    let ports: BPFMap
    let fdb: BPFMap
    let info: BPFMap
    let tx: BPFMap
    let xsks: BPFMap
    let drops: BPFMap
    let stats: BPFMap
    let userTx: BPFMap
    let userVLAN: BPFMap
    let userDrops: BPFMap

    init(object: BPFObject) throws {
        ports = try object.map("bt_sw_ports")
        fdb = try object.map("bt_sw_fdb")
        info = try object.map("bt_sw_info")
        tx = try object.map("bt_sw_tx")
        xsks = try object.map("bt_sw_xsks")
        drops = try object.map("bt_sw_drops")
        stats = try object.map("bt_sw_stats")
        userTx = try object.map("bt_sw_utx")
        userVLAN = try object.map("bt_sw_uvlan")
        userDrops = try object.map("bt_sw_udrops")
    }
}
