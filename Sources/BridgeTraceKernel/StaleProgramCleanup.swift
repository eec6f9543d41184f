import BridgeTraceCore
import CBridgeTraceShim
import CLibBPF
import Foundation

/// Removes bridgetrace programs that a killed run left attached in the current network
/// namespace. They are recognised by name (the `bt_` prefix) and, for tc, by
/// bridgetrace's fixed filter handle and priority. Call it only while holding the
/// namespace's `InstanceLock`, so that a live run is never touched.
public enum StaleProgramCleanup {
    /// One line per program removed, e.g. "vm1: xdp bt_xdp_rx (id 42)".
    @discardableResult
    public static func run(links: [(name: String, ifindex: Int32)]) -> [String] {
        LibBPFLog.install()  // tc queries on bare devices make libbpf complain; keep it quiet
        var removed: [String] = []
        for link in links {
            removed += removeXDP(link.name, link.ifindex)
            for egress in [false, true] {
                var progID: UInt32 = 0
                guard bt_tc_query(link.ifindex, egress, &progID) == 0, progID != 0,
                      let name = programName(id: progID), name.hasPrefix(bridgetracePrefix) else { continue }
                if bt_tc_detach(link.ifindex, egress) == 0 {
                    removed.append("\(link.name): tc \(egress ? "egress" : "ingress") \(name) (id \(progID))")
                }
            }
        }
        return removed
    }

    static let bridgetracePrefix = "bt_"

    private static func removeXDP(_ linkName: String, _ ifindex: Int32) -> [String] {
        guard let multiprog = xdp_multiprog__get_from_ifindex(ifindex),
              libxdp_get_error(UnsafeRawPointer(multiprog)) == 0 else { return [] }
        defer { xdp_multiprog__close(multiprog) }
        let mode = xdp_multiprog__attach_mode(multiprog)
        if xdp_multiprog__is_legacy(multiprog) {
            guard let main = xdp_multiprog__main_prog(multiprog) else { return [] }
            let name = String(cString: xdp_program__name(main))
            guard name.hasPrefix(bridgetracePrefix) else { return [] }
            let id = xdp_program__id(main)
            return xdp_multiprog__detach(multiprog) == 0 ? ["\(linkName): xdp \(name) (id \(id))"] : []
        }
        // A libxdp dispatcher: take out only our component programs.
        var removed: [String] = []
        var ours: [OpaquePointer] = []
        var program = xdp_multiprog__next_prog(nil, multiprog)
        while let current = program {
            if String(cString: xdp_program__name(current)).hasPrefix(bridgetracePrefix) { ours.append(current) }
            program = xdp_multiprog__next_prog(current, multiprog)
        }
        for component in ours {
            let name = String(cString: xdp_program__name(component))
            if xdp_program__detach(component, ifindex, mode, 0) == 0 {
                removed.append("\(linkName): xdp \(name) (id \(xdp_program__id(component)))")
            }
        }
        return removed
    }

    public static func programName(id: UInt32) -> String? {
        BPFProgramInfo(id: id)?.name
    }
}
