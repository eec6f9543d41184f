import BridgeTraceCore
import BridgeTraceKernel
import CLibBPF
import Foundation

/// One of the benchmark's own XDP programs attached (native mode) to one interface, in the
/// namespace of the thread that attached it. Detached by `detach(in:)`; deleting the
/// namespace also takes it away, which is the benchmark's last line of cleanup.
struct XDPAttachment {
    let namespace: String
    let interface: String
    let ifindex: Int32
    /// XDP_FLAGS_DRV_MODE from linux/if_link.h (a macro Swift does not import): native XDP,
    /// never the generic skb mode, which would measure something else.
    static let driverMode: UInt32 = 1 << 2

    static func attach(programFD: Int32, interface: String, in namespace: String) throws -> XDPAttachment {
        try NamespaceThread.run(in: namespace) {
            let ifindex = Int32(if_nametoindex(interface))
            guard ifindex > 0 else { throw UserError("internal: no interface \(interface) in netns \(namespace)") }
            let rc = bpf_xdp_attach(ifindex, programFD, XDPAttachment.driverMode, nil)
            if rc != 0 {
                var message = "cannot attach the bench's XDP program to \(interface) in netns \(namespace): "
                    + String(cString: strerror(-rc))
                if -rc == EINVAL || -rc == ERANGE { message += "; the MTU may be too large for XDP on this device" }
                throw UserError(message)
            }
            return XDPAttachment(namespace: namespace, interface: interface, ifindex: ifindex)
        }
    }

    /// Best effort: the interface (or its namespace) may already be gone.
    func detach() {
        _ = try? NamespaceThread.run(in: namespace) {
            _ = bpf_xdp_detach(ifindex, XDPAttachment.driverMode, nil)
        }
    }
}
