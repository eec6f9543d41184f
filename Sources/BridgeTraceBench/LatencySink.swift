import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import Foundation

/// What the sink counted in one trial, summed over CPUs.
public struct SinkReading: Sendable {
    public var frames: UInt64 = 0
    public var bytes: UInt64 = 0
    public var stale: UInt64 = 0
    public var other: UInt64 = 0
    public var reordered: UInt64 = 0
    public var clockSkew: UInt64 = 0
    public var latencySumNs: UInt64 = 0
    public var latencyMinNs: UInt64 = 0
    public var latencyMaxNs: UInt64 = 0
    public var buckets = [UInt64](repeating: 0, count: LatencyBuckets.count)

    public var latency: LatencySummary? {
        LatencySummary(histogram: LatencyBuckets.histogram(from: buckets), exactMin: latencyMinNs,
                       exactMax: latencyMaxNs, sumNs: latencySumNs)
    }
}

/// The receiver: bench_sink.bpf.c on the sink interface, and its maps.
final class LatencySink {
    private let object: BPFObject
    private let config: TypedBPFMap<UInt32, bt_bench_sink_config>
    /// Per CPU.
    private let stats: TypedBPFMap<UInt32, bt_bench_sink_stats>
    private var attachment: XDPAttachment?

    init(interface: String, namespace: String) throws {
        object = try BPFObjectSpec(embedded: .benchSink).load()
        config = try object.map("bt_bench_sink_cfg").typed(key: UInt32.self, value: bt_bench_sink_config.self)
        stats = try object.map("bt_bench_sink_stats").typed(key: UInt32.self, value: bt_bench_sink_stats.self)
        attachment = try XDPAttachment.attach(try object.program("bt_bench_sink"), interface: interface, in: namespace)
    }

    /// Counts only frames of `trial` from now on, from zero.
    func begin(trial: UInt16) throws {
        var value = bt_bench_sink_config()
        value.trial = UInt32(trial)
        try config.update(0, value)
        try stats.update(0, bt_bench_sink_stats())
    }

    /// Frames of the current trial so far (one small read, for settling).
    func frames() throws -> UInt64 {
        try read(histogram: false).frames
    }

    func read(histogram: Bool = true) throws -> SinkReading {
        guard let copies = try stats.lookup(0) else { throw InternalError("the sink's statistics are missing") }
        var reading = SinkReading()
        for s in copies {
            reading.frames += s.frames
            reading.bytes += s.bytes
            reading.stale += s.stale
            reading.other += s.other
            reading.reordered += s.reordered
            reading.clockSkew += s.clock_skew
            reading.latencySumNs += s.latency_sum_ns
            reading.latencyMaxNs = max(reading.latencyMaxNs, s.latency_max_ns)
            if s.latency_min_ns > 0 && (reading.latencyMinNs == 0 || s.latency_min_ns < reading.latencyMinNs) {
                reading.latencyMinNs = s.latency_min_ns
            }
            guard histogram else { continue }
            withUnsafeBytes(of: s.hist) { hist in
                for i in 0..<LatencyBuckets.count {
                    reading.buckets[i] += hist.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                }
            }
        }
        return reading
    }

    func detach() {
        attachment?.detach()
        attachment = nil
    }

    deinit { detach() }
}
