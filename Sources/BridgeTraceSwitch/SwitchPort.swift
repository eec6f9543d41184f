import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// One attached port: its entry in bt_sw_ports, an AF_XDP socket per rx queue (XSKMAP
/// slots `slot ..< slot + queues`), its devmap entry when the fast path redirects into it,
/// and the links that hold its XDP hook and its tc ingress program (the skb path).
/// Dropping the links (or the process dying) detaches the programs: nothing is left.
final class SwitchPort {
    let spec: SwitchPortSpec
    let name: String
    let ifindex: Int32
    let kind: String?
    let path: SwitchEgressPath
    /// Why the fast path cannot redirect into the port, when it cannot.
    let pathNote: String?
    /// The first of its XSKMAP slots (rx queue 0), allocated once its queues are known.
    private(set) var slot: UInt32 = 0
    private(set) var up: Bool
    private(set) var mtu: UInt32
    /// One AF_XDP socket per rx queue, index = queue. Queue 0's also sends (AF_XDP TX).
    let sockets: [OpaquePointer]
    var xsk: OpaquePointer { sockets[0] }
    /// Bound for multi-buffer frames (XDP_USE_SG): frames longer than a UMEM frame pass.
    var multiBuffer: Bool { bt_xsk_sg(sockets[0]) != 0 }
    private var xdpLink: BPFLink?
    private var tcLink: BPFLink?
    private var tcClsact: (attached: Bool, createdHook: Bool) = (false, false)
    private let maps: SwitchMaps
    /// Its sockets take the decision in-band: the kernel has no adjust_meta in XDP, or the
    /// port is a tap, whose XDP (tun_build_skb) has no metadata room before 6.15.
    let metaInBand: Bool

    /// UMEM frames per socket: half wait in the fill ring, half carry AF_XDP TX. Queues
    /// other than 0 only receive, so they get half as many.
    static let umemFrames: UInt32 = 4096
    /// Rx queues served per port at most: a socket (and its UMEM) each.
    static let queuesMax = 16

    /// `allocateSlots(n)` returns the first of n consecutive free XSKMAP slots.
    init(spec: SwitchPortSpec, link: NetLink, maps: SwitchMaps, metaInBand: Bool,
         allocateSlots: (Int) -> UInt32?) throws {
        self.spec = spec
        name = link.name
        ifindex = link.ifindex
        kind = link.kind
        self.maps = maps
        self.metaInBand = metaInBand || link.kind == "tun"
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
        sockets = try SwitchPort.openSockets(link.name, metaInBand: self.metaInBand)
        guard let first = allocateSlots(sockets.count) else {
            for socket in sockets { bt_xsk_close(socket) }
            throw UserError("\(link.name): no room for its \(sockets.count) AF_XDP sockets (the switch has \(BT_SW_XSK_SLOTS) in all, one per port and rx queue); give the switch fewer ports or queues")
        }
        slot = first
        do {
            try writePortEntry()
            if path == .redirect {
                try reworded("cannot add \(name) to the devmap", maps.tx.map.name) {
                    try maps.tx.update(UInt32(ifindex), UInt32(ifindex))
                }
            }
            for (queue, socket) in sockets.enumerated() {
                try reworded("cannot add the AF_XDP socket of \(name) queue \(queue) to the XSKMAP", maps.xsks.map.name) {
                    try maps.xsks.update(slot + UInt32(queue), bt_xsk_fd(socket))
                }
            }
        } catch {
            close()
            throw error
        }
    }

