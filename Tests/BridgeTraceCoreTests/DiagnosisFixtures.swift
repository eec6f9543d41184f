@testable import BridgeTraceCore

/// A recorded event stream, built frame by frame: a bridge `br0` with ports vm1, vm2,
/// vm3 (veths) and uplink, the VMs at 198.18.0.11-13 and the gateway at 198.18.0.1
/// behind uplink. Times are seconds from the start of the watch.
struct Recording {
    struct Host {
        var mac: [UInt8]
        var ip: String
        var port: String
    }

    static let vm1 = Host(mac: [0x52, 0x54, 0, 0, 0, 0x11], ip: "198.18.0.11", port: "vm1")
    static let vm2 = Host(mac: [0x52, 0x54, 0, 0, 0, 0x12], ip: "198.18.0.12", port: "vm2")
    static let vm3 = Host(mac: [0x52, 0x54, 0, 0, 0, 0x13], ip: "198.18.0.13", port: "vm3")
    static let gateway = Host(mac: [0x52, 0x54, 0, 0, 0, 0x01], ip: "198.18.0.1", port: "uplink")

    static let baseNs: UInt64 = 1_000_000_000_000
    static let ifindex: [String: Int32] = ["vm1": 11, "vm2": 12, "vm3": 13, "uplink": 10, "tap-vm2": 22]

    var ports: [BridgeState.Port]
    var before: BridgeState
    var after: BridgeState
    var events: [TraceEvent] = []
    var drops: [DropRecord] = []
    var probeTarget: String?

    init(ports names: [String] = ["uplink", "vm1", "vm2", "vm3"]) {
        ports = names.map { name in
            let index = Recording.ifindex[name] ?? 99
            return BridgeState.Port(name: name, ifindex: index, mac: "02:00:00:00:00:\(String(index, radix: 16))")
        }
        let state = BridgeState(bridge: .init(name: "br0", ifindex: 5, mac: "02:00:00:00:00:b0"), ports: ports)
        before = state
        after = state
    }

    /// Changes a port in both snapshots.
    mutating func port(_ name: String, _ change: (inout BridgeState.Port) -> Void) {
        for index in before.ports.indices where before.ports[index].name == name { change(&before.ports[index]) }
        for index in after.ports.indices where after.ports[index].name == name { change(&after.ports[index]) }
    }

    static func ns(_ seconds: Double) -> UInt64 { baseNs + UInt64((seconds * 1e9).rounded()) }

    mutating func see(_ bytes: [UInt8], _ port: String, _ direction: Direction, at seconds: Double) {
        events.append(TraceEvent.make(CapturedFrame(
            monotonicNs: Recording.ns(seconds), ifindex: Recording.ifindex[port] ?? 99, port: port,
            direction: direction, length: bytes.count, bytes: bytes)))
    }

    /// rx at `from`, then tx at each of `to`, 10 µs apart.
    mutating func forward(_ bytes: [UInt8], from: String, to: [String], at seconds: Double) {
        see(bytes, from, .rx, at: seconds)
        for (index, port) in to.enumerated() { see(bytes, port, .tx, at: seconds + Double(index + 1) * 10e-6) }
    }

    mutating func drop(_ bytes: [UInt8], at port: String, reason: String, location: String, seconds: Double,
                       length: Int? = nil, keepBytes: Bool = true) {
        drops.append(DropRecord(monotonicNs: Recording.ns(seconds), ifindex: Recording.ifindex[port] ?? 99, port: port,
                                reason: reason, location: location, length: length ?? bytes.count,
                                bytes: keepBytes ? Array(bytes.prefix(96)) : []))
    }

    func input(duration: Double = 10) -> DiagnosisInput {
        DiagnosisInput(bridge: "br0", durationSeconds: duration, events: events, drops: drops,
                       stateBefore: before, stateAfter: after, probeTarget: probeTarget)
    }

    func diagnose() -> [Finding] { DiagnosisEngine.diagnose(input()) }

    // MARK: Frames

