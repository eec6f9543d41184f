import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// One attached port: its entry in bt_sw_ports, its AF_XDP socket (queue 0), its devmap
/// entry when the fast path redirects into it, and the bpf_link that holds its XDP hook.
/// Dropping the link (or the process dying) detaches the program: nothing is left.
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
    private var xdpLink: BPFLink?
    private let maps: SwitchMaps

    /// UMEM frames per socket: half wait in the fill ring, half carry AF_XDP TX.
    static let umemFrames: UInt32 = 4096

    init(spec: SwitchPortSpec, link: NetLink, slot: UInt32, maps: SwitchMaps, metaInBand: Bool) throws {
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
        guard let socket = bt_xsk_open(link.name, 0, SwitchPort.umemFrames, metaInBand ? 1 : 0, &err) else {
            throw SystemError("cannot open an AF_XDP socket on", subject: link.name, code: err,
                              hint: -err == EBUSY ? "another AF_XDP socket is bound to its queue 0" : nil)
        }
        xsk = socket
        do {
            try writePortEntry()
            if path == .redirect {
                try reworded("cannot add \(name) to the devmap", maps.tx.map.name) {
                    try maps.tx.update(UInt32(ifindex), UInt32(ifindex))
                }
            }
            try reworded("cannot add the AF_XDP socket of \(name) to the XSKMAP", maps.xsks.map.name) {
                try maps.xsks.update(slot, bt_xsk_fd(xsk))
            }
        } catch {
            close()
            throw error
        }
    }

    /// Puts the switch's program on the port, through a bpf_link. Separate from init so
    /// that at start every port is in the maps before any of them forwards.
    /// Any XDP mode: a port without native XDP runs it generic.
    func attach(program: BPFProgram, link: NetLink) throws {
        do {
            xdpLink = try program.attachXDP(ifindex: ifindex, interface: name, driverOnly: false)
        } catch var error as SystemError {
            try SwitchPort.refuseHeldPort(link)  // someone took the port meanwhile: say who
            error.hint = error.errno == .outOfRange || error.errno == .invalidArgument
                ? "MTU \(link.mtu) too large for XDP on this device?" : nil
            throw error
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
        guard let id = BPFProgramInfo.xdpProgramID(ifindex: link.ifindex) else { return }
        let progName = StaleProgramCleanup.programName(id: id) ?? "?"
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
        try reworded("cannot write the port entry of \(name) in", maps.ports.map.name) {
            try maps.ports.update(UInt32(ifindex), entry)
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
        let key = bt_port_key(ifindex: UInt32(ifindex), dir: BT_DIR_TX.rawValue)
        try? maps.userTx.update(key, bytes: txSlots.withUnsafeBytes { Array($0) })
        for (vid, frames) in txVLAN {
            try? maps.userVLAN.update(bt_vlan_key(ifindex: UInt32(ifindex), dir: UInt16(BT_DIR_TX.rawValue), vlan_id: vid), frames)
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
        xdpLink?.detach()
        xdpLink = nil
        maps.xsks.map.delete(slot)
        maps.tx.map.delete(UInt32(ifindex))
        maps.ports.map.delete(UInt32(ifindex))
        maps.userTx.delete(bt_port_key(ifindex: UInt32(ifindex), dir: BT_DIR_TX.rawValue))
        for vid in txVLAN.keys {
            maps.userVLAN.map.delete(bt_vlan_key(ifindex: UInt32(ifindex), dir: UInt16(BT_DIR_TX.rawValue), vlan_id: vid))
        }
        bt_xsk_close(xsk)
    }
}

/// The switch object's maps the switch writes, by role, typed where their values are
/// ABI structs (sizes checked once, at start).
struct SwitchMaps {
    let ports: TypedBPFMap<UInt32, bt_sw_port>
    let fdb: TypedBPFMap<bt_sw_fdb_key, bt_sw_fdb_entry>
    let info: TypedBPFMap<UInt32, bt_sw_info>
    /// The devmap: ifindex -> ifindex.
    let tx: TypedBPFMap<UInt32, UInt32>
    /// The XSKMAP: slot -> AF_XDP socket fd.
    let xsks: TypedBPFMap<UInt32, Int32>
    /// bt_sw_utx holds a struct bt_counters, written from the switch's slot array.
    let userTx: BPFMap
    let userVLAN: TypedBPFMap<bt_vlan_key, UInt64>
    let userDrops: TypedBPFMap<bt_sw_drop_key, UInt64>

    init(object: BPFObject) throws {
        ports = try object.map("bt_sw_ports").typed(key: UInt32.self, value: bt_sw_port.self)
        fdb = try object.map("bt_sw_fdb").typed(key: bt_sw_fdb_key.self, value: bt_sw_fdb_entry.self)
        info = try object.map("bt_sw_info").typed(key: UInt32.self, value: bt_sw_info.self)
        tx = try object.map("bt_sw_tx").typed(key: UInt32.self, value: UInt32.self)
        xsks = try object.map("bt_sw_xsks").typed(key: UInt32.self, value: Int32.self)
        userTx = try object.map("bt_sw_utx")
        userVLAN = try object.map("bt_sw_uvlan").typed(key: bt_vlan_key.self, value: UInt64.self)
        userDrops = try object.map("bt_sw_udrops").typed(key: bt_sw_drop_key.self, value: UInt64.self)
    }
}
