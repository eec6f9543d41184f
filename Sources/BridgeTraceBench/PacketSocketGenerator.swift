import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// The fallback generator: an AF_PACKET socket that bypasses the qdisc, with the same
/// stamp, flows and pacing as the XDP program (in bt_bench.c). Slower, since every
/// frame is an skb built by a syscall, but it takes any frame size the MTU allows.
final class PacketSocketGenerator: TrafficGenerator {
    let kind = GeneratorKind.afPacket
    private let fd: Int32
    private let namespace: String

    init(interface: String, namespace: String) throws {
        self.namespace = namespace
        // A socket stays in the namespace it was made in; sending needs no namespace.
        fd = try NamespaceThread.run(in: namespace) {
            let ifindex = Int32(if_nametoindex(interface))
            guard ifindex > 0 else { throw UserError("internal: generator port \(interface) is missing in netns \(namespace)") }
            let fd = bt_bench_packet_open(ifindex)
            if fd < 0 { throw SystemError("cannot open an AF_PACKET socket on", subject: interface, code: fd) }
            return fd
        }
    }

    func run(_ job: GeneratorJob, progress: @escaping GeneratorProgress) throws -> GeneratorOutcome {
        // A thread of its own, so that pinning it leaves the caller's thread alone.
        try NamespaceThread.run(in: namespace) { [self] in
            try pinSender(job)
            return try send(job, progress: progress)
        }
    }

    private func send(_ job: GeneratorJob, progress: GeneratorProgress) throws -> GeneratorOutcome {
        if job.sleeps {
            throw UserError("--pacing sleep needs the live-frames generator; AF_PACKET (\(job.template.size)-byte frames, "
                + "or --generator af-packet) paces by spinning only: use --pacing spin")
        }
        let frame = job.template.bytes
        var gen = bt_bench_gen()
        gen.config = job.config(ifindex: 0)
        var outcome = GeneratorOutcome()
        outcome.batch = job.ratePPS == nil ? 32 : 1
        let start = bt_bench_now_ns()
        let deadline = generatorDeadline(for: job, from: start)
        while gen.state.sent < gen.config.limit {
            let now = bt_bench_now_ns()
            if now >= deadline { break }
            let until = min(deadline, now + 100_000_000)
            let rc = frame.withUnsafeBytes {
                bt_bench_packet_run(fd, $0.baseAddress, UInt32($0.count), &gen, until, UInt32(outcome.batch))
            }
            if rc != 0 { throw SystemError("sending on the AF_PACKET socket failed", code: rc) }
            outcome.calls += 1
            if !progress(gen.state.sent) { break }
        }
        outcome.wallNs = bt_bench_now_ns() - start
        outcome.activeNs = gen.state.busy_ns
        outcome.sent = gen.state.sent
        outcome.firstNs = gen.state.first_ns
        outcome.lastNs = gen.state.last_ns
        return outcome
    }

    deinit { close(fd) }
}
