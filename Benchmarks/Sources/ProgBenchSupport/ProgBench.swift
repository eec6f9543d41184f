import BridgeTraceCore
import BridgeTraceKernel
import CBenchShim
import Foundation

/// One BPF_PROG_TEST_RUN call of `repeat` runs.
public struct RunSample: Sendable {
    /// The kernel's own mean time per run, truncated to whole nanoseconds. It times only
    /// the run loop and leaves out rescheduling points.
    public let kernelNs: UInt32
    /// Wall time of the whole syscall. Not a per-frame figure: with repeat > 1 an XDP test
    /// run swaps the program into the XDP dispatcher and waits for RCU, a fixed 15-30 ms
    /// here, which is as long as the 1e6 runs themselves.
    public let wallNs: UInt64
    public let retval: UInt32
}

public struct TestRunError: Error, CustomStringConvertible {
    public let description: String
}

/// The counting object (bt_xdp_rx) and the pass-only baseline (bt_bench_pass), loaded.
/// Nothing is attached: BPF_PROG_TEST_RUN runs a loaded program on a buffer.
public final class ProgBench: @unchecked Sendable {
    public static let xdpPass: UInt32 = 2  // XDP_PASS

    let counters: BPFObject
    let baseline: BPFObject
    public let countersFD: Int32
    public let baselineFD: Int32
    let maps: CounterMaps

    public init() throws {
        counters = try BPFObject(embedded: .counters)
        try counters.load()
        baseline = try BPFObject(embedded: .baseline)
        try baseline.load()
        countersFD = try counters.programFD("bt_xdp_rx")
        baselineFD = try baseline.programFD("bt_bench_pass")
        maps = try CounterMaps(object: counters)
    }

    public func run(fd: Int32, frame: TestFrame, repeat count: UInt32) throws -> RunSample {
        var duration: UInt32 = 0
        var retval: UInt32 = 0
        var wall: UInt64 = 0
        let rc = frame.bytes.withUnsafeBytes { buf in
            bench_test_run(fd, buf.baseAddress, UInt32(buf.count), count, &duration, &retval, &wall)
        }
        if rc < 0 {
            throw TestRunError(description: "BPF_PROG_TEST_RUN failed: \(String(cString: strerror(-rc)))")
        }
        if retval != Self.xdpPass {
            throw TestRunError(description: "\(frame.name): program returned \(retval), expected XDP_PASS")
        }
        return RunSample(kernelNs: duration, wallNs: wall, retval: retval)
    }

    /// bt_xdp_rx's rx counters for the test run's port: XDP test runs see the namespace's
    /// loopback device as the receiving interface.
    public func rxCounters(ifindex: Int32 = 1) throws -> DirectionCounters {
        try maps.read(ifindex: ifindex).rx
    }

    /// Runs bt_xdp_rx `count` times on the frame and checks that exactly that many frames
    /// landed in the frame's class: the benchmark times the path it claims to time.
    public func verifyClass(_ frame: TestFrame, count: UInt32 = 1000) throws {
        let before = try rxCounters()
        _ = try run(fd: countersFD, frame: frame, repeat: count)
        let delta = try rxCounters().since(before)
        var wanted: [CounterKind] = [.frames, frame.expected]
        if let also = frame.alsoExpected { wanted.append(also) }
        for kind in wanted where delta[kind] != UInt64(count) {
            throw TestRunError(description: "\(frame.name): \(kind.jsonKey) moved by \(delta[kind]), expected \(count)")
        }
        if frame.alsoExpected == .vlanTagged, delta.vlanFrames[100] != UInt64(count) {
            throw TestRunError(description: "\(frame.name): VLAN 100 moved by \(delta.vlanFrames[100] ?? 0), expected \(count)")
        }
        let exclusive = CounterKind.allCases.filter { ![.frames, .bytes, .vlanTagged, frame.expected].contains($0) }
        for kind in exclusive where delta[kind] != 0 {
            throw TestRunError(description: "\(frame.name): \(kind.jsonKey) moved by \(delta[kind]), expected 0")
        }
    }
}

public func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