    /// A socket on every rx queue the device has (a bind past the last one fails with
    /// EINVAL), multi-buffer where the kernel binds it (6.6), at most `queuesMax`.
    static func openSockets(_ name: String, metaInBand: Bool) throws -> [OpaquePointer] {
        var sockets: [OpaquePointer] = []
        var sg: Int32 = KernelProbe.offers(.afXDPSG) ? 1 : 0
        for queue in 0..<UInt32(queuesMax) {
            var err: Int32 = 0
            let frames = queue == 0 ? umemFrames : umemFrames / 2
            var socket = bt_xsk_open_sg(name, queue, frames, metaInBand ? 1 : 0, sg, &err)
            if socket == nil, queue == 0, sg == 1, err == -EINVAL || err == -EOPNOTSUPP {
                sg = 0  // no multi-buffer AF_XDP here: frames must fit one UMEM frame
                socket = bt_xsk_open_sg(name, queue, frames, metaInBand ? 1 : 0, sg, &err)
            }
            guard let socket else {
                if queue > 0 && err == -EINVAL { break }  // no such queue: that was the last
                for opened in sockets { bt_xsk_close(opened) }
                throw SystemError("cannot open an AF_XDP socket on", subject: "\(name) queue \(queue)", code: err,
                                  hint: -err == EBUSY ? "another AF_XDP socket is bound to that queue" : nil)
            }
            sockets.append(socket)
        }
        return sockets
    }

    /// Puts the switch's programs on the port, through links: XDP, and tc ingress for the
    /// skb path when given. Separate from init so that at start every port is in the
    /// maps before any of them forwards. Any XDP mode: a port without native XDP runs it
    /// generic.
    func attach(program: BPFProgram, tc: BPFProgram?, link: NetLink) throws {
        if let tc { try attachTC(tc) }
        do {
            xdpLink = try program.attachXDP(ifindex: ifindex, interface: name, driverOnly: false)
        } catch var error as SystemError {
            try SwitchPort.refuseHeldPort(link)  // someone took the port meanwhile: say who
            error.hint = error.errno == .outOfRange || error.errno == .invalidArgument
                ? "MTU \(link.mtu) too large for XDP on this device?" : nil
            throw error
        }
    }

    /// tc ingress: a tcx link where the kernel has them (gone with the process), else a
    /// clsact filter (removed at close; after SIGKILL, by `bridgetrace cleanup`).
    private func attachTC(_ program: BPFProgram) throws {
        if AttachMethod.tcxAvailable {
            tcLink = try program.attachTCX(ifindex: ifindex, interface: name, egress: false)
            return
        }
        var created = false
        let rc = bt_tc_attach(ifindex, false, program.fd, &created)
        tcClsact = (rc == 0, created)
        if rc != 0 {
            throw SystemError("cannot attach the switch's tc ingress program to", subject: name, code: rc)
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
        entry.meta_inband = metaInBand ? 1 : 0
        entry.pvid = spec.pvid ?? 0
        entry.mtu = mtu
        entry.xsk_slot = slot
        entry.xsk_queues = UInt32(sockets.count)
        entry.xsk_frame_max = bt_xsk_frame_max(sockets[0])
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

    /// Socket statistics, summed over its queues.
    func stats() -> bt_xsk_stats {
        var total = bt_xsk_stats()
        for socket in sockets {
            var stats = bt_xsk_stats()
            _ = bt_xsk_stats(socket, &stats)
            total.rx_dropped &+= stats.rx_dropped
            total.rx_ring_full &+= stats.rx_ring_full
            total.rx_fill_ring_empty &+= stats.rx_fill_ring_empty
            total.tx_invalid &+= stats.tx_invalid
        }
        return total
    }

    private var closed = false

    /// Detaches and forgets the port. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        xdpLink?.detach()
        xdpLink = nil
        tcLink?.detach()
        tcLink = nil
        if tcClsact.attached { _ = bt_tc_detach(ifindex, false) }
        if tcClsact.createdHook { _ = bt_tc_hook_destroy(ifindex) }
        tcClsact = (false, false)
        for queue in sockets.indices { maps.xsks.map.delete(slot + UInt32(queue)) }
        maps.tx.map.delete(UInt32(ifindex))
        maps.ports.map.delete(UInt32(ifindex))
        for socket in sockets { bt_xsk_close(socket) }
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
