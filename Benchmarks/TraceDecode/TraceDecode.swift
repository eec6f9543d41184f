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

/// What the pipeline does per record (EventPipeline.handleFrame, without its sinks): the
/// header, the port name, the event decoded in place and lent to `body`.
@inline(__always)
func decodeAll(_ body: (borrowing TraceEventView) -> Void) {
    for raw in stream {
        raw.withUnsafeBytes { bytes in
            guard let header = FrameEventRecord.header(bytes) else { return }
            FrameEventRecord.withEvent(bytes, header: header, port: ports[header.ifindex] ?? "?", body)
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
            decodeAll { blackHole($0.decoded.kind) }
        }
    }

    // What trace's drain does: lines rendered straight into one batch (TraceLineBuffer).
    Benchmark("decode + text line, 8 events/pass") { benchmark in
        var out = TraceLineBuffer()
        for _ in benchmark.scaledIterations {
            out.removeAll()
            decodeAll { out.appendText($0, wallClockOffsetNs: 0) }
            blackHole(out.count)
        }
    }

    Benchmark("decode + JSON line, 8 events/pass") { benchmark in
        var out = TraceLineBuffer()
        for _ in benchmark.scaledIterations {
            out.removeAll()
            decodeAll { out.appendJSON($0, wallClockOffsetNs: 0) }
            blackHole(out.count)
        }
    }
}
