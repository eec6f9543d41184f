import BridgeTraceCore
import BridgeTraceKernel
import Foundation

/// One of the benchmark's own XDP programs on one interface (native mode, a bpf_link made
/// in the namespace of the thread that attached it). The link goes with `detach()`, with
/// the process (even on SIGKILL), or with the namespace, which is the benchmark's last
/// line of cleanup.
struct XDPAttachment {
    let namespace: String
    let interface: String
    let link: BPFLink

    static func attach(_ program: BPFProgram, interface: String, in namespace: String) throws -> XDPAttachment {
        try NamespaceThread.run(in: namespace) {
            let ifindex = Int32(if_nametoindex(interface))
            guard ifindex > 0 else { throw InternalError("no interface \(interface) in netns \(namespace)") }
            let link = try program.attachXDP(ifindex: ifindex, interface: "\(interface) in netns \(namespace)")
            return XDPAttachment(namespace: namespace, interface: interface, link: link)
        }
    }

    /// Idempotent; the interface (or its namespace) may already be gone.
    func detach() {
        link.detach()
    }
}
