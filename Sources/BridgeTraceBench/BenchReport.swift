import Foundation
import BridgeTraceKernel

/// Everything one `bridgetrace bench` run measured: what `--json` prints and what the
/// table and the HTML report are drawn from.
public struct BenchReport: Codable, Sendable {
    public var started: String
    public var host: HostInfo
    public var settings: Settings
    public var duts: [DUTReport]
    /// What the frames were sent with, and why (what the kernel refused).
    public var generator: GeneratorSelection?
    /// Runs at full speed: the generator's own ceiling, and which DUTs reached it.
    public var generatorCeiling: GeneratorCeiling?
    /// `--vs-trafgen`: our generator against trafgen on the same veth pair.
    public var generatorComparison: GeneratorComparison?
    /// Every DUT as a ratio to the run's reference (the Linux bridge), when there are two or more.
    public var comparison: BenchComparison?

    enum CodingKeys: String, CodingKey {
        case started, host, settings, duts, comparison, generator
        case generatorComparison = "generator_comparison", generatorCeiling = "generator_ceiling"
    }

    /// The report as JSON, keys sorted (what `--json` prints and result.json holds).
    public func json(pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }

    public struct HostInfo: Codable, Sendable {
        public var kernel: String
        public var cpus: Int
        public var loadAverage: String

        enum CodingKeys: String, CodingKey {
            case kernel, cpus
            case loadAverage = "load_average"
        }

        public static func current() -> HostInfo {
            let release = KernelRelease.current
            let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
                .split(separator: " ").prefix(3).joined(separator: " ") ?? ""
            return HostInfo(kernel: release, cpus: ProcessInfo.processInfo.activeProcessorCount, loadAverage: load)
        }
    }

    public struct Settings: Codable, Sendable {
        public var frameSizes: [Int]
        public var flows: Int
        public var vlan: UInt16?
        /// nil: as fast as the generator goes.
        public var ratePPS: Double?
        public var count: UInt64?
        public var durationSeconds: Double
        public var trials: Int
        public var tracers: [TracerMode]
        public var rfc2544: Bool
        public var mtu: Int
        public var dutCPU: DUTPlacement
        public var tracerRxHook: String
        /// Frame sizes include the 4-byte FCS (RFC 2544); devices get size - 4 bytes.
        public var frameSizeNote = "frame sizes include the 4-byte FCS; the device is handed size - 4 bytes"

        enum CodingKeys: String, CodingKey {
            case flows, vlan, count, trials, tracers, rfc2544, mtu
            case dutCPU = "dut_cpu", tracerRxHook = "tracer_rx_hook"
            case frameSizes = "frame_sizes", ratePPS = "rate_pps", durationSeconds = "duration_s"
            case frameSizeNote = "frame_size_note"
        }
    }

    public struct DUTReport: Codable, Sendable {
        public var name: String
        public var summary: String
        public var notes: [String]
        /// Set when the DUT could not be measured at all.
        public var error: String?
        public var measurements: [Measurement]
        public var tracerOverhead: [TracerOverhead]
        public var rfc2544: [RFC2544Result]

        enum CodingKeys: String, CodingKey {
            case name, summary, notes, error, measurements, rfc2544
            case tracerOverhead = "tracer_overhead"
        }
    }

    /// Repeated trials of one frame size with one tracer mode.
    public struct Measurement: Codable, Sendable {
        public var frameSize: Int
        public var tracer: TracerMode
        public var rxPPS: Spread?
        public var txPPS: Spread?
        public var lossRatio: Spread?
        public var latencyP50Ns: Spread?
        public var latencyP99Ns: Spread?
        /// What the tracer reported seeing, per trial (evidence it was attached).
        public var tracerEvidence: [String]
        public var trials: [TrialResult]

        enum CodingKeys: String, CodingKey {
            case tracer, trials
            case frameSize = "frame_size", rxPPS = "rx_pps", txPPS = "tx_pps", lossRatio = "loss_ratio"
            case latencyP50Ns = "latency_p50_ns", latencyP99Ns = "latency_p99_ns", tracerEvidence = "tracer_evidence"
        }

        /// The trial whose rx rate is the median, for a representative latency CDF.
        public var medianTrial: TrialResult? {
            trials.sorted { $0.rxPPS < $1.rxPPS }.dropFirst(trials.count / 2).first
        }
    }

    /// A tracer's throughput as a fraction of the same DUT with nothing attached.
    public struct TracerOverhead: Codable, Sendable {
        public var frameSize: Int
        public var tracer: TracerMode
        /// rx pps with the tracer ÷ rx pps without, within each round (the rounds
        /// alternate modes, so each ratio compares neighbours in time).
        public var ratio: Spread?
        /// Median rx pps with the tracer ÷ median rx pps without.
        public var ratioOfMedians: Double?
        /// What the tracer adds per frame, in ns of the pipeline's time: 1/rate with it
        /// minus 1/rate without, per round. Independent of how fast the rest is.
        public var addedNsPerFrame: Spread?
        /// With `--with-tracer floor` in the run: the median ns per frame that empty
        /// programs on the same hooks add (the hook floor), and this tracer's median
        /// minus it (what bridgetrace's programs and drain add on top).
        public var hookFloorNsPerFrame: Double?
        public var ownNsPerFrame: Double?

        enum CodingKeys: String, CodingKey {
            case tracer, ratio
            case frameSize = "frame_size", ratioOfMedians = "ratio_of_medians", addedNsPerFrame = "added_ns_per_frame"
            case hookFloorNsPerFrame = "hook_floor_ns_per_frame", ownNsPerFrame = "own_ns_per_frame"
        }
    }

    public struct GeneratorComparison: Codable, Sendable {
        public var frameSize: Int
        /// Our side's generator.
        public var generator: GeneratorKind?
        /// CPUs each side sent from (trafgen --cpus, our threads).
        public var cpus: Int
        public var oursPPS: Spread?
        public var trafgenPPS: Spread?
        /// Per round: ours ÷ trafgen, rounds alternating.
        public var ratio: Spread?
        public var notes: [String]

        enum CodingKeys: String, CodingKey {
            case ratio, notes, generator, cpus
            case frameSize = "frame_size", oursPPS = "ours_pps", trafgenPPS = "trafgen_pps"
        }
    }
}
