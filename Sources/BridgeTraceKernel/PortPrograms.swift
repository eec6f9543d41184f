import BridgeTraceCore
import CBridgeTraceShim
import CLibBPF
import Foundation

/// The three program fds every watched port gets one or two of.
public struct PortPrograms: Sendable {
    /// nil when the XDP program was left out of the load (see `xdpRxNote`).
    public var xdpRx: Int32?
    /// Why rx cannot use XDP on this kernel, when it cannot.
    public var xdpRxNote: String?
    public var tcRx: Int32
    public var tcTx: Int32

    public init(object: BPFObject, xdpRxNote: String? = nil) throws {
        try self.init(object: object, xdpRx: xdpRxNote == nil ? "bt_xdp_rx" : nil, tcRx: "bt_tc_rx", tcTx: "bt_tc_tx")
        self.xdpRxNote = xdpRxNote
    }

    /// The same three hooks from another object (the bench's empty programs).
    public init(object: BPFObject, xdpRx: String?, tcRx: String, tcTx: String) throws {
        self.xdpRx = try xdpRx.map(object.programFD)
        self.tcRx = try object.programFD(tcRx)
        self.tcTx = try object.programFD(tcTx)
    }
}

/// How programs are attached on this kernel. Links (tcx for tc, BPF_XDP for XDP) belong
/// to the process: they go away when it exits, even on SIGKILL. The legacy attachments
/// (clsact filters, netlink XDP) outlive it and need StaleProgramCleanup.
public enum AttachMethod: Sendable {
    /// `BRIDGETRACE_LEGACY_ATTACH=1` forces clsact and netlink XDP, as on a kernel without
    /// tcx, so the fallback can be tested (and used, should links misbehave somewhere).
    public static let legacyForced = ProcessInfo.processInfo.environment["BRIDGETRACE_LEGACY_ATTACH"] == "1"

    /// The kernel takes tcx links (probed once; not by version, backports exist).
    public static let tcxAvailable: Bool = !legacyForced && KernelProbe.status(.tcx).available
}

/// One port with bridgetrace's hooks on it: rx on XDP (or tc ingress), tx on tc egress,
/// through links where the kernel has them (see AttachMethod).
/// `detach()` removes exactly what was attached here, and nothing else.
public final class AttachedPort {
    public let name: String
    public let ifindex: Int32
    public private(set) var rxHook: RxHook = .xdp
    /// Why rx went to tc ingress instead of XDP.
    public private(set) var rxHookNote: String?
    /// How the tc programs are attached: tcx links, or clsact filters (no tcx).
    public private(set) var tcAttachment: TCAttachment = .clsact
    /// rx on XDP through a bpf_link (gone with the process) rather than netlink/libxdp.
    public private(set) var xdpLinked = false

    private var xdpProgram: OpaquePointer?
    private var xdpLink: BPFLink?
    private var tcLinks: [BPFLink] = []
    private var tcIngress = false
    private var tcEgress = false
    private var createdClsact = false

    /// The bridge's own interface, watched as the port where the host meets the bridge.
    public let isHostSide: Bool

