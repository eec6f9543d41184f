import BridgeTraceKernel
import Foundation

/// bridgetrace_build_info's labels: what an operator asks first about a misbehaving host.
public struct BuildInfo: Sendable, Equatable {
    /// The bridgetrace release; bump with each tag.
    public static let version = "0.1.0"

    public var version: String
    public var libbpf: String
    public var libxdp: String
    public var kernel: String

    public init(version: String, libbpf: String, libxdp: String, kernel: String) {
        self.version = version
        self.libbpf = libbpf
        self.libxdp = libxdp
        self.kernel = kernel
    }

    /// The libraries this process loaded and the running kernel.
    public static func current() -> BuildInfo {
        let kernel = KernelRelease.current
        let libbpf = loadedLibraryVersion(of: "libbpf")
            ?? LibBPFVersion.current
        return BuildInfo(version: version, libbpf: libbpf, libxdp: loadedLibraryVersion(of: "libxdp") ?? "unknown",
                         kernel: kernel)
    }

    /// libxdp has no version call: the version is the suffix of the shared object this
    /// process mapped ("libxdp.so.1.3.0" -> "1.3.0"), read from /proc/self/maps.
    static func loadedLibraryVersion(of library: String) -> String? {
        // procfs files report size 0, so read them line by line, not in one go.
        guard let file = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let name = text.split(separator: "/").last, name.hasPrefix(library + ".so.") else { continue }
            return String(name.dropFirst(library.count + 4))
        }
        return nil
    }
}
