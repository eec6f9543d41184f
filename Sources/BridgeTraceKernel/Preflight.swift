import BridgeTraceCore
import CBridgeTraceShim
import Foundation

/// Checks made before any program is loaded, so that a missing privilege or kernel
/// feature gives one clear line instead of a libbpf error halfway through attaching.
public enum Preflight {
    static let capNetAdmin = 12
    static let capSysAdmin = 21
    static let capPerfmon = 38
    static let capBPF = 39
    static let bpffsMagic: UInt = 0xCAFE_4A11

    /// Throws naming every missing capability: CAP_BPF (load programs and maps),
    /// CAP_NET_ADMIN (attach XDP and tc), CAP_PERFMON (the kfree_skb tracepoint, reading
    /// kernel memory in the programs) and, to enter other network namespaces, CAP_SYS_ADMIN.
    /// CAP_SYS_ADMIN also stands in for CAP_BPF and CAP_PERFMON, as the kernel lets it.
    public static func requirePrivileges(enteringNamespaces: Bool = false) throws {
        let missing = missingCapabilities(effective: effectiveCapabilities(), enteringNamespaces: enteringNamespaces)
        if missing.isEmpty { return }
        let names = missing.map(\.name).joined(separator: ", ")
        let reasons = missing.count == 1 ? "needed \(missing[0].why)" : missing.map { "\($0.name) \($0.why)" }.joined(separator: "; ")
        throw UserError("missing capabilit\(missing.count == 1 ? "y" : "ies") \(names) (\(reasons)): run as root, "
            + "or grant \(missing.count == 1 ? "it" : "them") (systemd: AmbientCapabilities=, see contrib/bridgetrace-exporter.service)")
    }

    /// The capabilities of `requirePrivileges` that `effective` (a CapEff mask) lacks. Pure.
    public static func missingCapabilities(effective: UInt64, enteringNamespaces: Bool) -> [(name: String, why: String)] {
        func has(_ cap: Int) -> Bool { effective & (1 << UInt64(cap)) != 0 }
        var missing: [(name: String, why: String)] = []
        if !(has(capBPF) || has(capSysAdmin)) { missing.append(("CAP_BPF", "to load BPF programs")) }
        if !has(capNetAdmin) { missing.append(("CAP_NET_ADMIN", "to attach them to interfaces")) }
        if !(has(capPerfmon) || has(capSysAdmin)) { missing.append(("CAP_PERFMON", "to trace kernel drops")) }
        if enteringNamespaces && !has(capSysAdmin) { missing.append(("CAP_SYS_ADMIN", "to enter other network namespaces")) }
        return missing
    }

    /// Whether this process holds CAP_SYS_ADMIN (root does).
    public static var hasSysAdmin: Bool { effectiveCapabilities() & (1 << UInt64(capSysAdmin)) != 0 }

    /// Where rx can be counted with these privileges. libxdp 1.3 attaches XDP through its
    /// dispatcher, which reads program BTF with BPF_BTF_GET_FD_BY_ID: that needs
    /// CAP_SYS_ADMIN, and without it libxdp crashes instead of failing. So a run without
    /// CAP_SYS_ADMIN counts rx at tc ingress (the same frames, as the counters tests show),
    /// and refuses an explicit `--rx-hook xdp` with the reason.
    public static func rxHook(_ policy: RxHookPolicy, hasSysAdmin: Bool = Preflight.hasSysAdmin) throws -> RxHookPolicy {
        if hasSysAdmin { return policy }
        switch policy {
        case .auto, .tc: return .tc
        case .xdp:
            throw UserError("--rx-hook xdp needs CAP_SYS_ADMIN (libxdp reads program BTF with BPF_BTF_GET_FD_BY_ID); "
                + "without it use --rx-hook tc or auto, which count the same frames at tc ingress")
        }
    }

    /// Whether /proc/kallsyms shows addresses to this process (CAP_SYSLOG, or
    /// kernel.kptr_restrict and perf_event_paranoid that allow it): without them drop
    /// locations can only be shown as addresses.
    public static func kernelSymbolsReadable(path: String = "/proc/kallsyms") -> Bool {
        guard let file = fopen(path, "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 128)
        guard fgets(&line, Int32(line.count), file) != nil else { return false }
        let address = String(cString: line).prefix { $0 != " " }
        return UInt64(address, radix: 16).map { $0 != 0 } ?? false
    }

    /// The demo builds namespaces and attaches programs: root, in practice.
    public static func requirePrivilegesForDemo() throws {
        if geteuid() != 0 {
            throw UserError("the demo builds network namespaces and attaches programs: run it as root (sudo bridgetrace demo)")
        }
    }

    public static func requireBTF(path: String = "/sys/kernel/btf/vmlinux") throws {
        if !FileManager.default.isReadableFile(atPath: path) {
            throw UserError("this kernel exposes no BTF (\(path) is missing): bridgetrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y")
        }
    }

    public static func requireBPFFS(path: String = "/sys/fs/bpf") throws {
        var magic: UInt = 0
        if bt_fs_magic(path, &magic) != 0 || magic != bpffsMagic {
            throw UserError("no BPF filesystem at \(path) (libxdp needs it): mount it with `mount -t bpf bpf \(path)`")
        }
    }

    /// All three, in the order a person would fix them.
    public static func requireAll() throws {
        try requirePrivileges()
        try requireBTF()
        try requireBPFFS()
    }

    /// CapEff from /proc/self/status: no libcap needed.
    public static func effectiveCapabilities() -> UInt64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces)
            return UInt64(hex, radix: 16) ?? 0
        }
        return 0
    }
}
