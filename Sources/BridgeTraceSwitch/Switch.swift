import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// What `switch show` and the operator see of one port.
public struct SwitchPortStatus: Sendable, Equatable {
    public var name: String
    public var ifindex: Int32
    public var spec: SwitchPortSpec
    public var path: SwitchEgressPath
    public var pathNote: String?
    public var up: Bool
    /// Rx queues with an AF_XDP socket.
    public var queues: Int = 1
    /// Its sockets take frames longer than a UMEM frame (multi-buffer AF_XDP).
    public var multiBuffer: Bool = false
}

/// `bridgetrace switch`: a learning switch whose data plane is an XDP program on every
/// port (FDB learning, fast-path redirect of known unicast) and this process, which
/// floods and forwards the rest with AF_XDP.
///
/// Netns-bound: create, `start()`, `run` and `close()` on one thread that has entered
/// the switch's namespace (the CLI's main thread, or `SwitchThread` for in-process use).
public final class Switch {
    public let config: SwitchConfig
    /// Lines for the operator (ports joining, leaving, going down); stderr in the CLI.
    public var log: (String) -> Void = { _ in }

    private var object: BPFObject?
    private var maps: SwitchMaps?
    private var program: BPFProgram?
    private var ports: [SwitchPort] = []
    private var byIfindex: [Int32: Int] = [:]
    /// Port indexes per VID, rebuilt when ports change: the flood sets.
    private var members: [UInt16: [Int]] = [:]
    private var pinned = false
    /// The kernel does not offer bpf_xdp_adjust_meta to XDP: the program's decision travels
    /// in the frame's first 8 bytes (probed at start).
    public private(set) var metaInBand = false
    /// XSKMAP slots in use (one per port and rx queue): a port takes a run of them.
    private var usedSlots = [Bool](repeating: false, count: Int(BT_SW_XSK_SLOTS))
    /// bt_sw_tc, on every port: the skb path of GSO frames.
    private var tcProgram: BPFProgram?
    /// The raw tracepoint links that count REDIRECT_FAILED.
    private var redirectLinks: [BPFLink] = []
    /// This run made the host port's veth pair (removed at close).
    private var madeHostPort = false
    /// The forwarding program takes multi-buffer frames (xdp.frags).
    public private(set) var frags = false
    private let policy: FDBPolicy
    /// Descriptors of one rx batch, reused.
    private let batch = UnsafeMutableBufferPointer<bt_xsk_frame>.allocate(capacity: 32)

    // Userspace's own counts, mirrored into the pinned bt_sw_utx/uvlan/udrops maps.
    private var userDrops: [UInt64: UInt64] = [:]  // (ifindex << 32 | reason) -> count
    private var countsDirty = false
    private var lastSync = 0.0
    private var lastTick: UInt64 = 0
    private var lastRefresh = 0.0

    public init(config: SwitchConfig) throws {
        try config.validate()
        self.config = config
        policy = FDBPolicy(agingSeconds: config.agingSeconds)
    }

    /// The one line the switch (and `switch show`) says when it runs without adjust_meta.
    public static let metaInBandNote = "this kernel does not offer bpf_xdp_adjust_meta to XDP programs: "
        + "the switch hands its forwarding decision to userspace in-band (8 bytes in front of the frame, adjust_head)"

    /// Pins the calling thread to one CPU (the bench's pinning shim); false when it cannot.
    @discardableResult
    public static func pinCurrentThread(to cpu: Int) -> Bool {
        cpu >= 0 && bt_bench_pin(0, Int32(cpu)) == 0
    }

