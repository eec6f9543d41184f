import BridgeTraceKernel
import CBridgeTraceABI
import Testing

/// The bench structs of bridgetrace.h as the BPF objects compiled them (BTF) and as Swift
/// imports them must be the same bytes, or the generator's config and the sink's
/// counters land in the wrong places.
@Suite struct BenchABILayoutTests {
    @Test(arguments: [
        (EmbeddedObject.benchGen, "bt_bench_gen", MemoryLayout<bt_bench_gen>.size),
        (EmbeddedObject.benchSink, "bt_bench_sink_config", MemoryLayout<bt_bench_sink_config>.size),
        (EmbeddedObject.benchSink, "bt_bench_sink_stats", MemoryLayout<bt_bench_sink_stats>.size),
    ])
    func swiftLayoutMatchesBTF(object: EmbeddedObject, name: String, swiftSize: Int) throws {
        let btf = try #require(try BPFObjectSpec(embedded: object).btfStructSize(name), "\(name) missing from the BTF")
        #expect(btf == swiftSize, "\(name): BTF \(btf) bytes, Swift \(swiftSize)")
    }

    /// Only ever a pointer cast in the programs, so not in their BTF: checked by size.
    @Test func stampIsFourteenBytes() {
        // So that it fits a 64-byte frame behind a VLAN tag.
        #expect(MemoryLayout<bt_bench_stamp>.size == 14)
    }

    @Test func programsCarryTheRecognisablePrefix() throws {
        for object in [EmbeddedObject.benchGen, .benchSink] {
            #expect(try BPFObjectSpec(embedded: object).programNames.allSatisfy { $0.hasPrefix("bt_") })
        }
    }
}
