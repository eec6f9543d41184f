// package-benchmark suite: bt_xdp_rx vs bt_bench_pass under BPF_PROG_TEST_RUN.
//
// One iteration = one test run of each program over the same frame, 1e6 runs each. The
// figures are custom metrics taken from the kernel, which times its own loop and returns
// the mean per run in whole nanoseconds. package-benchmark's wall-clock metric is not
// collected: it would time 2e6 runs plus the fixed cost of an XDP test run with repeat > 1
// (it swaps the program into the XDP dispatcher and waits for RCU: 15-30 ms here).
// Needs root. `swift run -c release bt-progbench` prints the same figures as one table.
import Benchmark
import Foundation
import ProgBenchSupport

let repeatCount: UInt32 = 1_000_000

func metric(_ name: String) -> BenchmarkMetric {
    .custom(name, polarity: .prefersSmaller, useScalingFactor: false)
}
let rxNs = metric("bt_xdp_rx ns/frame")
let passNs = metric("bt_bench_pass ns/frame")
let deltaNs = metric("delta ns/frame (>= 0)")

// Loaded once for the whole suite, on first use: the plugin also runs this executable to
// list the benchmarks, which must not need root.
final class Loaded: @unchecked Sendable {
    static let shared = Loaded()
    private let lock = NSLock()
    private var bench: Result<ProgBench, Error>?

    func get() throws -> ProgBench {
        lock.lock()
        defer { lock.unlock() }
        if bench == nil {
            bench = Result {
                let b = try ProgBench()
                for frame in TestFrame.all { try b.verifyClass(frame) }
                return b
            }
        }
        return try bench!.get()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [rxNs, passNs, deltaNs],
        warmupIterations: 2,
        maxDuration: .seconds(5),
        maxIterations: 25
    )

    for frame in TestFrame.all {
        Benchmark("bt_xdp_rx vs bt_bench_pass: \(frame.name)") { benchmark in
            let bench = try Loaded.shared.get()
            let pass = try bench.run(fd: bench.baselineFD, frame: frame, repeat: repeatCount)
            let rx = try bench.run(fd: bench.countersFD, frame: frame, repeat: repeatCount)
            benchmark.measurement(rxNs, Int(rx.kernelNs))
            benchmark.measurement(passNs, Int(pass.kernelNs))
            // Histograms take no negative values; a delta below zero is noise.
            benchmark.measurement(deltaNs, max(0, Int(rx.kernelNs) - Int(pass.kernelNs)))
        }
    }
}