    /// The switch's clock: CLOCK_MONOTONIC seconds, which the kernel side sees through
    /// bt_sw_info.now_s (a program cannot afford a helper call per learned frame).
    static func clock() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec)
    }

    private static func monotonic() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Loads the program, pins the maps, opens the sockets and attaches every port. When
    /// it returns, every port is attached (write the ready file then). On failure nothing
    /// is left attached or pinned.
    public func start() throws {
        if let pid = SwitchPins.livePID(config.name) {
            throw UserError("a switch named \(config.name) is already running (pid \(pid)); stop it or choose another --name")
        }
        if FileManager.default.fileExists(atPath: SwitchPins.directory(config.name)) {
            SwitchPins.remove(config.name)
            log("removed the stale state of a switch \(config.name) that was killed")
        }
        if let hostPort = config.hostPort {
            try SwitchHostPort.create(hostPort, switch: config.name, log: log)
            madeHostPort = true
        }
        let links: [NetLink]
        do { links = try NetlinkLinks.dump() } catch { close(); throw error }
        var initial: [(SwitchPortSpec, NetLink)] = []
        for spec in config.allPorts {
            guard let link = links.first(where: { $0.name == spec.name }) else {
                close()
                throw UserError("\(spec.name): no such interface\(config.netns.map { " in netns \($0)" } ?? ""); see `ip link`")
            }
            if link.name == "lo" || link.isBridge {
                close()
                throw UserError("\(link.name) cannot be a switch port (\(link.isBridge ? "it is a bridge" : "loopback"))")
            }
            do { try SwitchPort.refuseHeldPort(link) } catch { close(); throw error }
            initial.append((spec, link))
        }
        do {
            metaInBand = !KernelProbe.offers(.xdpAdjustMeta)
            if metaInBand { log(Switch.metaInBandNote) }
            let object = try loadObject()
            self.object = object
            let maps = try SwitchMaps(object: object)
            self.maps = maps
            let program = try object.program(frags ? "bt_sw_xdp_frags" : "bt_sw_xdp")
            self.program = program
            tcProgram = try object.program("bt_sw_tc")
            attachRedirectCounters(object)
            try writeInfo()
            try SwitchPins.makeDirectory(config.name)
            pinned = true
            for name in SwitchPins.maps { try object.map(name).pin(at: "\(SwitchPins.directory(config.name))/\(name)") }
            try startTracing(object)
            try reworded("cannot pin the switch program at", "\(SwitchPins.directory(config.name))/\(SwitchPins.program)") {
                try program.pin(at: "\(SwitchPins.directory(config.name))/\(SwitchPins.program)")
            }
            // Every port in the maps first, then the programs: no frame is flooded to a
            // port set that is still being built.
            for (spec, link) in initial { try add(spec, link, attach: false) }
            for (port, (_, link)) in zip(ports, initial) { try port.attach(program: program, tc: tcProgram, link: link) }
            for link in links where globSpec(for: link) != nil && byIfindex[link.ifindex] == nil {
                addQuietly(globSpec(for: link)!, link)
            }
            lastRefresh = Switch.monotonic()
        } catch {
            close()
            throw error
        }
    }

    /// The object, with the frags build of the forwarding program where the kernel loads
    /// it (5.18: multi-buffer frames, a jumbo MTU on a veth) and the single-buffer build
    /// where it does not (or BRIDGETRACE_WITHOUT=xdp_frags).
    private func loadObject() throws -> BPFObject {
        func spec(frags: Bool) throws -> BPFObjectSpec {
            let spec = try BPFObjectSpec(embedded: .switch)
            try spec.setReadOnly("bt_sw_fast_path", to: UInt32(config.fastPath ? 1 : 0))
            try spec.setReadOnly("bt_sw_meta_inband", to: UInt32(metaInBand ? 1 : 0))
            try spec.setReadOnly("bt_sw_skb_path", to: UInt32(1))
            spec.noteChoice(metaInBand ? "no bpf_xdp_adjust_meta in XDP (probed): the in-band variant"
                                       : "bpf_xdp_adjust_meta offered (probed): the XDP-metadata variant")
            try spec.setMaxEntries(map: "bt_sw_fdb", config.fdbMax)
            try spec.setAutoload(program: frags ? "bt_sw_xdp" : "bt_sw_xdp_frags", false)
            return spec
        }
        if !KernelProbe.turnedOff.contains("xdp_frags") {
            do {
                let object = try spec(frags: true).load()
                frags = true
                return object
            } catch {
                log("this kernel refused the multi-buffer (xdp.frags) program (\(error)); frames must fit one buffer")
            }
        }
        frags = false
        return try spec(frags: false).load()
    }

    /// REDIRECT_FAILED: the kernel reports devmap transmits that fail after the program
    /// returned on the xdp tracepoints. Without them the count is missing, not wrong.
    private func attachRedirectCounters(_ object: BPFObject) {
        for (name, tracepoint) in [("bt_sw_devmap_xmit", "xdp_devmap_xmit"), ("bt_sw_redirect_err", "xdp_redirect_err")] {
            do {
                redirectLinks.append(try object.program(name).attachRawTracepoint(tracepoint))
            } catch {
                log("cannot attach to the \(tracepoint) tracepoint (\(error)): failed redirects are not counted as REDIRECT_FAILED")
            }
        }
    }

    /// The first of `count` consecutive free XSKMAP slots, now taken.
    private func allocateSlots(_ count: Int) -> UInt32? {
        var start = 0
        while start + count <= usedSlots.count {
            if let busy = (start..<start + count).last(where: { usedSlots[$0] }) {
                start = busy + 1
                continue
            }
            for index in start..<start + count { usedSlots[index] = true }
            return UInt32(start)
        }
        return nil
    }

    private func freeSlots(of port: SwitchPort) {
        for index in Int(port.slot)..<Int(port.slot) + port.sockets.count { usedSlots[index] = false }
    }

    private func writeInfo() throws {
        guard let maps else { return }
        var info = bt_sw_info()
        info.now_s = Switch.clock()
        info.aging_s = config.agingSeconds
        info.fdb_max = config.fdbMax
        info.fast_path = config.fastPath ? 1 : 0
        info.meta_inband = metaInBand ? 1 : 0
        info.pid = UInt32(bitPattern: getpid())
        info.netns_inum = NetworkNamespace.currentInode()
        lastTick = info.now_s
        try reworded("cannot write the switch's info map", maps.info.map.name) { try maps.info.update(0, info) }
    }

    private func globSpec(for link: NetLink) -> SwitchPortSpec? {
        guard !link.isBridge, link.name != "lo",
              config.portGlobs.contains(where: { fnmatch($0, link.name, 0) == 0 }) else { return nil }
        return SwitchPortSpec(name: link.name)
    }

    private func add(_ spec: SwitchPortSpec, _ link: NetLink, attach: Bool = true) throws {
        guard let maps, let program, ports.count < Int(BT_SW_PORTS_MAX) else {
            throw UserError("\(link.name): the switch has \(BT_SW_PORTS_MAX) ports already")
        }
        var opened: SwitchPort?
        do {
            // ifindexes are reused: a port counts from when it joined.
            if let object { try CounterMaps(object: object).reset(ifindex: link.ifindex) }
            let port = try SwitchPort(spec: spec, link: link, maps: maps, metaInBand: metaInBand,
                                      allocateSlots: allocateSlots)
            opened = port
            if attach {
                do { try port.attach(program: program, tc: tcProgram, link: link) } catch { port.close(); throw error }
            }
            ports.append(port)
            for entry in config.staticEntries where entry.port == spec.name {
                let key = SwitchFDB.key(FDBEntry(mac: entry.mac, vlan: entry.vlan ?? spec.pvid ?? 0, ifindex: 0, lastSeen: 0))
                let value = bt_sw_fdb_entry(ifindex: UInt32(link.ifindex), flags: UInt32(BT_SW_FDB_STATIC), last_seen: 0, moves: 0)
                do {
                    try maps.fdb.update(key, value)
                } catch let error as SystemError {
                    log("\(link.name): cannot add the static entry \(entry.macText): \(SystemError.describe(error.errno))")
                }
            }
            rebuildIndexes()
            if let note = port.pathNote { log("\(port.name): \(note)") }
        } catch {
            if let opened { freeSlots(of: opened) }
            throw error
        }
    }

    private func addQuietly(_ spec: SwitchPortSpec, _ link: NetLink) {
        do {
            try add(spec, link)
            log("\(link.name): joined the switch")
        } catch let error as any OperatorError {
            log("\(link.name): cannot add it to the switch: \(error.message)")
        } catch {
            log("\(link.name): cannot add it to the switch: \(error)")
        }
    }

    private func remove(at index: Int, reason: String) {
        let port = ports.remove(at: index)
        port.close()
        freeSlots(of: port)
        forgetFDB(ifindex: port.ifindex)
        rebuildIndexes()
        log("\(port.name): \(reason)")
    }

    private func rebuildIndexes() {
        byIfindex = [:]
        members = [:]
        let specs = ports.map(\.spec)
        for (index, port) in ports.enumerated() { byIfindex[port.ifindex] = index }
        for vid in Set(specs.flatMap(\.vlans)) { members[vid] = VLANRules.floodSet(specs, vid: vid, ingress: -1) }
    }

    public var portStatus: [SwitchPortStatus] {
        ports.map { SwitchPortStatus(name: $0.name, ifindex: $0.ifindex, spec: $0.spec, path: $0.path,
                                     pathNote: $0.pathNote, up: $0.up, queues: $0.sockets.count,
                                     multiBuffer: $0.multiBuffer) }
    }

    // MARK: - Running

    /// Serves frames until `shouldStop` returns true (checked at least every 100 ms).
    public func run(until shouldStop: () -> Bool) {
        var fds = [pollfd]()
        while !shouldStop() {
            // Every socket of every port (ports come and go: rebuilt each pass, cheaply).
            fds.removeAll(keepingCapacity: true)
            for port in ports {
                for socket in port.sockets { fds.append(pollfd(fd: bt_xsk_fd(socket), events: Int16(POLLIN), revents: 0)) }
            }
            // Frames the kernel has not taken from a tx ring yet: come back at once instead
            // of sleeping on rx.
            let pending = ports.contains { bt_xsk_tx_unsent($0.xsk) > 0 }
            let ready = fds.isEmpty ? (usleep(100_000), Int32(0)).1 : poll(&fds, nfds_t(fds.count), pending ? 1 : 100)
            if ready > 0 || pending { serveOnce() }
            housekeeping()
        }
    }

    /// One pass over every port: up to a batch of frames each, forwarded, then sent.
    @discardableResult
    public func serveOnce() -> Int {
        tracing = traceConfig.map { $0.pointee.config.events != 0 } ?? false
        var total = 0
        for index in ports.indices {
            for socket in ports[index].sockets {
                let count = Int(bt_xsk_rx_peek(socket, batch.baseAddress, UInt32(batch.count)))
                for slot in 0..<count { forward(batch[slot], from: index) }
                bt_xsk_rx_release(socket)
                total += count
            }
        }
        for port in ports where bt_xsk_tx_outstanding(port.xsk) > 0 { bt_xsk_tx_flush(port.xsk) }
        return total
    }

    private func forward(_ frame: bt_xsk_frame, from ingress: Int) {
        if tracing { traced = (frame, ports[ingress].ifindex) }
        let meta = frame.meta
        let egress = Int32(bitPattern: UInt32(truncatingIfNeeded: meta))
        let vid = UInt16(truncatingIfNeeded: meta >> 32)
        let counter = Int(UInt8(truncatingIfNeeded: meta >> 48))
        let tagged = (meta >> 56) != 0
        if egress != 0 {
            guard let out = byIfindex[egress] else { return countDrop(ports[ingress].ifindex, .noPort) }
            guard ports[out].up else { return countDrop(ports[out].ifindex, .portDown) }
            send(frame, to: out, vid: vid, tagged: tagged, counter: counter)
            return
        }
        for out in members[vid] ?? [] where out != ingress {
            // A port that is down misses the flood: counted, as the fast path counts it.
            guard ports[out].up else {
                countDrop(ports[out].ifindex, .portDown)
                continue
            }
            send(frame, to: out, vid: vid, tagged: tagged, counter: counter)
        }
    }

    private func send(_ frame: bt_xsk_frame, to out: Int, vid: UInt16, tagged: Bool, counter: Int) {
        let port = ports[out]
        guard let op = VLANRules.egress(on: port.spec, vid: vid, frameTagged: tagged) else {
            return countDrop(port.ifindex, .vlanNotAllowed)
        }
        let l3 = Int(frame.len) - 14 - (tagged ? 4 : 0)
        if port.mtu > 0 && l3 > Int(port.mtu) { return countDrop(port.ifindex, .mtuExceeded) }
        let rc = bt_xsk_tx_copy(port.xsk, frame.data, frame.len, op.rawValue, vid)
        if rc != 0 { return countDrop(port.ifindex, rc == -ENOBUFS ? .xskTxRingFull : .frameTooBig) }
        if tracing { traceSent(on: port) }
        let length = UInt64(Int(frame.len) + (op == .push ? 4 : op == .pop ? -4 : 0))
        port.countTx(bytes: length, counter: counter, vid: port.spec.sendsTagged(vid) ? vid : nil)
        countsDirty = true
    }

    private func countDrop(_ ifindex: Int32, _ reason: SwitchDropReason) {
        if tracing { traceDrop(ifindex, reason) }
        userDrops[UInt64(UInt32(bitPattern: ifindex)) << 32 | UInt64(reason.rawValue), default: 0] &+= 1
        countsDirty = true
    }

    /// The clock tick, the FDB sweep, the userspace counters into their maps, and ports
    /// that came, went, or changed state. Cheap when nothing is due.
    public func housekeeping() {
        let now = Switch.monotonic()
        if now - lastSync >= 0.1 {
            lastSync = now
            syncCounts()
        }
        let seconds = Switch.clock()
        if seconds != lastTick, let maps {
            lastTick = seconds
            if var info = (try? maps.info.lookup(0))?.first {
                info.now_s = seconds
                try? maps.info.update(0, info)
            }
            sweepFDB(now: seconds)
        }
        if now - lastRefresh >= 1 {
            lastRefresh = now
            refreshPorts()
            endOrphanedTrace()
        }
    }

    private func syncCounts() {
        guard let maps else { return }
        // Socket statistics: frames the kernel could not queue to us (rx ring or fill ring).
        for port in ports {
            let stats = port.stats()
            let key = UInt64(UInt32(bitPattern: port.ifindex)) << 32 | UInt64(SwitchDropReason.xskRxRingFull.rawValue)
            let lost = stats.rx_dropped &+ stats.rx_ring_full
            if lost != 0 && userDrops[key] != lost {
                userDrops[key] = lost
                countsDirty = true
            }
        }
        guard countsDirty else { return }
        countsDirty = false
        for port in ports { port.publishTx(maps) }
        for (packed, count) in userDrops {
            let key = bt_sw_drop_key(ifindex: UInt32(packed >> 32), reason: UInt32(truncatingIfNeeded: packed))
            try? maps.userDrops.update(key, count)
        }
    }

    /// Deletes aged-out entries, so that a full FDB makes room and `show` lists what the
    /// kernel would still use. The kernel already treats them as misses.
    private func sweepFDB(now: UInt64) {
        guard let maps else { return }
        for entry in policy.expired(SwitchFDB.read(maps.fdb), now: now) {
            maps.fdb.map.delete(SwitchFDB.key(entry))
        }
    }

    private func forgetFDB(ifindex: Int32) {
        guard let maps else { return }
        for entry in SwitchFDB.read(maps.fdb) where entry.ifindex == ifindex && !entry.isStatic {
            maps.fdb.map.delete(SwitchFDB.key(entry))
        }
    }

    /// Hot-plug: ports named on the command line or matching --port-glob join when they
    /// appear and leave when they vanish; the others are not disturbed.
    private func refreshPorts() {
        guard let links = try? NetlinkLinks.dump() else { return }
        let present = Dictionary(links.map { ($0.ifindex, $0) }, uniquingKeysWith: { first, _ in first })
        for index in ports.indices.reversed() {
            let port = ports[index]
            guard let link = present[port.ifindex], link.name == port.name else {
                remove(at: index, reason: "vanished; no longer a port")
                continue
            }
            if let line = port.update(from: link) { log(line) }
        }
        for link in links where byIfindex[link.ifindex] == nil {
            if let spec = config.allPorts.first(where: { $0.name == link.name }) ?? globSpec(for: link) {
                addQuietly(spec, link)
            }
        }
    }

    // MARK: - Trace events (trace NAME): what this process sends and drops, while traced

    /// The kernel's copy of .data.bt_sw_trace, mapped: one load per batch says whether
    /// anyone traces. nil before start.
    private var traceConfig: UnsafeMutablePointer<bt_sw_trace>?
    private var traceMap: BPFMap?
    /// bt_sw_trace_user: emits a frame given to it by test run into the ring buffer.
    private var traceProgram: BPFProgram?
    private var tracing = false
    /// The frame being forwarded and its ingress port, while tracing (for drop events).
    private var traced: (frame: bt_xsk_frame, ingress: Int32)?

    private func startTracing(_ object: BPFObject) throws {
        try object.map(SwitchPins.traceMap).pin(at: "\(SwitchPins.directory(config.name))/\(SwitchPins.tracePin)")
        traceProgram = try object.program("bt_sw_trace_user")
        traceMap = try object.map(SwitchPins.traceMap)
        traceConfig = try traceMap?.mapValue().bindMemory(to: bt_sw_trace.self, capacity: 1)
    }

    /// A frame sent with AF_XDP TX, as it went on the wire: a tx event at its port.
    private func traceSent(on port: SwitchPort) {
        var length: UInt32 = 0
        guard let data = bt_xsk_tx_last(port.xsk, &length) else { return }
        runTrace(data, length, ifindex: port.ifindex, dir: BT_DIR_TX.rawValue, reason: 0)
    }

    /// A frame this process dropped: a drop event, rx at the port it came in on, tx at
    /// the port it could not go out of.
    private func traceDrop(_ ifindex: Int32, _ reason: SwitchDropReason) {
        guard let (frame, ingress) = traced else { return }
        let dir = ifindex == ingress ? BT_DIR_RX.rawValue : BT_DIR_TX.rawValue
        runTrace(frame.data, frame.len, ifindex: ifindex, dir: dir, reason: reason.rawValue)
    }

    private func runTrace(_ data: UnsafePointer<UInt8>, _ length: UInt32, ifindex: Int32, dir: UInt32, reason: UInt32) {
        var meta = bt_sw_trace_meta(reason: reason, dir: dir)
        let rc = withUnsafeBytes(of: &meta) { meta in
            traceProgram?.testRunXDP(frame: UnsafeRawBufferPointer(start: data, count: Int(length)), header: meta,
                                     ingressIfindex: UInt32(bitPattern: ifindex)) ?? -EINVAL
        }
        if rc != 0 {
            traceConfig?.pointee.user_lost &+= 1  // never silent: the tracer adds it to bt_lost
        }
    }

    /// A tracer that was SIGKILLed cannot turn events off: the switch does, so that it
    /// costs nothing again within a second.
    private func endOrphanedTrace() {
        guard let trace = traceConfig, trace.pointee.config.events != 0 else { return }
        let owner = Int32(bitPattern: trace.pointee.owner_pid)
        if owner == 0 || (kill(owner, 0) != 0 && errno == ESRCH) {
            trace.pointee.config.events = 0
            log("the tracer (pid \(owner)) is gone; trace events off")
        }
    }

    /// Detaches every port, closes the sockets and removes the pins. Idempotent.
    public func close() {
        for port in ports { port.close() }
        ports.removeAll()
        for link in redirectLinks { link.detach() }
        redirectLinks.removeAll()
        usedSlots = usedSlots.map { _ in false }
        rebuildIndexes()
        if pinned {
            SwitchPins.remove(config.name)
            pinned = false
        }
        if madeHostPort, let hostPort = config.hostPort {
            SwitchHostPort.remove(hostPort)
            madeHostPort = false
        }
        maps = nil
        if let traceConfig { traceMap?.unmapValue(traceConfig) }
        traceConfig = nil
        tracing = false
        object = nil
    }

    deinit {
        close()
        batch.deallocate()
    }
}

