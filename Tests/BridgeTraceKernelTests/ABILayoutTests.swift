import CBridgeTraceABI
import Testing

@testable import BridgeTraceKernel

/// bridgetrace.h is compiled twice: by clang for BPF and by Swift's importer for the host.
/// If the two disagree on a layout, counters land in the wrong slots. The BTF in the
/// embedded object is the kernel side's view; MemoryLayout is Swift's.
@Suite struct ABILayoutTests {
    @Test(arguments: [
        ("bt_counters", MemoryLayout<bt_counters>.size),
        ("bt_port_key", MemoryLayout<bt_port_key>.size),
        ("bt_vlan_key", MemoryLayout<bt_vlan_key>.size),
        ("bt_vlan_slots", MemoryLayout<bt_vlan_slots>.size),
        ("bt_trace_stats", MemoryLayout<bt_trace_stats>.size),
    ])
    func swiftLayoutMatchesBTF(name: String, swiftSize: Int) throws {
        let object = try BPFObjectSpec(embedded: .counters)
        let btfSize = try #require(object.btfStructSize(name), "\(name) missing from the object's BTF")
        #expect(btfSize == swiftSize, "\(name): BTF says \(btfSize) bytes, Swift sees \(swiftSize)")
    }

    @Test func countersSlotCountMatchesStruct() {
        #expect(MemoryLayout<bt_counters>.size == 8 * Int(BT_CTR_MAX.rawValue))
    }

    @Test func everyEmbeddedObjectParses() throws {
        for embedded in EmbeddedObject.allCases {
            _ = try BPFObjectSpec(embedded: embedded)
        }
    }

    @Test func programsCarryTheRecognisablePrefix() throws {
        let object = try BPFObjectSpec(embedded: .counters)
        #expect(object.programNames.allSatisfy { $0.hasPrefix("bt_") })
        #expect(Set(object.programNames) == ["bt_xdp_rx", "bt_tc_rx", "bt_tc_tx"])
        // The bench's empty programs too: a killed bench's floor is cleaned up like ours.
        let floor = try BPFObjectSpec(embedded: .baseline)
        #expect(Set(floor.programNames) == ["bt_bench_pass", "bt_floor_tc_rx", "bt_floor_tc_tx"])
    }
}
