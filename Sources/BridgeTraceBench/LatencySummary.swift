import Histogram

/// One-way latency of a trial's frames, generator stamp to sink, in nanoseconds.
/// Percentiles come from the histogram (±1.6%, half a kernel bucket); min and max are
/// exact, kept by the sink program beside the histogram.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var samples: UInt64
    public var minNs: UInt64
    public var meanNs: Double
    public var p50Ns: UInt64
    public var p90Ns: UInt64
    public var p99Ns: UInt64
    public var p999Ns: UInt64
    public var maxNs: UInt64
    /// (latency ns, fraction of frames at or below it), for plotting the CDF.
    public var cdf: [CDFPoint]

    public struct CDFPoint: Codable, Sendable, Equatable {
        public var ns: UInt64
        public var fraction: Double
    }

    enum CodingKeys: String, CodingKey {
        case samples, cdf
        case minNs = "min_ns", meanNs = "mean_ns", p50Ns = "p50_ns", p90Ns = "p90_ns", p99Ns = "p99_ns"
        case p999Ns = "p99_9_ns", maxNs = "max_ns"
    }

    /// nil when no frame was measured.
    public init?(histogram: Histogram<UInt64>, exactMin: UInt64, exactMax: UInt64, sumNs: UInt64) {
        guard histogram.totalCount > 0 else { return nil }
        samples = histogram.totalCount
        minNs = exactMin
        maxNs = exactMax
        meanNs = Double(sumNs) / Double(histogram.totalCount)
        // Clamped into [min, max]: a bucket's midpoint may lie outside the exact extremes.
        func at(_ percentile: Double) -> UInt64 {
            min(max(histogram.valueAtPercentile(percentile), exactMin), exactMax)
        }
        p50Ns = at(50)
        p90Ns = at(90)
        p99Ns = at(99)
        p999Ns = at(99.9)
        cdf = Self.cdfPoints(histogram, min: exactMin, max: exactMax)
    }

    /// About 60 points, denser in the tail where the interesting part of a latency CDF is.
    static func cdfPoints(_ histogram: Histogram<UInt64>, min: UInt64, max: UInt64) -> [CDFPoint] {
        var points = [CDFPoint(ns: min, fraction: 0)]
        var percentiles: [Double] = stride(from: 2.0, through: 90, by: 2).map { $0 }
        percentiles += [92, 94, 95, 96, 97, 98, 99, 99.5, 99.9, 99.95, 99.99]
        for p in percentiles {
            let value = Swift.min(Swift.max(histogram.valueAtPercentile(p), min), max)
            points.append(CDFPoint(ns: value, fraction: p / 100))
        }
        points.append(CDFPoint(ns: max, fraction: 1))
        return points
    }
}
