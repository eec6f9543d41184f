import BridgeTraceCore
import CBridgeTraceShim
import CLibBPF
import Glibc

/// An attachment that belongs to this process: a bpf_link (XDP, tcx, tracing). Dropping
/// the last reference detaches it, and so does the process's death, even by SIGKILL: a
/// link never outlives its owner.
public final class BPFLink {
    /// What is attached where, for logs: "xdp bt_bench_sink on veth1".
    public let description: String
    private enum Handle {
        case fd(Int32)
        case libbpf(OpaquePointer)
    }
    private var handle: Handle?

    init(fd: Int32, describing description: String) {
        handle = .fd(fd)
        self.description = description
    }

    init(libbpf link: OpaquePointer, describing description: String) {
        handle = .libbpf(link)
        self.description = description
    }

    /// An XDP link (BPF_XDP) for the program `programFD` (named `program`) on `ifindex`:
    /// driver mode only by default (generic skb mode would measure something else); with
    /// `driverOnly: false`, whichever mode the kernel picks (generic on a device without
    /// native XDP). EBUSY: another program holds the port without a link.
    public static func xdp(programFD: Int32, program: String, ifindex: Int32, interface: String,
                           driverOnly: Bool = true) throws -> BPFLink {
        let fd = driverOnly ? bt_xdp_link(programFD, ifindex) : anyModeXDPLink(programFD, ifindex)
        guard fd >= 0 else {
            throw SystemError("cannot attach XDP program \(program) to", subject: interface, code: fd,
                              hint: -fd == EINVAL || -fd == ERANGE ? "the MTU may be too large for XDP on this device" : nil)
        }
        return BPFLink(fd: fd, describing: "xdp \(program) on \(interface)")
    }

    private static func anyModeXDPLink(_ programFD: Int32, _ ifindex: Int32) -> Int32 {
        let fd = bpf_link_create(programFD, ifindex, BPF_XDP, nil)
        return fd < 0 ? -errno : fd
    }

    /// A tcx link at ingress or egress of `ifindex` (the kernel must have tcx: see
    /// AttachMethod.tcxAvailable).
    public static func tcx(programFD: Int32, program: String, ifindex: Int32, interface: String,
                           egress: Bool) throws -> BPFLink {
        let direction = egress ? "egress" : "ingress"
        let fd = bt_tcx_link(programFD, ifindex, egress)
        guard fd >= 0 else {
            throw SystemError("cannot attach tcx \(direction) program to", subject: interface, code: fd,
                              hint: -fd == ENODEV ? "the port disappeared" : nil)
        }
        return BPFLink(fd: fd, describing: "tcx \(direction) \(program) on \(interface)")
    }

    public var isAttached: Bool { handle != nil }

    /// Detaches now. Idempotent; works from any thread and network namespace.
    public func detach() {
        switch handle {
        case .fd(let fd): close(fd)
        case .libbpf(let link): bpf_link__destroy(link)
        case nil: break
        }
        handle = nil
    }

    deinit {
        detach()
    }
}
