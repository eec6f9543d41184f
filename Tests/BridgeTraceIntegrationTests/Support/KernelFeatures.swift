import BridgeTraceKernel
import Foundation

/// What the product's own probes say about the running kernel. The kernel matrix
/// (scripts/kernel-matrix) runs these suites on 6.1, 6.12 and this machine's kernel: a test
/// whose expectation depends on a kernel feature asserts the path the probe chose, so that
/// on a kernel without the feature it checks the fallback instead of failing or skipping.
/// `tcxProbeAgreesWithTheKernelVersion` keeps the probe itself honest.
enum KernelFeatures {
    /// tc programs go on tcx links (6.6+); without them, clsact filters.
    static var tcx: Bool { AttachMethod.tcxAvailable }

    /// Multi-buffer AF_XDP (6.6): the switch's sockets take jumbo frames; without it a long
    /// frame bound for userspace is FRAME_TOO_BIG at its ingress port.
    static var afXDPSG: Bool { KernelProbe.offers(.afXDPSG) }

    /// What `counters --json` reports as `tc_attach` when nothing forces the legacy path.
    static var tcAttach: String { tcx ? "tcx" : "clsact" }

    /// The running kernel's version, (6, 1) for "6.1.0-57-amd64".
    static var release: (major: Int, minor: Int) {
        var name = utsname()
        uname(&name)
        let text = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let numbers = text.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return (numbers.first ?? 0, numbers.dropFirst().first ?? 0)
    }
}