    /// Attaches rx then tx; on any failure, what was attached is removed before throwing.
    /// `hostSide`: the port is a bridge's own interface (the host's side of the bridge).
    /// What the host sends into the bridge leaves that device at tc egress (rx, seen from
    /// the bridge), and what the bridge hands up to the host enters it at tc ingress (tx);
    /// a bridge device has no XDP of its own.
    public init(name: String, ifindex: Int32, programs: PortPrograms, rxHook preferred: RxHook = .xdp,
                hostSide: Bool = false) throws {
        self.name = name
        self.ifindex = ifindex
        isHostSide = hostSide
        do {
            if hostSide {
                try attachTC(egress: true, fd: programs.tcRx)
                tcEgress = true
                try attachTC(egress: false, fd: programs.tcTx)
                tcIngress = true
                rxHook = .tc
                return
            }
            if preferred == .xdp, programs.xdpRx != nil {
                try attachRx(programs)
            } else {
                rxHookNote = preferred == .xdp ? programs.xdpRxNote : nil
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
        guard let xdpRx = programs.xdpRx else { return }
        if let holder = foreignXDPHolder() {
            rxHookNote = "XDP is held by \(holder), which libxdp cannot share on this kernel"
        } else if !AttachMethod.legacyForced, !portHasDispatcher(), tryXDPLink(xdpRx) {
            return
        } else {
            let program = xdp_program__from_fd(xdpRx)
            if libxdp_get_error(UnsafeRawPointer(program)) == 0, let program {
                let rc = xdp_program__attach(program, ifindex, XDP_MODE_NATIVE, 0)
                if rc == 0 {
                    xdpProgram = program
                    rxHook = .xdp
                    return
                }
                xdp_program__close(program)
                rxHookNote = "native XDP attach failed: \(SystemError.describe(Errno(rawValue: -rc)))" + xdpHint(rc)
            } else {
                rxHookNote = "libxdp cannot use the program"
            }
        }
        try attachTC(egress: false, fd: programs.tcRx)
        tcIngress = true
        rxHook = .tc
    }

    /// A BPF_XDP link; false (and the libxdp path follows) when the kernel or driver will
    /// not take one for a reason libxdp may get around.
    private func tryXDPLink(_ fd: Int32) -> Bool {
        guard let link = try? BPFLink.xdp(programFD: fd, program: "rx", ifindex: ifindex, interface: name) else {
            return false
        }
        xdpLink = link
        xdpLinked = true
        rxHook = .xdp
        return true
    }

    /// A libxdp dispatcher already on the port: ours joins it through libxdp.
    private func portHasDispatcher() -> Bool {
        guard let multiprog = xdp_multiprog__get_from_ifindex(ifindex),
              libxdp_get_error(UnsafeRawPointer(multiprog)) == 0 else { return false }
        defer { xdp_multiprog__close(multiprog) }
        return !xdp_multiprog__is_legacy(multiprog)
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
        if AttachMethod.tcxAvailable {
            tcLinks.append(try BPFLink.tcx(programFD: fd, program: egress ? "tx" : "rx", ifindex: ifindex,
                                           interface: name, egress: egress))
            tcAttachment = .tcx
            return
        }
        var created = false
        let rc = bt_tc_attach(ifindex, egress, fd, &created)
        if created { createdClsact = true }
        if rc != 0 {
            throw SystemError("cannot attach tc \(egress ? "egress" : "ingress") program to", subject: name, code: rc,
                              hint: -rc == ENODEV ? "the port disappeared" : nil)
        }
    }

    /// Idempotent; a port that vanished has taken its hooks with it, which is fine.
    public func detach() {
        xdpLink?.detach()
        xdpLink = nil
        for link in tcLinks { link.detach() }
        tcLinks = []
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

/// The cost of the hooks alone: programs that only return (bpf/baseline.bpf.c), attached
/// to the ports of `request` exactly as `counters` attaches its own (same AttachedPort,
/// same rx hook policy, links or clsact). A benchmark subtracts it to split a tracer's
/// cost into the hook's and the program's. Netns-bound like WatchSession.
public final class HookFloor {
    private let object: BPFObject
    public private(set) var ports: [AttachedPort] = []

    public init(request: WatchRequest) throws {
        let ports = try request.resolve(in: try NetlinkLinks.dump())
        object = try BPFObjectSpec(embedded: .baseline).load()
        let programs = try PortPrograms(object: object, xdpRx: "bt_bench_pass", tcRx: "bt_floor_tc_rx",
                                        tcTx: "bt_floor_tc_tx")
        do {
            for link in ports {
                self.ports.append(try AttachedPort(name: link.name, ifindex: link.ifindex, programs: programs,
                                                   rxHook: request.rxHook.preferred(forLinkKind: link.kind),
                                                   hostSide: link.isBridge))
            }
        } catch {
            close()
            throw error
        }
    }

    /// Idempotent.
    public func close() {
        for port in ports { port.detach() }
        ports = []
    }

    deinit { close() }
}
