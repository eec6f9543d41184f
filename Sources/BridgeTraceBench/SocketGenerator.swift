import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// What the userspace generators (AF_XDP, AF_PACKET) share. bt_bench.c stamps, paces and
/// counts as bench_gen.bpf.c does, the state in a `bt_bench_gen` of our own instead of a
/// map; Swift cuts a trial into 0.1 s calls (progress, a prompt stop) and runs sleep
/// pacing's schedule, one call per burst.
protocol SocketGenerator: TrafficGenerator {
    /// Where the socket was opened; the sending thread enters it too (NamespaceThread).
    var namespace: String { get }
    /// Frames per call at full speed.
    var fullSpeedBatch: UInt32 { get }
    /// One C call: sends from `gen` until its limit or `until`. 0 or -errno.
    func send(_ frame: UnsafeRawBufferPointer, _ gen: inout bt_bench_gen, until: UInt64, batch: UInt32) -> Int32
    /// The one-line error for a failed call.
    func failure(_ code: Int32) -> any Error
}

extension SocketGenerator {
    func run(_ job: GeneratorJob, progress: @escaping GeneratorProgress) throws -> GeneratorOutcome {
        // A thread of its own, so that pinning it leaves the caller's thread alone.
        try NamespaceThread.run(in: namespace) { [self] in
            try pinSender(job)
            return try sendTrial(job, progress: progress)
        }
    }

    private func sendTrial(_ job: GeneratorJob, progress: GeneratorProgress) throws -> GeneratorOutcome {
        let frame = job.template.bytes
        var gen = bt_bench_gen()
        gen.config = job.config(ifindex: 0)
        var outcome = GeneratorOutcome()
        let start = bt_bench_now_ns()
        let deadline = generatorDeadline(for: job, from: start)
        func call(until: UInt64, batch: UInt32) throws {
            let rc = frame.withUnsafeBytes { send($0, &gen, until: until, batch: batch) }
            if rc != 0 { throw failure(rc) }
            outcome.calls += 1
        }
        if job.sleeps {
            outcome.batch = job.batchSize
            _ = try SleepPacing.run(job, deadline: deadline, progress: progress) { count in
                gen.config.limit = gen.state.sent + UInt64(count)
                try call(until: deadline, batch: count)
            }
        } else {
            // Paced, a call sends the frames that are due: one, unless it fell behind.
            outcome.batch = job.ratePPS == nil ? Int(fullSpeedBatch) : 1
            let batch = job.ratePPS == nil ? fullSpeedBatch : BT_BENCH_SEND_BATCH_MAX
            while gen.state.sent < gen.config.limit {
                let now = bt_bench_now_ns()
                if now >= deadline { break }
                try call(until: min(deadline, now + 100_000_000), batch: batch)
                if !progress(gen.state.sent) { break }
            }
        }
        outcome.wallNs = bt_bench_now_ns() - start
        outcome.activeNs = gen.state.busy_ns
        outcome.sent = gen.state.sent
        outcome.firstNs = gen.state.first_ns
        outcome.lastNs = gen.state.last_ns
        return outcome
    }
}
