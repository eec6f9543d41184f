import BridgeTraceKernel
import CBridgeTraceBuild
import Foundation

/// What an operator asks first about a misbehaving host: `bridgetrace --version`, the labels
/// of bridgetrace_build_info, doctor's header.
public struct BuildInfo: Sendable, Equatable {
    /// The bridgetrace release; bump with each tag. scripts/package names the .deb after it.
    public static let version = "0.1.0"

    /// The commit scripts/package built from; "" for a build that did not say (`swift build`).
    public static var gitCommit: String { String(cString: bt_build_git_commit()) }

    public var version: String
    public var commit: String
    public var libbpf: String
    public var libxdp: String
    public var kernel: String

    public init(version: String, commit: String = "", libbpf: String, libxdp: String, kernel: String) {
        self.version = version
        self.commit = commit
        self.libbpf = libbpf
        self.libxdp = libxdp
        self.kernel = kernel
    }

    /// The libraries this process loaded and the running kernel.
    public static func current() -> BuildInfo {
        let kernel = KernelRelease.current
        let libbpf = loadedLibraryVersion(of: "libbpf")
            ?? LibBPFVersion.current
        return BuildInfo(version: version, commit: gitCommit, libbpf: libbpf,
                         libxdp: loadedLibraryVersion(of: "libxdp") ?? "unknown", kernel: kernel)
    }

    /// `bridgetrace --version`: the release, the commit, and the libbpf and libxdp this
    /// process loaded (Debian's, whichever the host has).
    public var versionText: String {
        """
        bridgetrace \(version)
        commit \(commit.isEmpty ? "unknown (not built by scripts/package)" : commit)
        libbpf \(libbpf)
        libxdp \(libxdp)
        """
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
