/// One trial: the generator sent for a while (or a fixed count) at a rate, the sink
/// counted what arrived.
public struct TrialResult: Codable, Sendable, Equatable {
    public var dut: String
    public var frameSize: Int
    public var tracer: TracerMode
    public var generator: GeneratorKind
    /// Frames per kernel batch (live frames) or per send call (the socket generators;
    /// 1 when paced by spinning, one frame per slot); a burst with `--pacing sleep`.
    public var batch: Int
    /// The rate asked for; nil: as fast as the generator goes.
    public var targetPPS: Double?
    public var sent: UInt64
    public var received: UInt64
    /// sent - received, after the DUT has settled.
    public var lost: Int64
    public var lossRatio: Double
    public var reordered: UInt64
    /// Frames of earlier trials that arrived late (not counted as received).
    public var stale: UInt64
    /// Rate the generator achieved while sending.
    public var txPPS: Double
    /// Frames received per second of sending: the DUT's throughput.
    public var rxPPS: Double
    /// rxPPS in bits per second of frames including the FCS (no preamble/IFG).
    public var rxGbps: Double
    public var activeSeconds: Double
    public var wallSeconds: Double
    public var latency: LatencySummary?

    enum CodingKeys: String, CodingKey {
        case dut, tracer, generator, batch, sent, received, lost, reordered, stale, latency
        case frameSize = "frame_size", targetPPS = "target_pps", lossRatio = "loss_ratio", txPPS = "tx_pps"
        case rxPPS = "rx_pps", rxGbps = "rx_gbps", activeSeconds = "active_s", wallSeconds = "wall_s"
    }

    /// Zero frames lost (none missing, none extra).
    public var lossless: Bool { lost == 0 }
}

/// Median and extremes of a figure over repeated trials: the machine is shared, so one
/// trial says little; the spread says how much to trust the median.
public struct Spread: Codable, Sendable, Equatable {
    public var median: Double
    public var min: Double
    public var max: Double
    public var count: Int

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        min = sorted[0]
        max = sorted[sorted.count - 1]
        count = sorted.count
    }

    /// (max - min) / median: how far apart the trials were.
    public var relativeSpread: Double { median > 0 ? (max - min) / median : 0 }
}