    static func arpRequest(_ from: Host, for target: String, vlan: Int? = nil) -> [UInt8] {
        Fixture.padded(Fixture.ethernet(
            dst: Fixture.broadcastMAC, src: from.mac, tags: vlan.map { [(0x8100, $0)] } ?? [], etherType: 0x0806,
            payload: Fixture.arp(op: 1, senderMAC: from.mac, senderIP: from.ip, targetMAC: [0, 0, 0, 0, 0, 0],
                                 targetIP: target)))
    }

    static func arpReply(_ from: Host, to: Host, claiming ip: String? = nil) -> [UInt8] {
        Fixture.padded(Fixture.ethernet(
            dst: to.mac, src: from.mac, etherType: 0x0806,
            payload: Fixture.arp(op: 2, senderMAC: from.mac, senderIP: ip ?? from.ip, targetMAC: to.mac, targetIP: to.ip)))
    }

    static func echo(_ from: Host, _ to: Host, seq: Int, reply: Bool = false, dataLength: Int = 56,
                     vlan: Int? = nil) -> [UInt8] {
        Fixture.ethernet(
            dst: to.mac, src: from.mac, tags: vlan.map { [(0x8100, $0)] } ?? [], etherType: 0x0800,
            payload: Fixture.ipv4(src: from.ip, dst: to.ip, proto: 1, id: 0x1000 + seq,
                                  payload: Fixture.icmpEcho(type: reply ? 0 : 8, id: 7, seq: seq, dataLength: dataLength)))
    }

    static func dhcp(_ client: Host, type: UInt8, xid: UInt32, server: Host? = nil) -> [UInt8] {
        let options: [UInt8] = [53, 1, type, 255]
        if let server {
            return Fixture.ethernet(
                dst: client.mac, src: server.mac, etherType: 0x0800,
                payload: Fixture.ipv4(src: server.ip, dst: client.ip, proto: 17, flagsAndOffset: 0,
                                      payload: Fixture.udp(srcPort: 67, dstPort: 68,
                                                           payload: Fixture.dhcp(op: 2, xid: xid, chaddr: client.mac,
                                                                                 yiaddr: client.ip, options: options))))
        }
        return Fixture.ethernet(
            dst: Fixture.broadcastMAC, src: client.mac, etherType: 0x0800,
            payload: Fixture.ipv4(src: "0.0.0.0", dst: "255.255.255.255", proto: 17, flagsAndOffset: 0,
                                  payload: Fixture.udp(srcPort: 68, dstPort: 67,
                                                       payload: Fixture.dhcp(op: 1, xid: xid, chaddr: client.mac,
                                                                             options: options))))
    }

    // MARK: Conversations

    /// `from` resolves `to` (broadcast flooded to every other port) and `to` answers.
    mutating func resolve(_ from: Host, _ to: Host, at t: Double) {
        let others = ports.map(\.name).filter { $0 != from.port }
        forward(Recording.arpRequest(from, for: to.ip), from: from.port, to: others, at: t)
        forward(Recording.arpReply(to, to: from), from: to.port, to: [from.port], at: t + 0.0005)
    }

    /// A ping that works: request and reply, each across the bridge.
    mutating func ping(_ from: Host, _ to: Host, seq: Int, at t: Double) {
        forward(Recording.echo(from, to, seq: seq), from: from.port, to: [to.port], at: t)
        forward(Recording.echo(to, from, seq: seq, reply: true), from: to.port, to: [from.port], at: t + 0.0003)
    }

    /// Healthy background traffic from t0 for n seconds: `host` (vm3) pings the gateway.
    mutating func background(_ host: Host = Recording.vm3, from t0: Double = 0, seconds n: Int = 8) {
        resolve(host, Recording.gateway, at: t0)
        for second in 0..<n { ping(host, Recording.gateway, seq: second + 1, at: t0 + 0.01 + Double(second)) }
    }
}

extension Array where Element == Finding {
    var causes: [CauseCode] { map(\.cause) }
    func only(_ cause: CauseCode) -> Bool { allSatisfy { $0.cause == cause } }
    func describeAll() -> String {
        map { "\($0.cause.rawValue)@\($0.port): \($0.summary) | \($0.evidence.joined(separator: " | "))" }
            .joined(separator: "\n")
    }
}
