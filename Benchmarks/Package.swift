// swift-tools-version:6.1
import PackageDescription

// bridgetrace's benchmarks: a package of their own so that the root package's test build
// stays lean. Everything here needs root (BPF_PROG_TEST_RUN loads programs).
//
//   swift run -c release bt-progbench                                  # plain table
//   swift package --allow-writing-to-package-directory benchmark       # package-benchmark
//   ./lab-pps.sh                                                       # bridge pps, tracer on/off
let package = Package(
    name: "bridgetrace-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        // Named, because a path dependency is otherwise known by its folder name.
        .package(name: "bridgetrace", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        // bpf_prog_test_run_opts through LIBBPF_OPTS, which Swift cannot spell.
        .target(name: "CBenchShim", linkerSettings: [.linkedLibrary("bpf")]),
        // The test frames and the timing loop, shared by both front ends.
        .target(
            name: "ProgBenchSupport",
            dependencies: [
                "CBenchShim",
                .product(name: "BridgeTraceKernel", package: "bridgetrace"),
                .product(name: "BridgeTraceCore", package: "bridgetrace"),
            ]
        ),
        .executableTarget(name: "bt-progbench", dependencies: ["ProgBenchSupport", "CBenchShim"]),
        // package-benchmark suite; the plugin finds targets whose folder sits in a folder
        // named Benchmarks, which this package's root is.
        .executableTarget(
            name: "ProgTestRun",
            dependencies: [
                "ProgBenchSupport",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "ProgTestRun",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The recorded ring-buffer stream both userspace trace benchmarks replay.
        .target(name: "TraceRecords", dependencies: [.product(name: "BridgeTraceCore", package: "bridgetrace")]),
        // Plain executable for `valgrind --tool=callgrind`: instructions per event of
        // trace's drain (EventPipeline.handleFrame -> TraceOutputSink -> batched write),
        // repeatable.
        .executableTarget(
            name: "bt-drainbench",
            dependencies: [
                "TraceRecords",
                .product(name: "BridgeTraceCore", package: "bridgetrace"),
                .product(name: "BridgeTracePipeline", package: "bridgetrace"),
            ]
        ),
        // package-benchmark suite: trace's userspace path per event (decode, text, JSON).
        .executableTarget(
            name: "TraceDecode",
            dependencies: [
                "TraceRecords",
                .product(name: "BridgeTraceCore", package: "bridgetrace"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "TraceDecode",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
