/// Everything `--rfc2544` measured for one DUT and frame size.
public struct RFC2544Result: Codable, Sendable {
    public var dut: String
    public var frameSize: Int
    /// The generator's unthrottled rate (the "100% load"), per repetition.
    public var maximumPPS: Spread?
    /// What arrived per second at that load: the forwarding rate (RFC 2889) at 100%.
    public var forwardingPPS: Spread?
    public var throughput: Throughput
    public var latency: [LatencyPoint]
    /// Latency at a fraction of the run's reference DUT's NDR (the same rate for every DUT).
    public var referenceLatency: LatencyPoint?
    public var frameLoss: [LossPoint]
    public var backToBack: BackToBack?

    enum CodingKeys: String, CodingKey {
        case dut, throughput, latency
        case frameSize = "frame_size", maximumPPS = "maximum_pps", frameLoss = "frame_loss", backToBack = "back_to_back"
        case forwardingPPS = "forwarding_pps", referenceLatency = "reference_latency"
    }

    public struct Throughput: Codable, Sendable {
        /// Highest rate with no frame lost, per repetition.
        public var ndrPPS: Spread?
        /// Highest rate with at most `pdrLoss` lost.
        public var pdrPPS: Spread?
        public var pdrLoss: Double
        /// NDR at frame size, in Gbit/s (frames with FCS).
        public var ndrGbps: Spread?
        /// True when the DUT lost nothing even at the generator's maximum in every
        /// repetition: the NDR is the generator's limit, a lower bound for the DUT's.
        public var limitedByGenerator: Bool
        /// Every search trial, for the record.
        public var searches: [[SearchStep]]

        enum CodingKeys: String, CodingKey {
            case searches
            case ndrPPS = "ndr_pps", pdrPPS = "pdr_pps", pdrLoss = "pdr_loss", ndrGbps = "ndr_gbps"
            case limitedByGenerator = "limited_by_generator"
        }
    }

    public struct SearchStep: Codable, Sendable {
        public var goal: String  // "max", "ndr", "pdr"
        public var targetPPS: Double?
        public var txPPS: Double
        public var lossRatio: Double
        public var passed: Bool

        enum CodingKeys: String, CodingKey {
            case goal, passed
            case targetPPS = "target_pps", txPPS = "tx_pps", lossRatio = "loss_ratio"
        }
    }

    public struct LatencyPoint: Codable, Sendable {
        /// "10% NDR", "low rate".
        public var label: String
        public var targetPPS: Double
        public var p50Ns: Spread?
        public var p99Ns: Spread?
        public var p999Ns: Spread?
        public var maxNs: Spread?
        /// Frames lost in these trials (a load above the DUT's NDR loses some).
        public var lossRatio: Spread?
        /// The first repetition's distribution, for the CDF plot.
        public var sample: LatencySummary?

        enum CodingKeys: String, CodingKey {
            case label, sample
            case targetPPS = "target_pps", p50Ns = "p50_ns", p99Ns = "p99_ns", p999Ns = "p99_9_ns", maxNs = "max_ns"
            case lossRatio = "loss_ratio"
        }
    }

    public struct LossPoint: Codable, Sendable {
        /// Percent of the maximum rate.
        public var loadPercent: Int
        public var targetPPS: Double?
        public var lossRatio: Spread?

        enum CodingKeys: String, CodingKey {
            case loadPercent = "load_percent", targetPPS = "target_pps", lossRatio = "loss_ratio"
        }
    }

    public struct BackToBack: Codable, Sendable {
        /// Longest burst at the maximum rate with no loss, per repetition.
        public var frames: Spread?
        /// The longest burst tried; a result equal to it means "at least".
        public var longestTried: UInt64
        public var limitedByLongestTried: Bool

        enum CodingKeys: String, CodingKey {
            case frames
            case longestTried = "longest_tried", limitedByLongestTried = "limited_by_longest_tried"
        }
    }
}
