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
        // bt_sw_xdp and bt_sw_xdp_frags: one body, two builds (one is loaded); bt_sw_tc the
        // skb path of GSO frames; the two raw tracepoints count REDIRECT_FAILED.
        #expect(Set(object.programNames) == ["bt_sw_xdp", "bt_sw_xdp_frags", "bt_sw_tc", "bt_sw_devmap_xmit",
                                             "bt_sw_redirect_err", "bt_sw_trace_user"])
        #expect(object.btfStructSize("bt_sw_trace") == MemoryLayout<bt_sw_trace>.size)
        // The metadata Switch.runTrace puts in front of a frame (the kernel takes 4-byte
        // multiples), and drop_reason took a byte of padding: the record is the tracer's.
        #expect(MemoryLayout<bt_sw_trace_meta>.size == 8)
        #expect(MemoryLayout<bt_frame_event>.offset(of: \.data) == 28)
        #expect(MemoryLayout<bt_frame_event>.offset(of: \.drop_reason) == MemoryLayout<bt_frame_event>.offset(of: \.dhcp_msg_type)! + 1)
    }

    @Test func dropReasonsCoverTheABIEnum() {
        #expect(SwitchDropReason.allCases.count + 1 == Int(BT_SW_DROP_MAX.rawValue))
    }

    /// Every Swift name against the ABI's value: bridgetrace.h's enum bt_sw_drop is the
    /// one kernel/user ABI, and `drops` prints these names for those numbers.
    @Test func dropReasonNamesMatchTheABIValues() {
        let abi: [(UInt32, String)] = [
            (BT_SW_DROP_VLAN_NOT_ALLOWED.rawValue, "VLAN_NOT_ALLOWED"), (BT_SW_DROP_FDB_FULL.rawValue, "FDB_FULL"),
            (BT_SW_DROP_MTU_EXCEEDED.rawValue, "MTU_EXCEEDED"), (BT_SW_DROP_PORT_DOWN.rawValue, "PORT_DOWN"),
            (BT_SW_DROP_XSK_RX_RING_FULL.rawValue, "XSK_RX_RING_FULL"), (BT_SW_DROP_XSK_TX_RING_FULL.rawValue, "XSK_TX_RING_FULL"),
            (BT_SW_DROP_NO_PORT.rawValue, "NO_PORT"), (BT_SW_DROP_HAIRPIN.rawValue, "HAIRPIN"),
            (BT_SW_DROP_FRAME_TOO_BIG.rawValue, "FRAME_TOO_BIG"), (BT_SW_DROP_REDIRECT_FAILED.rawValue, "REDIRECT_FAILED"),
        ]
        #expect(abi.count == SwitchDropReason.allCases.count)
        for (value, name) in abi {
            #expect(SwitchDropReason(rawValue: value)?.name == name, "\(value)")
            #expect(SwitchDropReason.named(name)?.rawValue == value, "\(name)")
        }
    }

    /// The port entry grew the sockets' frame limit: the program reads it at this offset.
    @Test func portEntryCarriesTheSocketsFrameLimit() throws {
        let object = try BPFObjectSpec(embedded: .switch)
        #expect(MemoryLayout<bt_sw_port>.offset(of: \.xsk_frame_max) == 24)
        #expect(MemoryLayout<bt_sw_port>.offset(of: \.vlans) == 32)
        #expect(object.btfStructSize("bt_sw_port") == 32 + 8 * Int(BT_SW_VLAN_WORDS))
    }
}
