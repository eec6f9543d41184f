import CBridgeTraceShim

/// The BPF objects compiled from bpf/ and embedded in the binary.
public enum EmbeddedObject: String, CaseIterable, Sendable {
    case counters
    /// An XDP program that only passes: the zero point for benchmarks.
    case baseline
    /// Kernel drops on watched ports (tp_btf/kfree_skb, raw_tp fallback).
    case drops
    /// `bench`: the traffic generator, run with BPF_PROG_TEST_RUN (live frames).
    case benchGen = "bench_gen"
    /// `bench`: the receiver on the sink port (counts, sequence, latency histogram).
    case benchSink = "bench_sink"
    /// `switch`: the XDP program of the AF_XDP switch's ports (FDB, fast path, XSKMAP).
    case `switch`
    /// The lab's `vlan_mismatch` fault: a tc program that tags every frame (lab_vlan_push).
    case labVLANPush = "lab_vlan_push"

    var bytes: UnsafeRawBufferPointer {
        switch self {
        case .counters:
            return UnsafeRawBufferPointer(start: bt_obj_counters_bytes(), count: Int(bt_obj_counters_len()))
        case .baseline:
            return UnsafeRawBufferPointer(start: bt_obj_baseline_bytes(), count: Int(bt_obj_baseline_len()))
        case .drops:
            return UnsafeRawBufferPointer(start: bt_obj_drops_bytes(), count: Int(bt_obj_drops_len()))
        case .benchGen:
            return UnsafeRawBufferPointer(start: bt_obj_bench_gen_bytes(), count: Int(bt_obj_bench_gen_len()))
        case .benchSink:
            return UnsafeRawBufferPointer(start: bt_obj_bench_sink_bytes(), count: Int(bt_obj_bench_sink_len()))
        case .switch:
            return UnsafeRawBufferPointer(start: bt_obj_switch_bytes(), count: Int(bt_obj_switch_len()))
        case .labVLANPush:
            return UnsafeRawBufferPointer(start: bt_obj_lab_vlan_push_bytes(), count: Int(bt_obj_lab_vlan_push_len()))
        }
    }
}
