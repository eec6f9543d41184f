import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import Foundation

/// A running switch as another process sees it through its pins: `switch show`, and
/// `counters` / `drops` given a switch name. Read inside the switch's namespace (port
/// names come from netlink there).
public struct SwitchSnapshot: Sendable {
    public struct Port: Sendable, Equatable {
        public var name: String
        public var ifindex: Int32
        public var mode: SwitchPortMode
        public var vlans: [UInt16]
        public var native: UInt16?
        public var path: SwitchEgressPath
        public var up: Bool
        public var mtu: UInt32
        /// Rx queues with an AF_XDP socket.
        public var queues: UInt32 = 1
        /// The longest frame its sockets take (0: any the port carries, multi-buffer).
        public var xskFrameMax: UInt32 = 0
        /// Its sockets get the decision in-band (no adjust_meta, or a tap: below 6.15 tun's
        /// XDP buffers have no metadata room).
        public var metaInBand = false
    }

    public var name: String
    public var netns: String?
    public var pid: Int32
    public var agingSeconds: UInt32
    public var fdbMax: UInt32
    public var fastPath: Bool
    /// The switch's decision travels in-band (the kernel lacks bpf_xdp_adjust_meta in XDP).
    public var metaInBand: Bool
    public var now: UInt64
    public var ports: [Port]
    public var fdb: [FDBEntry]
    public var stats: [(String, UInt64)]
    public var counters: CountersSnapshot
    /// Drops per port (ifindex) and reason name, the kernel's and userspace's summed.
    public var drops: [Int32: [String: UInt64]]

    public func portName(_ ifindex: Int32) -> String {
        ports.first { $0.ifindex == ifindex }?.name ?? "ifindex \(ifindex)"
    }

    /// What this switch runs without: the in-band decision, single-buffer sockets.
    public var degraded: [String] {
        (metaInBand ? [Switch.metaInBandNote] : []) + (ports.contains { $0.xskFrameMax > 0 } ? [Switch.singleBufferNote] : [])
    }

