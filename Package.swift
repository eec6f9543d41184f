// swift-tools-version:6.0
import PackageDescription

// The git commit `bridgetrace --version` names. scripts/package sets it; a plain
// `swift build` needs no git and says "unknown". Only CBridgeTraceBuild sees it, so a new
// commit recompiles one C file.
let gitCommit = String((Context.environment["BRIDGETRACE_GIT_COMMIT"] ?? "").filter { $0.isLetter || $0.isNumber || $0 == "-" })

// Release builds check the C shims' buffer sizes in libc calls (Debian's default hardening).
let fortified: [CSetting] = [.define("_FORTIFY_SOURCE", to: "2", .when(configuration: .release))]

// Linux only: everything here sits on libbpf, libxdp, netlink and network namespaces.
let package = Package(
    name: "bridgetrace",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "bridgetrace", targets: ["bridgetrace"]),
        // For Benchmarks/, a package of its own so that CI's test build stays lean.
        .library(name: "BridgeTraceCore", targets: ["BridgeTraceCore"]),
        .library(name: "BridgeTraceKernel", targets: ["BridgeTraceKernel"]),
        .library(name: "BridgeTracePipeline", targets: ["BridgeTracePipeline"]),
        .library(name: "BridgeTraceSwitch", targets: ["BridgeTraceSwitch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // `bridgetrace exporter`: the Prometheus text exposition, and NIO's HTTP/1 server
        // (far lighter to build than a web framework; CI builds from a fresh clone).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // `Errno`, the typed errno that SystemError carries.
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // libbpf, libxdp and libmnl from Debian, found through pkg-config.
        .systemLibrary(
            name: "CLibBPF",
            pkgConfig: "libxdp",
            providers: [.apt(["libbpf-dev", "libxdp-dev", "libmnl-dev", "libelf-dev"])]
        ),
        // libpcap, for tcpdump filter expressions (pcap_compile / pcap_offline_filter).
        .systemLibrary(name: "CLibPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        // The git commit (BuildInfo), from BRIDGETRACE_GIT_COMMIT at build time.
        .target(name: "CBridgeTraceBuild", cSettings: [.define("BT_GIT_COMMIT", to: "\"\(gitCommit)\"")]),
        // bpf/include/bridgetrace.h, the one kernel/user ABI, with no library attached, so
        // that BridgeTraceCore can see the layouts without importing libbpf.
        .target(name: "CBridgeTraceABI"),
        // Prefixed C shims (bt_*) for libbpf/libxdp/libmnl macros and opts structs, and the
        // compiled BPF objects embedded as byte arrays.
        .target(
            name: "CBridgeTraceShim",
            dependencies: ["CLibBPF", "CBridgeTraceABI"],
            cSettings: fortified,
            linkerSettings: [
                .linkedLibrary("xdp"), .linkedLibrary("bpf"), .linkedLibrary("mnl"),
                .linkedLibrary("elf"), .linkedLibrary("z"),
            ]
        ),
        .target(
            name: "BridgeTraceCore",
            dependencies: ["CBridgeTraceABI", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(
            name: "BridgeTraceKernel",
            // BridgeTraceProcess: `nft -j list ruleset` for the netfilter state diagnose reads.
            dependencies: ["BridgeTraceCore", "BridgeTraceProcess", "CBridgeTraceShim", "CLibBPF", "CBridgeTraceABI"]
        ),
        // tcpdump filter expressions through libpcap: compile, match captured bytes.
        .target(
            name: "BridgeTracePcap",
            dependencies: ["BridgeTraceCore", "CLibPcap"]
        ),
        // The one event pipeline: ring-buffer drains, records decoded once, the tcpdump
        // filter, sinks (text, JSON lines, journeys, pcapng, diagnose's collector).
        .target(
            name: "BridgeTracePipeline",
            dependencies: ["BridgeTraceCore", "BridgeTraceKernel", "BridgeTracePcap"]
        ),
        // Child processes: the one spawner (posix_spawn, signal mask reset, process groups,
        // SIGTERM-then-SIGKILL teardown), the executable lookup and CommandRunner.
        // No libbpf in these two: BridgeTraceProcess is imported beside libpcap (tests),
        // whose struct bpf_insn clashes with the kernel's.
        .target(name: "CBridgeTraceProcess", cSettings: fortified),
        .target(
            name: "BridgeTraceProcess",
            dependencies: ["BridgeTraceCore", "CBridgeTraceProcess"]
        ),
        // `bridgetrace bench`: generator, receiver, devices under test, RFC 2544 search.
        .target(
            name: "BridgeTraceBench",
            dependencies: [
                // The shim for the AF_PACKET sender and thread placement (bt_bench_*);
                // BPF objects, programs, maps and links only through BridgeTraceKernel.
                "BridgeTraceCore", "BridgeTraceKernel", "BridgeTraceLab", "BridgeTracePipeline", "BridgeTraceProcess", "CBridgeTraceShim",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .target(
            name: "BridgeTraceLab",
            dependencies: ["BridgeTraceCore", "BridgeTraceKernel", "BridgeTraceProcess", "CBridgeTraceShim"]
        ),
        // `bridgetrace exporter`: per-namespace collectors, the sliding diagnosis window, the
        // metric series (swift-prometheus) and the /metrics HTTP server (NIOHTTP1).
        .target(
            name: "BridgeTraceExporter",
            dependencies: [
                "BridgeTraceCore", "BridgeTraceKernel", "BridgeTracePipeline", "CBridgeTraceABI", "CBridgeTraceBuild",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // `bridgetrace switch`: the AF_XDP learning switch with its XDP fast path.
        .target(
            name: "BridgeTraceSwitch",
            dependencies: ["BridgeTraceCore", "BridgeTraceKernel", "BridgeTraceProcess", "CBridgeTraceShim", "CBridgeTraceABI"]
        ),
        .target(
            name: "BridgeTraceCLI",
            dependencies: [
                "BridgeTraceCore", "BridgeTraceKernel", "BridgeTraceLab", "BridgeTracePcap", "BridgeTracePipeline", "BridgeTraceBench",
                "BridgeTraceExporter", "BridgeTraceProcess",
                "BridgeTraceSwitch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "bridgetrace", dependencies: ["BridgeTraceCLI"]),
        .testTarget(name: "BridgeTraceCoreTests", dependencies: ["BridgeTraceCore"], exclude: ["DiagnosisRecordings", "VMRecordings"]),
        .testTarget(name: "BridgeTraceExporterTests", dependencies: ["BridgeTraceExporter", "BridgeTraceCore"]),
        .testTarget(name: "BridgeTraceSwitchTests", dependencies: ["BridgeTraceSwitch", "BridgeTraceCore", "BridgeTraceKernel", "CBridgeTraceABI"]),
        .testTarget(name: "BridgeTraceBenchTests", dependencies: ["BridgeTraceBench", "BridgeTraceLab", "BridgeTraceProcess", "BridgeTraceCore"]),
        .testTarget(name: "BridgeTracePipelineTests", dependencies: ["BridgeTracePipeline", "BridgeTracePcap", "BridgeTraceCore", "CBridgeTraceABI"]),
        // The lab's pure parts (address plan, parsing, initramfs, fault catalogue): no root.
        .testTarget(name: "BridgeTraceLabTests", dependencies: ["BridgeTraceLab", "BridgeTraceCore"]),
        .testTarget(name: "BridgeTracePcapTests", dependencies: ["BridgeTracePcap", "BridgeTraceProcess", "BridgeTraceCore"]),
        .testTarget(
            name: "BridgeTraceKernelTests",
            dependencies: ["BridgeTraceKernel", "CBridgeTraceABI"]
        ),
        .testTarget(
            name: "BridgeTraceIntegrationTests",
            dependencies: ["BridgeTraceCore", "BridgeTraceKernel", "BridgeTraceLab", "BridgeTraceProcess", "BridgeTraceSwitch"],
            exclude: ["Fixtures"]
        ),
    ]
)
