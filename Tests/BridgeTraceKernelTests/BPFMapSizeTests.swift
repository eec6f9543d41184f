import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import Testing

/// A key or value of the wrong size is refused before any syscall, with the map and both
/// sizes named: never a kernel read past the end of a Swift value. These maps have no fd
/// (-1): a check that passed would reach the kernel and fail with EBADF instead.
@Suite struct BPFMapSizeTests {
    let counters = BPFMap(name: "bt_counters", fd: -1, keySize: 4, valueSize: 64, isPerCPU: true)

    @Test func aKeyOfTheWrongSizeIsAClearError() {
        #expect(throws: BPFMap.SizeMismatch(map: "bt_counters", part: "key", expected: 4, got: 8, type: "UInt64")) {
            _ = try counters.lookup(UInt64(1))
        }
        #expect(throws: BPFMap.SizeMismatch.self) { try counters.update(UInt16(1), bytes: [UInt8](repeating: 0, count: counters.lookupSize)) }
        #expect(throws: BPFMap.SizeMismatch.self) { _ = try counters.lookupSum(bt_port_key()) }
        let error = BPFMap.SizeMismatch(map: "bt_counters", part: "key", expected: 4, got: 8, type: "UInt64")
        #expect(error.message == InternalError("map bt_counters takes 4-byte keys, not 8 bytes (UInt64)").message)
        #expect(error.message.hasPrefix("internal error: map bt_counters takes 4-byte keys, not 8 bytes (UInt64) (a bridgetrace bug"))
    }

    @Test func aKeyOfTheRightSizeReachesTheKernel() {
        #expect(throws: SystemError("cannot read BPF map", subject: "bt_counters", errno: .badFileDescriptor)) {
            _ = try counters.lookup(UInt32(1))
        }
    }

    @Test func aValueBufferOfTheWrongSizeIsRefused() {
        #expect(throws: BPFMap.SizeMismatch(map: "bt_counters", part: "value buffer", expected: counters.lookupSize,
                                            got: 64, type: nil)) {
            try counters.update(UInt32(0), bytes: [UInt8](repeating: 0, count: 64))
        }
    }

    @Test func typedMapsCheckKeyAndValueOnce() throws {
        let genMap = BPFMap(name: "bt_bench_gen", fd: -1, keySize: 4, valueSize: MemoryLayout<bt_bench_gen>.size,
                            isPerCPU: false)
        let typed = try genMap.typed(key: UInt32.self, value: bt_bench_gen.self)
        #expect(typed.map.name == "bt_bench_gen")
        #expect(throws: BPFMap.SizeMismatch.self) { _ = try genMap.typed(key: UInt32.self, value: UInt64.self) }
        #expect(throws: BPFMap.SizeMismatch.self) { _ = try genMap.typed(key: UInt8.self, value: bt_bench_gen.self) }
    }

    @Test func wrongSizedKeysFindNothingAndDeleteNothing() {
        #expect(counters.keys(as: UInt64.self).isEmpty)
        counters.delete(UInt8(0))  // no syscall with a 1-byte key for a 4-byte map
    }
}

/// Specs open from the embedded ELF without privileges, and their maps' declared sizes
/// are the ABI header's structs: what the typed maps of the loaded objects rely on.
@Suite struct BPFObjectSpecTests {
    @Test func specsOpenWithoutPrivilegesAndKnowTheirMaps() throws {
        let gen = try BPFObjectSpec(embedded: .benchGen)
        #expect(gen.programNames.contains("bt_bench_gen_frame"))
        let state = try gen.mapLayout("bt_bench_gen")
        #expect(state.keySize == MemoryLayout<UInt32>.size)
        #expect(state.valueSize == MemoryLayout<bt_bench_gen>.size)
        #expect(!state.isPerCPU)
        let sink = try BPFObjectSpec(embedded: .benchSink).mapLayout("bt_bench_sink_stats")
        #expect(sink.valueSize == MemoryLayout<bt_bench_sink_stats>.size)
        #expect(sink.isPerCPU)
    }

    @Test func everyEmbeddedObjectIsThereAndOpens() throws {
        for object in EmbeddedObject.allCases {
            let spec = try BPFObjectSpec(embedded: object)
            #expect(spec.name == "bridgetrace_\(object.rawValue)")
            #expect(!spec.programNames.isEmpty, "\(object)")
        }
    }

    @Test func configurationIsCheckedBeforeLoad() throws {
        let spec = try BPFObjectSpec(embedded: .labVLANPush)
        #expect(spec.programNames == ["lab_vlan_push"])
        try spec.setReadOnly("lab_vlan_id", to: UInt32(100))
        // A global of another size, or one the object lacks, is refused before any syscall.
        #expect(throws: InternalError("cannot set lab_vlan_id (2 bytes) in bridgetrace_lab_vlan_push: "
                        + SystemError.describe(.invalidArgument))) { try spec.setReadOnly("lab_vlan_id", to: UInt16(100)) }
        #expect(throws: InternalError.self) { try spec.setReadOnly("no_such_global", to: UInt32(1)) }
        #expect(throws: InternalError("no map bt_nope in bridgetrace_lab_vlan_push")) {
            try spec.setMaxEntries(map: "bt_nope", 1)
        }
        #expect(throws: InternalError("no program bt_nope in bridgetrace_lab_vlan_push")) {
            try spec.setAutoload(program: "bt_nope", false)
        }
    }
}
