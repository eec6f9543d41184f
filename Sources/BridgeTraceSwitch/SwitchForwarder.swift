import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// The ports as the forwarding threads see them: built whole when a port joins, leaves or
/// changes, and read under the switch's lock.
final class SwitchPortView: @unchecked Sendable {
    let ports: [SwitchPort]
    let byIfindex: [Int32: Int]
    /// Port indexes per VID: the flood sets.
    let members: [UInt16: [Int]]

    init(ports: [SwitchPort]) {
        self.ports = ports
        var byIfindex: [Int32: Int] = [:]
        for (index, port) in ports.enumerated() { byIfindex[port.ifindex] = index }
        self.byIfindex = byIfindex
        let specs = ports.map(\.spec)
        var members: [UInt16: [Int]] = [:]
        for vid in Set(specs.flatMap(\.vlans)) { members[vid] = VLANRules.floodSet(specs, vid: vid, ingress: -1) }
        self.members = members
    }
}

/// What the switch's userspace emits for `trace NAME`: the mapped trace config (one load
/// says whether anyone traces) and bt_sw_trace_user, run with BPF_PROG_TEST_RUN (a
/// syscall: any thread may).
struct SwitchTracer: @unchecked Sendable {
    let config: UnsafeMutablePointer<bt_sw_trace>
    let program: BPFProgram

    var active: Bool { config.pointee.config.events != 0 }

    func run(_ data: UnsafePointer<UInt8>, _ length: UInt32, ifindex: Int32, dir: UInt32, reason: UInt32) {
        var meta = bt_sw_trace_meta(reason: reason, dir: dir)
        let rc = withUnsafeBytes(of: &meta) { meta in
            program.testRunXDP(frame: UnsafeRawBufferPointer(start: data, count: Int(length)), header: meta,
                               ingressIfindex: UInt32(bitPattern: ifindex))
        }
        if rc != 0 {
            config.pointee.user_lost &+= 1  // never silent: the tracer adds it to bt_lost
        }
    }
}

/// One forwarding thread (`--cpus`: one per CPU). Forwarder `index` of `count` serves the
/// rx sockets of queues q with q % count == index, and sends to a port through its socket
/// of queue index % queues (shared, and locked in bt_xsk, when a port has fewer queues
/// than there are forwarders). It counts what it sends and drops on its own; the switch
/// sums every forwarder's counts into the pinned maps.
final class SwitchForwarder: @unchecked Sendable {
    let index: Int
    let count: Int
    private let batch = UnsafeMutableBufferPointer<bt_xsk_frame>.allocate(capacity: 32)
    var tracer: SwitchTracer?
    private var tracing = false
    /// The frame being forwarded and its ingress port, while tracing (for drop events).
    private var traced: (frame: bt_xsk_frame, ingress: Int32)?

    /// Guards the counts against the switch's merge (taken once per pass, uncontended).
    private let lock = NSLock()
    private var drops: [UInt64: UInt64] = [:]  // (ifindex << 32 | reason) -> count
    private var tx: [Int32: SwitchTxCounts] = [:]
    private var dirty = false
    /// Egress sockets used in this pass, to flush at its end.
    private var sent: [OpaquePointer] = []

    init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    deinit { batch.deallocate() }

    /// The rx sockets this forwarder serves.
    func rxSockets(_ view: SwitchPortView) -> [(port: Int, socket: OpaquePointer)] {
        var result: [(Int, OpaquePointer)] = []
        for (portIndex, port) in view.ports.enumerated() {
            for (queue, socket) in port.sockets.enumerated() where queue % count == index { result.append((portIndex, socket)) }
        }
        return result
    }

    func txSocket(_ port: SwitchPort) -> OpaquePointer { port.sockets[index % port.sockets.count] }

    /// Frames the kernel has not taken from one of its tx rings yet.
    func txPending(_ view: SwitchPortView) -> Bool {
        view.ports.contains { bt_xsk_tx_unsent(txSocket($0)) > 0 }
    }

    /// One pass over its sockets: up to a batch of frames each, forwarded, then sent.
    @discardableResult
    func serveOnce(_ view: SwitchPortView) -> Int {
        tracing = tracer?.active ?? false
        lock.lock()
        defer { lock.unlock() }
        var total = 0
        for (portIndex, socket) in rxSockets(view) {
            let got = Int(bt_xsk_rx_peek(socket, batch.baseAddress, UInt32(batch.count)))
            for slot in 0..<got { forward(batch[slot], from: portIndex, view) }
            bt_xsk_rx_release(socket)
            total += got
        }
        for port in view.ports {
            let socket = txSocket(port)
            if bt_xsk_tx_outstanding(socket) > 0 { bt_xsk_tx_flush(socket) }
        }
        return total
    }