/// Reading the FDB map (the kernel's entries), for the sweep and `show`.
enum SwitchFDB {
    static func read(_ map: TypedBPFMap<bt_sw_fdb_key, bt_sw_fdb_entry>) -> [FDBEntry] {
        var entries: [FDBEntry] = []
        for key in map.map.keys(as: bt_sw_fdb_key.self) {
            guard let value = (try? map.lookup(key))?.first else { continue }
            let mac = withUnsafeBytes(of: key.mac) { Array($0) }
            entries.append(FDBEntry(mac: mac, vlan: key.vlan, ifindex: Int32(bitPattern: value.ifindex),
                                    lastSeen: value.last_seen, isStatic: value.flags & UInt32(BT_SW_FDB_STATIC) != 0,
                                    moves: value.moves))
        }
        return entries
    }

    static func key(_ entry: FDBEntry) -> bt_sw_fdb_key {
        var key = bt_sw_fdb_key()
        key.vlan = entry.vlan
        withUnsafeMutableBytes(of: &key.mac) { bytes in
            for index in 0..<6 { bytes[index] = entry.mac[index] }
        }
        return key
    }
}

/// Runs `body`; a SystemError it throws is said as `operation subject` (its errno and hint
/// kept), in the switch's words rather than the layer's.
func reworded<T>(_ operation: String, _ subject: String?, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch var error as SystemError {
        error.operation = operation
        error.subject = subject
        throw error
    }
}
