// package-benchmark suite: what `trace` does per event in userspace, per core.
//
// A recorded stream of ring-buffer records (raw struct bt_frame_event bytes, as the
// kernel hands them over: ARP, tagged ARP, ICMP echo, DHCP discover, QinQ, unknown
// ethertype) goes through record decode + frame decode, then text or JSON formatting.
// One iteration = one pass over the stream; throughput is reported per event (scaled).
// Goals (issue 3): >= 2 M events/s decode, >= 0.5 M events/s JSON, on one core.
// No root needed.
import Benchmark
import BridgeTraceCore
import TraceRecords

@inline(__always)
func decodeAll(_ body: (TraceEvent) -> Void) {
    for raw in stream {
        raw.withUnsafeBytes { bytes in
            let port = ports[FrameEventRecord.ifindex(bytes) ?? 0] ?? "?"
            if let frame = FrameEventRecord.decode(bytes, port: port) {
                body(TraceEvent.make(frame))
            }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(3)
    )

    // scalingFactor .kilo: one "iteration" as reported = 1000 passes of 8 events each.
    Benchmark("decode (record + frame), 8 events/pass") { benchmark in
        for _ in benchmark.scaledIterations {
            decodeAll { blackHole($0) }
        }
    }

    Benchmark("decode + text line, 8 events/pass") { benchmark in
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        for _ in benchmark.scaledIterations {
            out.removeAll(keepingCapacity: true)
            decodeAll { TraceText.append($0, wallClockOffsetNs: 0, to: &out); out.append(10) }
            blackHole(out.count)
        }
    }

    // What trace's drain does: lines rendered straight into one batch (TraceLineBuffer).
    Benchmark("decode + JSON line, 8 events/pass") { benchmark in
        var out = TraceLineBuffer()
        for _ in benchmark.scaledIterations {
            out.removeAll()
            decodeAll { out.appendJSON($0, wallClockOffsetNs: 0) }
            blackHole(out.count)
        }
    }
}
