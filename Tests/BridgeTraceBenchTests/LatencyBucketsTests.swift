import Testing

@testable import BridgeTraceBench

@Suite struct LatencyBucketsTests {
    @Test func bucketsAreContiguousAndHoldTheirValues() {
        var expectedLow: UInt64 = 0
        for index in 0..<LatencyBuckets.count - 1 {
            let range = LatencyBuckets.range(of: index)
            #expect(range.lowerBound == expectedLow, "bucket \(index)")
            #expect(LatencyBuckets.index(of: range.lowerBound) == index)
            #expect(LatencyBuckets.index(of: range.upperBound) == index)
            expectedLow = range.upperBound + 1
        }
    }

    @Test func bucketWidthIsAtMostOneThirtySecond() {
        for index in 64..<LatencyBuckets.count {
            let range = LatencyBuckets.range(of: index)
            let width = Double(range.upperBound - range.lowerBound + 1)
            #expect(width / Double(range.lowerBound) <= 1.0 / 32 + 1e-12)
        }
    }

    @Test func histogramPercentilesLandInTheRightBucket() throws {
        var buckets = [UInt64](repeating: 0, count: LatencyBuckets.count)
        // 99 frames at ~1 µs, 1 frame at ~1 ms.
        buckets[LatencyBuckets.index(of: 1000)] = 99
        buckets[LatencyBuckets.index(of: 1_000_000)] = 1
        let summary = try #require(LatencySummary(histogram: LatencyBuckets.histogram(from: buckets),
                                                  exactMin: 990, exactMax: 1_000_100, sumNs: 99 * 1000 + 1_000_000))
        #expect(abs(Double(summary.p50Ns) - 1000) / 1000 < 0.04)
        #expect(abs(Double(summary.p99Ns) - 1000) / 1000 < 0.04)
        #expect(summary.p999Ns > 900_000)
        #expect(summary.maxNs == 1_000_100)
        #expect(summary.minNs == 990)
        #expect(summary.cdf.first?.fraction == 0 && summary.cdf.last?.fraction == 1)
        #expect(zip(summary.cdf, summary.cdf.dropFirst()).allSatisfy { $0.ns <= $1.ns && $0.fraction <= $1.fraction })
    }

    @Test func noFramesNoSummary() {
        let empty = [UInt64](repeating: 0, count: LatencyBuckets.count)
        #expect(LatencySummary(histogram: LatencyBuckets.histogram(from: empty), exactMin: 0, exactMax: 0, sumNs: 0) == nil)
    }
}
