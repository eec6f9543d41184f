import CLibBPF

/// The libbpf this process runs on.
public enum LibBPFVersion {
    /// libbpf's own version string without its "v": "1.1.2".
    public static var current: String {
        String(String(cString: libbpf_version_string()).drop { $0 == "v" })
    }
}
