import Foundation

/// Where a program is: the one lookup every spawn goes through.
public enum Executable {
    /// Absolute path of `name`, or nil. Names with a slash are taken as paths. PATH first,
    /// then the sbin and bin directories: ip, sysctl and ovs-vswitchd live in sbin, which a
    /// non-login root shell (or a test runner) may not have in PATH.
    public static func find(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return directories.lazy.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
