import BridgeTraceCore
import CBridgeTraceShim
import Foundation

/// Checks made before any program is loaded, so that a missing privilege or kernel
/// feature gives one clear line instead of a libbpf error halfway through attaching.
public enum Preflight {
    static let capNetAdmin = 12
    static let capSysAdmin = 21
    static let capBPF = 39
    static let bpffsMagic: UInt = 0xCAFE_4A11

    public static func requirePrivileges() throws {
        let effective = effectiveCapabilities()
        let hasBPF = effective & (1 << capBPF) != 0 || effective & (1 << capSysAdmin) != 0
        let hasNetAdmin = effective & (1 << capNetAdmin) != 0
        if !(hasBPF && hasNetAdmin) {
            throw UserError("need CAP_BPF and CAP_NET_ADMIN to attach programs: run as root (sudo bridgetrace ...)")
        }
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
    static func effectiveCapabilities() -> UInt64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces)
            return UInt64(hex, radix: 16) ?? 0
        }
        return 0
    }
}
