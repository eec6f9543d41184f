import CBridgeTraceABI
import Histogram

/// The sink's in-kernel latency histogram, on the Swift side: the same log-linear bucket
/// layout as `bt_bucket()` in bench_sink.bpf.c, and its conversion to an HdrHistogram.
///
/// Why a histogram in the kernel and not samples in a ring buffer: at millions of frames
/// per second a ring-buffer record per frame would cost more than the bridge under test,
/// and sampling would miss exactly the rare slow frames that p99.9 and max are about. A
/// bucket increment costs a few ns, covers every frame, and the 1/32 bucket width (3.1%)
/// is finer than this machine's run-to-run noise.
public enum LatencyBuckets {
    public static let count = Int(BT_BENCH_HIST_BUCKETS)
    static let subBits = Int(BT_BENCH_HIST_SUB_BITS)
    static let maxExponent = Int(BT_BENCH_HIST_MAX_EXP)

    /// The bucket of a latency in ns; mirrors the BPF code.
    public static func index(of nanoseconds: UInt64) -> Int {
        if nanoseconds < 1 << subBits { return Int(nanoseconds) }
        let exponent = 63 - nanoseconds.leadingZeroBitCount
        if exponent >= maxExponent { return count - 1 }
        let sub = Int(nanoseconds >> UInt64(exponent - subBits)) & ((1 << subBits) - 1)
        return ((exponent - subBits + 1) << subBits) + sub
    }

    /// The values bucket `index` holds, lowest to highest.
    public static func range(of index: Int) -> ClosedRange<UInt64> {
        precondition(index >= 0 && index < count)
        if index < 2 << subBits { return UInt64(index)...UInt64(index) }
        let exponent = index >> subBits + subBits - 1
        let sub = UInt64(index & ((1 << subBits) - 1))
        let width = UInt64(1) << UInt64(exponent - subBits)
        let low = (UInt64(1 << subBits) + sub) * width
        return low...(low + width - 1)
    }

    /// An HdrHistogram of the bucket counts, each recorded at its bucket's midpoint.
    public static func histogram(from buckets: [UInt64]) -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 1 << 41,
                                          numberOfSignificantValueDigits: .three)
        for (index, n) in buckets.enumerated() where n > 0 {
            let range = range(of: index)
            _ = histogram.record(max(1, range.lowerBound + (range.upperBound - range.lowerBound) / 2), count: n)
        }
        return histogram
    }
}
