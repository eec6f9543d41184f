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
    /// What the forwarders read: replaced whole under `viewLock` (written) when ports
    /// change. The thread that runs `run` is the only writer.
    private var view = SwitchPortView(ports: [])
    private let viewLock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
    /// One per --cpus entry (one by default): forwarder 0 runs on the thread of `run`.
    private let forwarders: [SwitchForwarder]
    /// Each forwarder's counts as last merged, and the sockets' own (XSK_RX_RING_FULL).
    private var merged: [(drops: [UInt64: UInt64], tx: [Int32: SwitchTxCounts])]
    private var socketDrops: [UInt64: UInt64] = [:]
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
    private var lastSync = 0.0
    private var lastTick: UInt64 = 0
    private var lastRefresh = 0.0

    public init(config: SwitchConfig) throws {
        try config.validate()
        self.config = config
        policy = FDBPolicy(agingSeconds: config.agingSeconds)
        let threads = max(1, config.cpus.count)
        forwarders = (0..<threads).map { SwitchForwarder(index: $0, count: threads) }
        merged = Array(repeating: ([:], [:]), count: threads)
        pthread_rwlock_init(viewLock, nil)
    }

    /// The one line the switch (and `switch show`) says when it runs without adjust_meta.
    public static let metaInBandNote = "this kernel does not offer bpf_xdp_adjust_meta to XDP programs: "
        + "the switch hands its forwarding decision to userspace in-band (8 bytes in front of the frame, adjust_head)"

    /// The line for sockets that take one UMEM frame (no multi-buffer AF_XDP, before 6.6).
    public static let singleBufferNote = KernelSupport.line(.afXDPSG)

    /// Pins the calling thread to one CPU (the bench's pinning shim); false when it cannot.
    @discardableResult
    public static func pinCurrentThread(to cpu: Int) -> Bool {
        cpu >= 0 && bt_bench_pin(0, Int32(cpu)) == 0
    }

    /// Whether `cpu` is one this process may run on.
    public static func canPin(to cpu: Int) -> Bool {
        cpu >= 0 && cpu < sysconf(Int32(_SC_NPROCESSORS_ONLN))
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
            if !KernelProbe.offers(.afXDPSG) { log(Switch.singleBufferNote) }
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
    /// where the probe or the load says it does not (or BRIDGETRACE_WITHOUT=xdp_frags).
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
        if KernelProbe.offers(.xdpFrags) {
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
            writingView {
                ports.append(port)
                rebuildIndexes()
            }
            for entry in config.staticEntries where entry.port == spec.name {
                let key = SwitchFDB.key(FDBEntry(mac: entry.mac, vlan: entry.vlan ?? spec.pvid ?? 0, ifindex: 0, lastSeen: 0))
                let value = bt_sw_fdb_entry(ifindex: UInt32(link.ifindex), flags: UInt32(BT_SW_FDB_STATIC), last_seen: 0, moves: 0)
                do {
                    try maps.fdb.update(key, value)
                } catch let error as SystemError {
                    log("\(link.name): cannot add the static entry \(entry.macText): \(SystemError.describe(error.errno))")
                }
            }
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
        writingView {
            port.close()
            rebuildIndexes()
        }
        freeSlots(of: port)
        forgetFDB(ifindex: port.ifindex)
        forgetCounts(ifindex: port.ifindex)
        log("\(port.name): \(reason)")
    }

    /// Runs `body` while no forwarder reads the ports (they wait for the lock).
    private func writingView<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(viewLock)
        defer { pthread_rwlock_unlock(viewLock) }
        return try body()
    }

    /// Call with the view written (writingView), or before any forwarder runs.
    private func rebuildIndexes() {
        byIfindex = [:]
        for (index, port) in ports.enumerated() { byIfindex[port.ifindex] = index }
        view = SwitchPortView(ports: ports)
    }

    /// A port's userspace counts go with it: a new port with its ifindex counts from zero.
    private func forgetCounts(ifindex: Int32) {
        for forwarder in forwarders { forwarder.forget(ifindex: ifindex) }
        for index in merged.indices {
            merged[index].tx[ifindex] = nil
            merged[index].drops = merged[index].drops.filter { Int32(bitPattern: UInt32($0.key >> 32)) != ifindex }
        }
        socketDrops = socketDrops.filter { Int32(bitPattern: UInt32($0.key >> 32)) != ifindex }
        guard let maps else { return }
        maps.userTx.delete(bt_port_key(ifindex: UInt32(ifindex), dir: BT_DIR_TX.rawValue))
        for key in maps.userVLAN.map.keys(as: bt_vlan_key.self) where key.ifindex == UInt32(ifindex) {
            maps.userVLAN.map.delete(key)
        }
        for key in maps.userDrops.map.keys(as: bt_sw_drop_key.self) where key.ifindex == UInt32(ifindex) {
            maps.userDrops.map.delete(key)
        }
    }

    public var portStatus: [SwitchPortStatus] {
        ports.map { SwitchPortStatus(name: $0.name, ifindex: $0.ifindex, spec: $0.spec, path: $0.path,
                                     pathNote: $0.pathNote, up: $0.up, queues: $0.sockets.count,
                                     multiBuffer: $0.multiBuffer) }
    }

    // MARK: - Running

    /// Serves frames until `shouldStop` returns true (checked at least every 100 ms):
    /// forwarder 0 on the calling thread, which also keeps house, and one more thread per
    /// further --cpus entry, pinned there.
    public func run(until shouldStop: () -> Bool) {
        let workers = startWorkers()
        defer { stopWorkers(workers) }
        let me = forwarders[0]
        var fds = [pollfd]()
        while !shouldStop() {
            let view = self.view  // this thread writes it: read without the lock
            Switch.pollFDs(&fds, me.rxSockets(view))
            // Frames the kernel has not taken from a tx ring yet: come back at once instead
            // of sleeping on rx.
            let pending = me.txPending(view)
            let ready = fds.isEmpty ? (usleep(pending ? 1000 : 100_000), Int32(0)).1
                                    : poll(&fds, nfds_t(fds.count), pending ? 1 : 100)
            if ready > 0 || pending { me.serveOnce(view) }
            housekeeping()
        }
    }

    /// One pass of forwarder 0 over its sockets (for callers with their own loop).
    @discardableResult
    public func serveOnce() -> Int {
        forwarders[0].serveOnce(view)
    }

    private static func pollFDs(_ fds: inout [pollfd], _ sockets: [(port: Int, socket: OpaquePointer)]) {
        fds.removeAll(keepingCapacity: true)
        for (_, socket) in sockets { fds.append(pollfd(fd: bt_xsk_fd(socket), events: Int16(POLLIN), revents: 0)) }
    }

    private struct UncheckedSwitch: @unchecked Sendable {
        let sw: Switch
    }

    private final class Worker: @unchecked Sendable {
        let lock = NSLock()
        var stopping = false
        var done = false

        var isStopping: Bool { lock.lock(); defer { lock.unlock() }; return stopping }
        var isDone: Bool { lock.lock(); defer { lock.unlock() }; return done }
    }

    /// Forwarders 1... on threads of their own. Ports then share tx sockets between
    /// threads where they have fewer queues than there are forwarders: bt_xsk locks them.
    private func startWorkers() -> [Worker] {
        guard forwarders.count > 1 else { return [] }
        writingView {
            for port in ports { for socket in port.sockets { bt_xsk_set_shared_tx(socket, 1) } }
        }
        return forwarders.dropFirst().map { forwarder in
            let worker = Worker()
            let cpu = config.cpus[forwarder.index]
            let this = UncheckedSwitch(sw: self)  // it outlives the thread: stopWorkers waits for it
            let thread = Thread {
                Switch.pinCurrentThread(to: cpu)
                this.sw.work(forwarder, worker)
            }
            thread.name = "bt-switch-\(forwarder.index)"
            thread.start()
            return worker
        }
    }

    private func stopWorkers(_ workers: [Worker]) {
        for worker in workers {
            worker.lock.lock()
            worker.stopping = true
            worker.lock.unlock()
        }
        for worker in workers { while !worker.isDone { usleep(1000) } }
    }

    /// A forwarding thread: polls its sockets outside the lock, serves them inside it.
    private func work(_ forwarder: SwitchForwarder, _ worker: Worker) {
        var fds = [pollfd]()
        while !worker.isStopping {
            pthread_rwlock_rdlock(viewLock)
            let view = self.view
            Switch.pollFDs(&fds, forwarder.rxSockets(view))
            let pending = forwarder.txPending(view)
            pthread_rwlock_unlock(viewLock)
            // A socket closed meanwhile polls as POLLNVAL; the pass below reads the new view.
            let ready = fds.isEmpty ? (usleep(pending ? 1000 : 100_000), Int32(0)).1
                                    : poll(&fds, nfds_t(fds.count), pending ? 1 : 100)
            guard ready > 0 || pending else { continue }
            pthread_rwlock_rdlock(viewLock)
            forwarder.serveOnce(self.view)
            pthread_rwlock_unlock(viewLock)
        }
        worker.lock.lock()
        worker.done = true
        worker.lock.unlock()
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

    /// Every forwarder's counts, and the sockets' statistics, summed into the pinned maps.
    private func syncCounts() {
        guard let maps else { return }
        var changed = false
        for (index, forwarder) in forwarders.enumerated() {
            if let counts = forwarder.counts() {
                merged[index] = counts
                changed = true
            }
        }
        // Socket statistics: frames the kernel could not queue to us (rx ring or fill ring).
        for port in ports {
            let stats = port.stats()
            let key = UInt64(UInt32(bitPattern: port.ifindex)) << 32 | UInt64(SwitchDropReason.xskRxRingFull.rawValue)
            let lost = stats.rx_dropped &+ stats.rx_ring_full
            if lost != 0 && socketDrops[key] != lost {
                socketDrops[key] = lost
                changed = true
            }
        }
        guard changed else { return }
        var tx: [Int32: SwitchTxCounts] = [:]
        var drops = socketDrops
        for counts in merged {
            for (ifindex, sent) in counts.tx { tx[ifindex, default: SwitchTxCounts()].add(sent) }
            for (key, count) in counts.drops { drops[key, default: 0] &+= count }
        }
        for (ifindex, sent) in tx where byIfindex[ifindex] != nil && sent.slots[Int(BT_CTR_FRAMES.rawValue)] > 0 {
            let key = bt_port_key(ifindex: UInt32(ifindex), dir: BT_DIR_TX.rawValue)
            try? maps.userTx.update(key, bytes: sent.slots.withUnsafeBytes { Array($0) })
            for (vid, frames) in sent.vlan {
                try? maps.userVLAN.update(bt_vlan_key(ifindex: UInt32(ifindex), dir: UInt16(BT_DIR_TX.rawValue), vlan_id: vid), frames)
            }
        }
        for (packed, count) in drops where byIfindex[Int32(bitPattern: UInt32(packed >> 32))] != nil {
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
            if let line = writingView({ port.update(from: link) }) { log(line) }
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

    private func startTracing(_ object: BPFObject) throws {
        try object.map(SwitchPins.traceMap).pin(at: "\(SwitchPins.directory(config.name))/\(SwitchPins.tracePin)")
        let program = try object.program("bt_sw_trace_user")
        traceMap = try object.map(SwitchPins.traceMap)
        let mapped = try traceMap?.mapValue().bindMemory(to: bt_sw_trace.self, capacity: 1)
        traceConfig = mapped
        if let mapped {
            for forwarder in forwarders { forwarder.tracer = SwitchTracer(config: mapped, program: program) }
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
        writingView {
            for port in ports { port.close() }
            ports.removeAll()
            rebuildIndexes()
        }
        for link in redirectLinks { link.detach() }
        redirectLinks.removeAll()
        usedSlots = usedSlots.map { _ in false }
        if pinned {
            SwitchPins.remove(config.name)
            pinned = false
        }
        if madeHostPort, let hostPort = config.hostPort {
            SwitchHostPort.remove(hostPort)
            madeHostPort = false
        }
        maps = nil
        for forwarder in forwarders { forwarder.tracer = nil }
        if let traceConfig { traceMap?.unmapValue(traceConfig) }
        traceConfig = nil
        object = nil
    }

    deinit {
        close()
        pthread_rwlock_destroy(viewLock)
        viewLock.deallocate()
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
