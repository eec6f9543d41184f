import BridgeTraceCore
import BridgeTraceKernel
import BridgeTraceSwitch
import CBridgeTraceABI
import Testing

/// The switch's structs as Swift imports them against the BTF of the compiled program
/// (no privileges needed: the object is only opened).
@Suite struct SwitchABITests {
    @Test func structSizesMatchTheCompiledProgram() throws {
        let object = try BPFObjectSpec(embedded: .switch)
        #expect(object.btfStructSize("bt_sw_port") == MemoryLayout<bt_sw_port>.size)
        #expect(object.btfStructSize("bt_sw_fdb_key") == MemoryLayout<bt_sw_fdb_key>.size)
        #expect(object.btfStructSize("bt_sw_fdb_entry") == MemoryLayout<bt_sw_fdb_entry>.size)
        #expect(object.btfStructSize("bt_sw_info") == MemoryLayout<bt_sw_info>.size)
        #expect(object.btfStructSize("bt_sw_drop_key") == MemoryLayout<bt_sw_drop_key>.size)
        // The metadata is decoded from one UInt64 in Switch.forward.
        #expect(MemoryLayout<bt_sw_meta>.size == 8)
        #expect(MemoryLayout<bt_sw_meta>.offset(of: \.vlan) == 4)
        #expect(MemoryLayout<bt_sw_meta>.offset(of: \.counter) == 6)
        #expect(MemoryLayout<bt_sw_meta>.offset(of: \.tagged) == 7)
        // bt_sw_trace_user: the switch's userspace runs its sent and dropped frames
        // through it (BPF_PROG_TEST_RUN) while traced.
        #expect(Set(object.programNames) == ["bt_sw_xdp", "bt_sw_trace_user"])
        #expect(object.btfStructSize("bt_sw_trace") == MemoryLayout<bt_sw_trace>.size)
        // The metadata Switch.runTrace puts in front of a frame (the kernel takes 4-byte
        // multiples), and drop_reason took a byte of padding: the record is the tracer's.
        #expect(MemoryLayout<bt_sw_trace_meta>.size == 8)
        #expect(MemoryLayout<bt_frame_event>.offset(of: \.data) == 28)
        #expect(MemoryLayout<bt_frame_event>.offset(of: \.drop_reason) == MemoryLayout<bt_frame_event>.offset(of: \.dhcp_msg_type)! + 1)
    }

    @Test func dropReasonsCoverTheABIEnum() {
        #expect(SwitchDropReason.allCases.count + 1 == Int(BT_SW_DROP_MAX.rawValue))
        #expect(SwitchDropReason.vlanNotAllowed.rawValue == BT_SW_DROP_VLAN_NOT_ALLOWED.rawValue)
        #expect(SwitchDropReason.hairpin.rawValue == BT_SW_DROP_HAIRPIN.rawValue)
    }
}
