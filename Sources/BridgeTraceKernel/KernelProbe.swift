import BridgeTraceCore
import CBridgeTraceShim
import CLibBPF
import Foundation

/// Probes what the running kernel offers, each feature by loading a tiny program or making
/// a tiny object (bt_probe.c), never by comparing version numbers: distributions backport
/// features, and some builds leave them out. Each probe runs once per process, when first
/// asked; commands ask for the features they use as they start.
public enum KernelProbe {
    /// Every feature, probed now (what `doctor` shows).
    public static func all() -> KernelSupport {
        KernelSupport(features: KernelFeature.allCases.map(status))
    }

    /// Whether the kernel offers `feature`; an unknown answer (no privilege to probe)
    /// counts as offered, so that the load itself says what is wrong.
    public static func offers(_ feature: KernelFeature) -> Bool {
        status(feature).state != .missing
    }

    public static func status(_ feature: KernelFeature) -> KernelFeatureStatus {
        cache.value(feature) {
            turnedOff.contains(feature.rawValue)
                ? KernelFeatureStatus(feature, .missing, detail: "turned off by BRIDGETRACE_WITHOUT")
                : probe(feature)
        }
    }

    /// `BRIDGETRACE_WITHOUT=tcx,xdp_adjust_meta`: features to treat as missing, so that
    /// every fallback can be run (and tested) on a kernel that has the feature.
    public static let turnedOff: Set<String> = Set(
        (ProcessInfo.processInfo.environment["BRIDGETRACE_WITHOUT"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) })

    private static let cache = ProbeCache()

    static let bpffsMagic: UInt = 0xCAFE_4A11
    static let tracefsMagic: UInt = 0x7472_6163

    private static func probe(_ feature: KernelFeature) -> KernelFeatureStatus {
        switch feature {
        case .capabilities:
            let missing = Preflight.missingCapabilities(effective: Preflight.effectiveCapabilities(), enteringNamespaces: false)
            return missing.isEmpty
                ? KernelFeatureStatus(feature, .available, detail: "effective")
                : KernelFeatureStatus(feature, .missing, detail: "missing " + missing.map(\.name).joined(separator: ", "))
        case .btf:
            return FileManager.default.isReadableFile(atPath: "/sys/kernel/btf/vmlinux")
                ? KernelFeatureStatus(feature, .available, detail: "/sys/kernel/btf/vmlinux")
                : KernelFeatureStatus(feature, .missing, detail: "/sys/kernel/btf/vmlinux is missing")
        case .bpffs: return mount(feature, path: "/sys/fs/bpf", magic: bpffsMagic)
        case .tracefs: return mount(feature, path: "/sys/kernel/tracing", magic: tracefsMagic)
        case .ringbuf: return run(feature, bt_probe_ringbuf)
        case .xdpLink:
            return fromCode(feature, bt_probe_vmlinux_type("bpf_xdp_link", Int32(BTF_KIND_STRUCT)),
                            yes: "struct bpf_xdp_link in the kernel's BTF", no: "no struct bpf_xdp_link in the kernel's BTF")
        case .tcx:
            return fromCode(feature, bt_tcx_supported(), yes: "BPF_TCX_INGRESS query answered",
                            no: "BPF_TCX_INGRESS refused (EINVAL)")
        case .xdpLoadBytes: return run(feature, bt_probe_xdp_load_bytes)
        case .tpBTFKfreeSkb: return run(feature, bt_probe_tp_btf_kfree_skb)
        case .kfreeSkbReasons:
            do {
                let names = try DropReasonNames.loadFromKernel()
                return KernelFeatureStatus(feature, .available, detail: "enum skb_drop_reason: \(names.names.count) reasons")
            } catch let error as any OperatorError {
                return KernelFeatureStatus(feature, .missing, detail: error.message)
            } catch {
                return KernelFeatureStatus(feature, .unknown, detail: "\(error)")
            }
        case .xdpAdjustMeta: return run(feature, bt_probe_xdp_adjust_meta)
        case .xdpLiveFrames: return run(feature, bt_probe_xdp_live_frames)
        case .afXDP: return run(feature, bt_probe_af_xdp)
        case .xdpFrags: return run(feature, bt_probe_xdp_frags)
        case .afXDPSG: return run(feature, bt_probe_af_xdp_sg)
        case .bpfStats: return run(feature, bt_probe_bpf_stats)
        case .xdpDispatcher: return run(feature, bt_probe_freplace)
        }
    }

    private static func run(_ feature: KernelFeature, _ probe: (UnsafeMutablePointer<CChar>?, Int) -> Int32) -> KernelFeatureStatus {
        var log = [CChar](repeating: 0, count: 512)
        let rc = probe(&log, log.count)
        let said = String(cString: log)
        switch rc {
        case 1: return KernelFeatureStatus(feature, .available, detail: "loaded")
        case 0: return KernelFeatureStatus(feature, .missing, detail: said.isEmpty ? "refused" : said)
        default:
            let why = SystemError.describe(Errno(rawValue: -rc))
            return KernelFeatureStatus(feature, .unknown, detail: "probe failed: \(why)" + (rc == -EPERM ? " (run as root)" : ""))
        }
    }

    private static func fromCode(_ feature: KernelFeature, _ rc: Int32, yes: String, no: String) -> KernelFeatureStatus {
        switch rc {
        case 1: KernelFeatureStatus(feature, .available, detail: yes)
        case 0: KernelFeatureStatus(feature, .missing, detail: no)
        default: KernelFeatureStatus(feature, .unknown, detail: "probe failed: " + SystemError.describe(Errno(rawValue: -rc)))
        }
    }

    private static func mount(_ feature: KernelFeature, path: String, magic: UInt) -> KernelFeatureStatus {
        var found: UInt = 0
        if bt_fs_magic(path, &found) == 0 && found == magic {
            return KernelFeatureStatus(feature, .available, detail: "mounted at \(path)")
        }
        return KernelFeatureStatus(feature, .missing, detail: "not mounted at \(path)")
    }
}

/// Probe results, once per feature per process.
private final class ProbeCache: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [KernelFeature: KernelFeatureStatus] = [:]

    func value(_ feature: KernelFeature, _ make: () -> KernelFeatureStatus) -> KernelFeatureStatus {
        lock.lock()
        defer { lock.unlock() }
        if let known = results[feature] { return known }
        let made = make()
        results[feature] = made
        return made
    }
}
