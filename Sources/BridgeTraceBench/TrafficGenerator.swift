import BridgeTraceCore
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// How the generator puts frames on its port, fastest first: the order the bench tries
/// them in (`GeneratorSelection`).
public enum GeneratorKind: String, CaseIterable, Codable, Sendable {
    /// BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: frames built and redirected in
    /// the kernel, no socket, no skb. The fast one, where the kernel allows it.
    case xdpLiveFrames = "xdp-live-frames"
    /// An AF_XDP socket in copy mode, TX only: stamped in userspace, an skb per frame in
    /// the kernel, no qdisc. For kernels that refuse live frames.
    case afXDP = "af-xdp"
    /// An AF_PACKET socket (qdisc bypassed): any frame size the MTU allows (jumbo frames).
    case afPacket = "af-packet"

    /// As the operator knows it, in notes: "AF_XDP".
    public var label: String {
        switch self {
        case .xdpLiveFrames: return "live XDP frames"
        case .afXDP: return "AF_XDP"
        case .afPacket: return "AF_PACKET"
        }
    }
}

/// How a generator holds a fixed rate (`--pacing`).
public enum GeneratorPacing: String, CaseIterable, Codable, Sendable {
    /// Frames evenly spaced to the nanosecond: the live-frames program drops every run
    /// whose slot has not come (the socket generators spin in userspace), so the
    /// generator spins a whole CPU at any rate. What latency and RFC 2544 need: a DUT is
    /// never handed a burst it did not cause.
    case spin
    /// A burst of `--batch` frames (64 by default) every batch/rate seconds, the thread
    /// asleep in between (clock_nanosleep to an absolute schedule): a steady feed that
    /// leaves the CPU to others, e.g. a tracer under test. Bursts queue in the DUT, so
    /// latency figures include up to a burst's worth of waiting.
    case sleep
}

/// One trial's worth of traffic.
struct GeneratorJob {
    var template: FrameTemplate
    var trial: UInt16
    var flows: Int
    /// nil: as fast as possible.
    var ratePPS: Double?
    /// Frames to send; nil: until `duration` has passed.
    var count: UInt64?
    var duration: Double
    /// Live frames per kernel batch; nil: chosen from the rate (see `batchSize`).
    var batch: Int?
    /// Pin the sending thread to this CPU (`--dut-cpu own`).
    var cpu: Int32?
    var pacing: GeneratorPacing = .spin

    var gapNs: UInt64 {
        guard let ratePPS, ratePPS > 0 else { return 0 }
        return UInt64((1e9 / ratePPS).rounded())
    }

    /// A paced generator that fell this far behind (it was off the CPU) starts a new
    /// schedule rather than catch up: 64 slots, at most 1 ms.
    var catchupNs: UInt64 {
        let gap = gapNs
        return max(gap, min(gap * 64, 1_000_000))
    }

    /// A silence between two frames longer than this is the generator being off the CPU
    /// (between two syscalls), not sending: 1 ms, or 4 slots (sleep pacing: 4 bursts) of
    /// a slow paced rate.
    var pauseNs: UInt64 { max(1_000_000, (sleeps ? burstPeriodNs : gapNs) * 4) }

    /// Sleep pacing at a fixed rate: userspace paces, the program sends every run.
    var sleeps: Bool { pacing == .sleep && ratePPS != nil }

    /// Sleep pacing: one burst of `batchSize` frames is due every this many ns.
    var burstPeriodNs: UInt64 {
        guard let ratePPS, ratePPS > 0 else { return 0 }
        return UInt64((Double(batchSize) / ratePPS * 1e9).rounded())
    }

    /// Frames of a live-frames batch reach the port together when the batch ends, so a
    /// frame waits up to a batch's worth of program runs before it leaves: latency the
    /// DUT did not cause. Paced, a batch spans at most ~2 µs of the schedule (1 frame up
    /// to 500 kpps); at full speed 64 frames (NAPI's budget) keep the syscall cost low.
    /// Sleep-paced, a batch is a burst: 64 frames, as at full speed.
    var batchSize: Int {
        if let batch { return batch }
        guard let ratePPS, !sleeps else { return 64 }
        return min(64, max(1, Int(ratePPS * 2e-6)))
    }

    func config(ifindex: Int32) -> bt_bench_gen_config {
        var config = bt_bench_gen_config()
        config.gap_ns = sleeps ? 0 : gapNs
        config.catchup_ns = catchupNs
        config.pause_ns = pauseNs
        config.limit = count ?? UInt64.max
        config.ifindex = UInt32(ifindex)
        config.flows = UInt32(max(1, flows))
        config.trial = trial
        config.l3_offset = UInt16(template.l3Offset)
        config.src_ip_lo = template.sourceIPLow
        config.src_port = FrameTemplate.firstSourcePort
        return config
    }
}

/// What the generator did in one trial.
struct GeneratorOutcome {
    var sent: UInt64 = 0
    /// Time spent sending, from the frames' own stamps: the gaps between frames, less
    /// pauses (the generator off the CPU between two syscalls).
    var activeNs: UInt64 = 0
    var wallNs: UInt64 = 0
    /// CLOCK_MONOTONIC stamps of the first and last frame.
    var firstNs: UInt64 = 0
    var lastNs: UInt64 = 0
    var calls = 0
    var batch = 0

    /// Frames per second while sending.
    var ratePPS: Double {
        guard activeNs > 0 else { return 0 }
        return Double(sent) / (Double(activeNs) / 1e9)
    }
}

/// Progress callback: frames sent so far. Return false to stop early.
typealias GeneratorProgress = (UInt64) -> Bool

protocol TrafficGenerator: AnyObject {
    var kind: GeneratorKind { get }
    /// Throws why frames like `template` cannot be sent this way (too large, refused).
    func check(_ template: FrameTemplate) throws
    func run(_ job: GeneratorJob, progress: @escaping GeneratorProgress) throws -> GeneratorOutcome
}

extension TrafficGenerator {
    func check(_ template: FrameTemplate) throws {}
}

/// Pins the calling thread when the job asks for it.
func pinSender(_ job: GeneratorJob) throws {
    guard let cpu = job.cpu else { return }
    try ThreadPlacement.pin(0, to: cpu, what: "the generator")
}

/// How long a generator may take beyond the trial's duration to send a fixed count
/// before the trial is called off.
func generatorDeadline(for job: GeneratorJob, from start: UInt64) -> UInt64 {
    let allowance = job.count == nil ? job.duration : max(job.duration * 3, job.duration + 5)
    return start + UInt64(allowance * 1e9)
}
