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

    /// The ELF compiled from bpf/<rawValue>.bpf.c; empty if the build left it out.
    var bytes: UnsafeRawBufferPointer {
        var length: UInt = 0
        let start = bt_obj_named(rawValue, &length)
        return UnsafeRawBufferPointer(start: start, count: Int(length))
    }
}
