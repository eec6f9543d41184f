import BridgeTraceCore
import CBridgeTraceShim
import CLibBPF
import Foundation

/// The three program fds every watched port gets one or two of.
public struct PortPrograms: Sendable {
    public var xdpRx: Int32
    public var tcRx: Int32
    public var tcTx: Int32

    public init(object: BPFObject) throws {
        xdpRx = try object.programFD("bt_xdp_rx")
        tcRx = try object.programFD("bt_tc_rx")
        tcTx = try object.programFD("bt_tc_tx")
    }
}

/// One port with bridgetrace's hooks on it: rx on XDP (or tc ingress), tx on tc egress.
/// `detach()` removes exactly what was attached here, and nothing else.
public final class AttachedPort {
    public let name: String
    public let ifindex: Int32
    public private(set) var rxHook: RxHook = .xdp
    /// Why rx went to tc ingress instead of XDP.
    public private(set) var rxHookNote: String?

    private var xdpProgram: OpaquePointer?
    private var tcIngress = false
    private var tcEgress = false
    private var createdClsact = false

    /// Attaches rx then tx; on any failure, what was attached is removed before throwing.
    public init(name: String, ifindex: Int32, programs: PortPrograms, rxHook preferred: RxHook = .xdp) throws {
        self.name = name
        self.ifindex = ifindex
        do {
            if preferred == .xdp {
                try attachRx(programs)
            } else {
                try attachTC(egress: false, fd: programs.tcRx)
                tcIngress = true
                rxHook = .tc
            }
            try attachTC(egress: true, fd: programs.tcTx)
            tcEgress = true
        } catch {
            detach()
            throw error
        }
    }

    private func attachRx(_ programs: PortPrograms) throws {
        if let holder = foreignXDPHolder() {
            rxHookNote = "XDP is held by \(holder), which libxdp cannot share on this kernel"
        } else {
            let program = xdp_program__from_fd(programs.xdpRx)
            if libxdp_get_error(UnsafeRawPointer(program)) == 0, let program {
                let rc = xdp_program__attach(program, ifindex, XDP_MODE_NATIVE, 0)
                if rc == 0 {
                    xdpProgram = program
                    rxHook = .xdp
                    return
                }
                xdp_program__close(program)
                rxHookNote = "native XDP attach failed: \(describeErrno(rc))" + xdpHint(rc)
            } else {
                rxHookNote = "libxdp cannot use the program"
            }
        }
        try attachTC(egress: false, fd: programs.tcRx)
        tcIngress = true
        rxHook = .tc
    }

    private func xdpHint(_ rc: Int32) -> String {
        -rc == ERANGE || -rc == EINVAL ? " (MTU too large for XDP on this device?)" : ""
    }

    /// The name and id of an XDP program already on the port that is not ours.
    private func foreignXDPHolder() -> String? {
        guard let multiprog = xdp_multiprog__get_from_ifindex(ifindex),
              libxdp_get_error(UnsafeRawPointer(multiprog)) == 0 else { return nil }
        defer { xdp_multiprog__close(multiprog) }
        guard xdp_multiprog__is_legacy(multiprog), let main = xdp_multiprog__main_prog(multiprog) else {
            return nil  // a libxdp dispatcher: ours can join it
        }
        let progName = String(cString: xdp_program__name(main))
        return "\(progName) (id \(xdp_program__id(main)))"
    }

    private func attachTC(egress: Bool, fd: Int32) throws {
        var created = false
        let rc = bt_tc_attach(ifindex, egress, fd, &created)
        if created { createdClsact = true }
        if rc != 0 {
            throw UserError.kernel("cannot attach tc \(egress ? "egress" : "ingress") program to \(name)", errno: rc,
                                   hint: -rc == ENODEV ? "the port disappeared" : nil)
        }
    }

    /// Idempotent; a port that vanished has taken its hooks with it, which is fine.
    public func detach() {
        if let program = xdpProgram {
            _ = xdp_program__detach(program, ifindex, XDP_MODE_NATIVE, 0)
            xdp_program__close(program)
            xdpProgram = nil
        }
        if tcIngress {
            _ = bt_tc_detach(ifindex, false)
            tcIngress = false
        }
        if tcEgress {
            _ = bt_tc_detach(ifindex, true)
            tcEgress = false
        }
        if createdClsact {
            _ = bt_tc_hook_destroy(ifindex)
            createdClsact = false
        }
    }

    deinit {
        detach()
    }
}