    private func forward(_ frame: bt_xsk_frame, from ingress: Int, _ view: SwitchPortView) {
        let ports = view.ports
        if tracing { traced = (frame, ports[ingress].ifindex) }
        let meta = frame.meta
        let egress = Int32(bitPattern: UInt32(truncatingIfNeeded: meta))
        let vid = UInt16(truncatingIfNeeded: meta >> 32)
        let counter = Int(UInt8(truncatingIfNeeded: meta >> 48))
        let tagged = (meta >> 56) != 0
        if egress != 0 {
            guard let out = view.byIfindex[egress] else { return countDrop(ports[ingress].ifindex, .noPort) }
            guard ports[out].up else { return countDrop(ports[out].ifindex, .portDown) }
            send(frame, to: ports[out], vid: vid, tagged: tagged, counter: counter)
            return
        }
        for out in view.members[vid] ?? [] where out != ingress {
            // A port that is down misses the flood: counted, as the fast path counts it.
            guard ports[out].up else {
                countDrop(ports[out].ifindex, .portDown)
                continue
            }
            send(frame, to: ports[out], vid: vid, tagged: tagged, counter: counter)
        }
    }

    private func send(_ frame: bt_xsk_frame, to port: SwitchPort, vid: UInt16, tagged: Bool, counter: Int) {
        guard let op = VLANRules.egress(on: port.spec, vid: vid, frameTagged: tagged) else {
            return countDrop(port.ifindex, .vlanNotAllowed)
        }
        let l3 = Int(frame.len) - 14 - (tagged ? 4 : 0)
        if port.mtu > 0 && l3 > Int(port.mtu) { return countDrop(port.ifindex, .mtuExceeded) }
        let socket = txSocket(port)
        let rc = bt_xsk_tx_copy(socket, frame.data, frame.len, op.rawValue, vid)
        if rc != 0 { return countDrop(port.ifindex, rc == -ENOBUFS ? .xskTxRingFull : .frameTooBig) }
        if tracing, let tracer {
            var length: UInt32 = 0
            if let data = bt_xsk_tx_last(socket, &length) {
                tracer.run(data, length, ifindex: port.ifindex, dir: BT_DIR_TX.rawValue, reason: 0)
            }
        }
        let length = UInt64(Int(frame.len) + (op == .push ? 4 : op == .pop ? -4 : 0))
        tx[port.ifindex, default: SwitchTxCounts()].count(bytes: length, counter: counter,
                                                          vid: port.spec.sendsTagged(vid) ? vid : nil)
        dirty = true
    }

    private func countDrop(_ ifindex: Int32, _ reason: SwitchDropReason) {
        if tracing, let tracer, let (frame, ingress) = traced {
            // A drop event: rx at the port it came in on, tx at the port it could not go out of.
            let dir = ifindex == ingress ? BT_DIR_RX.rawValue : BT_DIR_TX.rawValue
            tracer.run(frame.data, frame.len, ifindex: ifindex, dir: dir, reason: reason.rawValue)
        }
        drops[UInt64(UInt32(bitPattern: ifindex)) << 32 | UInt64(reason.rawValue), default: 0] &+= 1
        dirty = true
    }

    /// Its counts since the last call, or nil when nothing changed: cumulative, so the
    /// switch adds every forwarder's.
    func counts() -> (drops: [UInt64: UInt64], tx: [Int32: SwitchTxCounts])? {
        lock.lock()
        defer { lock.unlock() }
        guard dirty else { return nil }
        dirty = false
        return (drops, tx)
    }

    /// A port left: its counts go (ifindexes are reused, and a port counts from when it joined).
    func forget(ifindex: Int32) {
        lock.lock()
        defer { lock.unlock() }
        tx[ifindex] = nil
        drops = drops.filter { Int32(bitPattern: UInt32($0.key >> 32)) != ifindex }
    }
}

/// What was sent out of one port with AF_XDP TX, in bt_counters' slots and frames per VID.
struct SwitchTxCounts: Sendable {
    var slots = [UInt64](repeating: 0, count: Int(BT_CTR_MAX.rawValue))
    var vlan: [UInt16: UInt64] = [:]

    mutating func count(bytes: UInt64, counter: Int, vid: UInt16?) {
        slots[Int(BT_CTR_FRAMES.rawValue)] &+= 1
        slots[Int(BT_CTR_BYTES.rawValue)] &+= bytes
        if counter < slots.count { slots[counter] &+= 1 }
        if let vid {
            slots[Int(BT_CTR_VLAN_TAGGED.rawValue)] &+= 1
            vlan[vid, default: 0] &+= 1
        }
    }

    mutating func add(_ other: SwitchTxCounts) {
        for index in slots.indices { slots[index] &+= other.slots[index] }
        for (vid, frames) in other.vlan { vlan[vid, default: 0] &+= frames }
    }
}