    public var json: JSONValue {
        let policy = FDBPolicy(agingSeconds: agingSeconds)
        return .object([
            ("name", .string(name)),
            ("netns", netns.map { .string($0) } ?? .null),
            ("fast_path", .bool(fastPath)),
            ("degraded", .array(degraded.map { .string($0) })),
            ("aging_s", .uint(UInt64(agingSeconds))),
            ("fdb_max", .uint(UInt64(fdbMax))),
            ("ports", .array(ports.map { port in
                .object([
                    ("port", .string(port.name)), ("ifindex", .int(Int64(port.ifindex))),
                    ("mode", .string(port.mode.rawValue)), ("vlans", .array(port.vlans.map { .uint(UInt64($0)) })),
                    ("native", port.native.map { .uint(UInt64($0)) } ?? .null), ("path", .string(port.path.rawValue)),
                    ("up", .bool(port.up)), ("mtu", .uint(UInt64(port.mtu))),
                    ("queues", .uint(UInt64(port.queues))), ("xsk_frame_max", .uint(UInt64(port.xskFrameMax))),
                    ("meta_inband", .bool(port.metaInBand)),
                ])
            })),
            ("fdb", .array(policy.live(fdb, now: now).map { entry in
                .object([
                    ("mac", .string(entry.macText)), ("vlan", .uint(UInt64(entry.vlan))),
                    ("port", .string(portName(entry.ifindex))), ("age_s", .uint(policy.age(of: entry, now: now))),
                    ("static", .bool(entry.isStatic)), ("moves", .uint(entry.moves)),
                ])
            })),
            ("stats", .object(stats.map { ($0.0, .uint($0.1)) })),
            // Per-port counters in `counters --json`'s port shape.
            ("counters", CountersJSON.value(of: counters)),
            ("drops", .object(ports.map { port in
                (port.name, .object((drops[port.ifindex] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, .uint($0.value)) }))
            })),
        ])
    }

    public var text: String {
        let policy = FDBPolicy(agingSeconds: agingSeconds)
        var lines = ["switch \(name)\(netns.map { " (netns \($0))" } ?? ""): pid \(pid), fast path \(fastPath ? "on" : "off"), aging \(agingSeconds) s, fdb max \(fdbMax)"]
        lines += degraded.map { "degraded: " + $0 }
        lines.append("")
        lines.append(pad(["PORT", "IFINDEX", "MODE", "VLANS", "NATIVE", "PATH", "STATE", "MTU", "RX", "TX"]))
        for port in ports {
            let counted = counters.ports.first { $0.ifindex == port.ifindex }
            lines.append(pad([port.name, "\(port.ifindex)", port.mode.rawValue, port.vlans.map(String.init).joined(separator: ","),
                              port.native.map(String.init) ?? "-", port.path.rawValue, port.up ? "up" : "down", "\(port.mtu)",
                              "\(counted?.rx[.frames] ?? 0)", "\(counted?.tx[.frames] ?? 0)"]))
        }
        lines.append("")
        let live = policy.live(fdb, now: now)
        lines.append("FDB: \(live.count) entries")
        lines.append(pad(["MAC", "VLAN", "PORT", "AGE", "STATIC", "MOVES"]))
        for entry in live {
            lines.append(pad([entry.macText, "\(entry.vlan)", portName(entry.ifindex), "\(policy.age(of: entry, now: now))s",
                              entry.isStatic ? "yes" : "no", "\(entry.moves)"]))
        }
        lines.append("")
        lines.append("stats: " + stats.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        for port in ports {
            let reasons = (drops[port.ifindex] ?? [:]).sorted { $0.key < $1.key }
            if !reasons.isEmpty {
                lines.append("drops on \(port.name): " + reasons.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ cells: [String]) -> String {
        let widths = [18, 8, 7, 16, 7, 9, 6, 6, 10, 10]
        return cells.enumerated().map { index, cell in
            index == cells.count - 1 ? cell : cell.padding(toLength: max(widths[index], cell.count + 1), withPad: " ", startingAt: 0)
        }.joined()
    }
}

public enum SwitchState {
    /// Reads a running switch's pinned state. Throws a clear error for an unknown name or
    /// a switch that was killed (its stale pins are removed then).
    public static func read(name: String, netns: String?) throws -> SwitchSnapshot {
        try SwitchConfig.validateName(name)
        guard SwitchPins.exists(name) else {
            let known = SwitchPins.names()
            throw UserError("no switch named \(name) is running (\(known.isEmpty ? "no switches are running" : "running: \(known.joined(separator: ", "))"))")
        }
        guard let info = SwitchPins.info(name) else { throw UserError("cannot read the state of switch \(name)") }
        guard let pid = SwitchPins.livePID(name) else {
            SwitchPins.remove(name)
            throw UserError("switch \(name) is not running (pid \(info.pid) is gone, killed?); removed its stale state")
        }
        let dir = SwitchPins.directory(name)
        func open(_ map: String) throws -> BPFMap { try BPFMap.pinned(at: "\(dir)/\(map)", name: map) }
        let portsMap = try open("bt_sw_ports"), fdbMap = try open("bt_sw_fdb"), statsMap = try open("bt_sw_stats")
        let kernelDrops = try open("bt_sw_drops"), userDrops = try open("bt_sw_udrops")
        let userTx = try open("bt_sw_utx"), userVLAN = try open("bt_sw_uvlan")
        let counterMaps = try CounterMaps(pinnedIn: dir)
        defer {
            for map in [portsMap, fdbMap, statsMap, kernelDrops, userDrops, userTx, userVLAN] { map.close() }
            counterMaps.close()
        }

        let names = Dictionary((try NetlinkLinks.dump()).map { ($0.ifindex, $0.name) }, uniquingKeysWith: { a, _ in a })
        var ports: [SwitchSnapshot.Port] = []
        let portEntries = try portsMap.typed(key: UInt32.self, value: bt_sw_port.self)
        for ifindex in portsMap.keys(as: UInt32.self) {
            guard let entry = try portEntries.lookup(ifindex)?.first else { continue }
            var vlans: [UInt16] = []
            withUnsafeBytes(of: entry.vlans) { bytes in
                let words = bytes.bindMemory(to: UInt64.self)
                for vid in 1..<4095 where words[vid >> 6] & (1 << UInt64(vid & 63)) != 0 { vlans.append(UInt16(vid)) }
            }
            let trunk = entry.mode == UInt8(BT_SW_MODE_TRUNK.rawValue)
            ports.append(.init(name: names[Int32(ifindex)] ?? "ifindex \(ifindex)", ifindex: Int32(ifindex),
                               mode: trunk ? .trunk : .access, vlans: vlans,
                               native: trunk && entry.pvid != 0 ? entry.pvid : nil,
                               path: entry.redirect != 0 ? .redirect : .xsk, up: entry.up != 0, mtu: entry.mtu,
                               queues: entry.xsk_queues, xskFrameMax: entry.xsk_frame_max,
                               metaInBand: entry.meta_inband != 0))
        }
        ports.sort { $0.name < $1.name }

        var stats = [UInt64](repeating: 0, count: Int(BT_SW_STAT_MAX.rawValue))
        if let raw = try statsMap.lookup(UInt32(0)) {
            for slot in stats.indices { stats[slot] = statsMap.sum(raw, offset: slot * 8) }
        }
        let fdb = SwitchFDB.read(try fdbMap.typed(key: bt_sw_fdb_key.self, value: bt_sw_fdb_entry.self))

        var drops: [Int32: [String: UInt64]] = [:]
        for map in [kernelDrops, userDrops] {
            for key in map.keys(as: bt_sw_drop_key.self) {
                guard let reason = SwitchDropReason(rawValue: key.reason) else { continue }
                let total = try map.lookupSum(key)
                if total > 0 { drops[Int32(bitPattern: key.ifindex), default: [:]][reason.name, default: 0] &+= total }
            }
        }

        var portCounters: [PortCounters] = []
        for port in ports {
            var (rx, tx) = try counterMaps.read(ifindex: port.ifindex)
            if let raw = try userTx.lookup(bt_port_key(ifindex: UInt32(port.ifindex), dir: BT_DIR_TX.rawValue)) {
                raw.withUnsafeBytes { bytes in
                    tx.add(cpuSlots: UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt64.self),
                                                         count: CounterKind.slotCount))
                }
            }
            for key in userVLAN.keys(as: bt_vlan_key.self) where key.ifindex == UInt32(port.ifindex) {
                if let raw = try userVLAN.lookup(key) {
                    tx.vlanFrames[key.vlan_id, default: 0] &+= raw.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                }
            }
            portCounters.append(PortCounters(port: port.name, ifindex: port.ifindex, rx: rx, tx: tx,
                                             drops: PortDrops(reasons: drops[port.ifindex] ?? [:])))
        }
        let netnsName = netns ?? SwitchPins.netnsName(inode: info.netns_inum)
        let statNames = ["fast_path", "to_xsk", "learned", "mac_moves", "expired_lookups", "csum_completed", "skb_path"]
        return SwitchSnapshot(
            name: name, netns: netnsName, pid: pid, agingSeconds: info.aging_s, fdbMax: info.fdb_max,
            fastPath: info.fast_path != 0, metaInBand: info.meta_inband != 0, now: info.now_s, ports: ports, fdb: fdb,
            stats: [("fdb_entries", UInt64(fdb.count))] + statNames.enumerated().map { ($0.element, stats[$0.offset]) },
            counters: CountersSnapshot(time: Date().timeIntervalSince1970, bridge: name, netns: netnsName, ports: portCounters),
            drops: drops)
    }

    /// The netns a running switch lives in (by its ip netns name), for readers not given --netns.
    public static func netns(of name: String) -> String? {
        guard let info = SwitchPins.info(name) else { return nil }
        if info.netns_inum == NetworkNamespace.currentInode() { return nil }
        return SwitchPins.netnsName(inode: info.netns_inum)
    }
}
