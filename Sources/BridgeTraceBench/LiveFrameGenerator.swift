import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// The generator proper: bench_gen.bpf.c run with BPF_PROG_TEST_RUN in live-frames mode
/// from a thread in the generator's namespace. Each syscall runs the program `repeat`
/// times; each run stamps one frame and redirects it out of the port, or (spin-paced,
/// early) drops it at once. Userspace sizes the syscalls (~0.2 s each when spinning, one
/// burst when sleeping) and reads the progress the program keeps in its map.
///
/// A syscall with repeat > 1 adds the program to the kernel's XDP dispatcher and takes it
/// out again, two RCU grace periods (10-30 ms here) during which nothing is sent, unless
/// the program is in the dispatcher already. It is: for the generator's lifetime it is
/// attached to a veth pair of its own that stays down (`holdInterface`), so a syscall
/// costs its frames only, and sleep pacing can make one per burst.
final class LiveFrameGenerator: TrafficGenerator {
    let kind = GeneratorKind.xdpLiveFrames
    private let object: BPFObject
    private let program: BPFProgram
    private let state: TypedBPFMap<UInt32, bt_bench_gen>
    private let namespace: String
    private let interface: String
    /// Keeps the program in the XDP dispatcher (see above); closed with the generator.
    private var dispatcherHold: BPFLink?

    /// The down veth pair in the generator's namespace that holds the program.
    static let holdInterface = "gen-hold0"
    static let holdPeer = "gen-hold1"

    /// Seconds of sending per syscall: short enough for a lively progress bar and a
    /// prompt stop, long enough that the per-syscall RCU wait stays a few percent.
    static let chunkSeconds = 0.2

    init(interface: String, namespace: String, network: BenchNetwork) throws {
        object = try BPFObjectSpec(embedded: .benchGen).load()
        program = try object.program("bt_bench_gen_frame")
        state = try object.map("bt_bench_gen").typed(key: UInt32.self, value: bt_bench_gen.self)
        self.namespace = namespace
        self.interface = interface
        try network.ip("-n", namespace, "link", "add", Self.holdInterface, "type", "veth", "peer", "name", Self.holdPeer)
        dispatcherHold = try NamespaceThread.run(in: namespace) { [program] in
            let index = Int32(if_nametoindex(Self.holdInterface))
            guard index > 0 else { throw InternalError("\(Self.holdInterface) is missing in netns \(namespace)") }
            return try program.attachXDP(ifindex: index, interface: Self.holdInterface)
        }
    }

    deinit { dispatcherHold?.detach() }

    /// Whether the kernel takes live frames of this template: one run with a zero limit,
    /// which the program drops. Throws the kernel's refusal.
    func check(_ template: FrameTemplate) throws {
        let frame = template.bytes
        try NamespaceThread.run(in: namespace) { [self] in
            let ifindex = try self.ifindex()
            var config = GeneratorJob(template: template, trial: 0, flows: 1, ratePPS: nil, count: 0, duration: 0).config(ifindex: ifindex)
            config.limit = 0
            try write(config)
            do {
                _ = try program.testRunLiveFrames(frame, ingressIfindex: ifindex, repeat: 1, batch: 1)
            } catch let error as SystemError {
                throw Self.refusal(error, size: template.size)
            }
        }
    }

    /// Why the kernel refused; the caller adds what to do (fall back, or use --generator auto).
    static func refusal(_ error: SystemError, size: Int) -> any OperatorError {
        let reason = SystemError.describe(error.errno)
        if error.errno == .invalidArgument && size > 3000 {
            return UserError("live XDP frames must fit one page and \(size)-byte frames do not (the kernel says \(reason))")
        }
        if error.errno == .operationNotSupportedByDevice {
            return UserError("the generator's port is gone (\(reason)): was its namespace deleted while the benchmark ran?")
        }
        return error
    }

    private func ifindex() throws -> Int32 {
        let index = Int32(if_nametoindex(interface))
        guard index > 0 else { throw InternalError("generator port \(interface) is missing in netns \(namespace)") }
        return index
    }

    private func write(_ config: bt_bench_gen_config) throws {
        var value = bt_bench_gen()
        value.config = config
        try state.update(0, value)
    }

    private func readState() throws -> bt_bench_gen_state {
        guard let value = try state.lookup(0)?.first else { throw InternalError("generator state is missing") }
        return value.state
    }

    func run(_ job: GeneratorJob, progress: @escaping GeneratorProgress) throws -> GeneratorOutcome {
        let frame = job.template.bytes
        return try NamespaceThread.run(in: namespace) { [self] in
            let ifindex = try self.ifindex()
            try pinSender(job)
            try write(job.config(ifindex: ifindex))
            var outcome = GeneratorOutcome()
            outcome.batch = job.batchSize
            let start = bt_bench_now_ns()
            let deadline = generatorDeadline(for: job, from: start)
            let limit = job.count ?? UInt64.max
            if job.sleeps {
                try sendBursts(job, frame: frame, ifindex: ifindex, deadline: deadline, outcome: &outcome, progress: progress)
                return try finish(outcome, start: start)
            }
            // Program runs per second, learnt from each syscall; the first one is short.
            var runsPerSecond = 1_000_000.0
            var runs: UInt64 = 0
            var current = bt_bench_gen_state()
            while current.sent < limit {
                let now = bt_bench_now_ns()
                if now >= deadline { break }
                var seconds = min(Self.chunkSeconds, Double(deadline - now) / 1e9)
                if outcome.calls == 0 { seconds = min(seconds, 0.02) }
                var planned = max(1.0, runsPerSecond * seconds)
                if let ratePPS = job.ratePPS, job.count != nil {
                    // Near the end of a fixed count, do not spin on past it for long.
                    let left = Double(limit - current.sent) / ratePPS * 1.05 + 0.001
                    planned = min(planned, max(1, runsPerSecond * left))
                } else if job.ratePPS == nil, job.count != nil {
                    planned = min(planned, Double(limit - current.sent))
                }
                let count = UInt32(min(planned, Double(UInt32.max)))
                let kernelNs: UInt64
                do {
                    kernelNs = try program.testRunLiveFrames(frame, ingressIfindex: ifindex, repeat: count,
                                                             batch: UInt32(job.batchSize))
                } catch let error as SystemError {
                    throw Self.refusal(error, size: job.template.size)
                }
                outcome.calls += 1
                runs += UInt64(count)
                if kernelNs > 0 { runsPerSecond = max(1000, Double(count) / (Double(kernelNs) / 1e9)) }
                current = try readState()
                if !progress(current.sent) { break }
            }
            return try finish(outcome, start: start)
        }
    }

    /// Sleep pacing (`SleepPacing`): one syscall, one kernel batch, per burst.
    private func sendBursts(_ job: GeneratorJob, frame: [UInt8], ifindex: Int32, deadline: UInt64,
                            outcome: inout GeneratorOutcome, progress: GeneratorProgress) throws {
        outcome.calls += try SleepPacing.run(job, deadline: deadline, progress: progress) { count in
            do {
                _ = try program.testRunLiveFrames(frame, ingressIfindex: ifindex, repeat: count, batch: count)
            } catch let error as SystemError {
                throw Self.refusal(error, size: job.template.size)
            }
        }
    }

    private func finish(_ outcome: GeneratorOutcome, start: UInt64) throws -> GeneratorOutcome {
        let current = try readState()
        var outcome = outcome
        outcome.wallNs = bt_bench_now_ns() - start
        outcome.sent = current.sent
        outcome.firstNs = current.first_ns
        outcome.lastNs = current.last_ns
        outcome.activeNs = current.busy_ns
        return outcome
    }
}
