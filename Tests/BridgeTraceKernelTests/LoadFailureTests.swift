import Testing

@testable import BridgeTraceKernel

/// What a refused load tells the operator, from libbpf's messages as a real refusal printed
/// them (Debian 6.1 refusing bt_xdp_rx before the copy length was bounded in asm).
@Suite struct LoadFailureTests {
    static let refusal: [String] = [
        "libbpf: prog 'bt_xdp_rx': BPF program load failed: Permission denied",
        "libbpf: prog 'bt_xdp_rx': -- BEGIN PROG LOAD LOG --",
        "0: R1=ctx(off=0,imm=0) R10=fp0",
    ] + (1...30).map { "\($0): (bf) r\($0 % 10) = r1  ; filler" } + [
        "; if (!copy || bpf_xdp_load_bytes(ctx, 0, e->data, copy))",
        "642: (85) call bpf_xdp_load_bytes#189",
        "invalid access to memory, mem_size=124 off=28 size=0",
        "R3 min value is outside of the allowed memory range",
        "processed 1021 insns (limit 1000000) max_states_per_insn 4 total_states 61 peak_states 61 mark_read 21",
        "-- END PROG LOAD LOG --",
        "libbpf: prog 'bt_xdp_rx': failed to load: -13",
        "libbpf: failed to load object 'bridgetrace_counters'",
    ]

    @Test func theVerdictIsTheEndOfTheLogWithoutStatistics() {
        let failure = LibBPFLog.loadFailure(in: Self.refusal, verdictLines: 4)
        #expect(failure.program == "bt_xdp_rx")
        #expect(failure.verdict == [
            "; if (!copy || bpf_xdp_load_bytes(ctx, 0, e->data, copy))",
            "642: (85) call bpf_xdp_load_bytes#189",
            "invalid access to memory, mem_size=124 off=28 size=0",
            "R3 min value is outside of the allowed memory range",
        ])
    }

    @Test func aShortLogIsGivenWhole() {
        let failure = LibBPFLog.loadFailure(in: Array(Self.refusal.prefix(3)) + Array(Self.refusal.suffix(7)))
        #expect(failure.verdict.first == "0: R1=ctx(off=0,imm=0) R10=fp0")
        #expect(failure.verdict.last == "R3 min value is outside of the allowed memory range")
    }

    @Test func noLogNoVerdict() {
        let failure = LibBPFLog.loadFailure(in: ["libbpf: map 'bt_events': failed to create: Operation not permitted(-1)"])
        #expect(failure.program == nil)
        #expect(failure.verdict.isEmpty)
    }

    @Test func theHintNamesProgramKernelChoicesAndVerdict() {
        let hint = OpenedObject.loadHint(errno: 13, program: "bt_sw_xdp", verdict: ["a", "b"],
                                         choices: ["no bpf_xdp_adjust_meta in XDP (probed): the in-band variant"],
                                         privileged: true, kernel: "6.1.0-57-amd64")
        #expect(hint == "the kernel (6.1.0-57-amd64) refused program bt_sw_xdp; tried: no bpf_xdp_adjust_meta in XDP (probed): "
            + "the in-band variant; the verifier's last words (BRIDGETRACE_DEBUG=1 prints the whole log):\n  a\n  b")
    }

    @Test func permissionWithoutPrivilegesAsksForRoot() {
        let hint = OpenedObject.loadHint(errno: 1, program: nil, verdict: [], choices: [], privileged: false, kernel: "k")
        #expect(hint.hasPrefix("run as root"))
        let lockdown = OpenedObject.loadHint(errno: 1, program: "bt_x", verdict: [], choices: [], privileged: true, kernel: "k")
        #expect(lockdown.contains("although this process has CAP_BPF"))
    }
}
