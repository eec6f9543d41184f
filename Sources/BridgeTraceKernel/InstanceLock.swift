import BridgeTraceCore
import Foundation

/// One bridgetrace per network namespace: its hooks use fixed names, tc handles and the
/// single XDP slot, so a second run would fight the first. The lock is an flock on
/// <runtime directory>/netns-<inode>.lock; the kernel drops it when the holder dies, even by
/// SIGKILL, which is what lets the next run tell a stale program from a live one.
///
/// The runtime directory is /run/bridgetrace for every run, root or not, so that all of
/// them exclude each other. A service run as a non-root user gets it writable from systemd
/// (`RuntimeDirectory=bridgetrace`, which sets $RUNTIME_DIRECTORY); lock files are made
/// readable by all and locked read-only when they cannot be written, so a root run and a
/// service user share them.
public final class InstanceLock {
    public static let defaultDirectory = "/run/bridgetrace"

    /// $RUNTIME_DIRECTORY when systemd set it to a bridgetrace directory (the first entry
    /// of a list), else /run/bridgetrace.
    public static var directory: String {
        directory(environment: ProcessInfo.processInfo.environment)
    }

    static func directory(environment: [String: String]) -> String {
        guard let value = environment["RUNTIME_DIRECTORY"],
              let first = value.split(separator: ":").first.map(String.init),
              first.hasPrefix("/"), URL(fileURLWithPath: first).lastPathComponent == "bridgetrace" else {
            return defaultDirectory
        }
        return first
    }

    private var fd: Int32
    public let path: String

    /// Throws when another live bridgetrace holds the namespace.
    public init(netnsInode: UInt64, directory: String = InstanceLock.directory) throws {
        path = "\(directory)/netns-\(netnsInode).lock"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o755])
        let previousMask = umask(0o022)
        var descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        umask(previousMask)
        // Made by another user (root's `counters`, or the service user): flock needs no
        // write access, only the pid note does.
        if descriptor < 0 && errno == EACCES { descriptor = open(path, O_RDONLY | O_CLOEXEC) }
        if descriptor < 0 {
            let code = errno
            throw SystemError("cannot open lock file", subject: path, code: code, hint: Self.hint(directory: directory, errno: code))
        }
        fd = descriptor
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw UserError("another bridgetrace (pid \(holder.isEmpty ? "?" : holder)) is attached in this network namespace; stop it first, or wait for it to exit")
        }
        let pid = "\(getpid())\n"
        if ftruncate(fd, 0) == 0 { _ = pid.withCString { write(fd, $0, strlen($0)) } }
    }

    static func hint(directory: String, errno code: Int32) -> String {
        guard code == EACCES || code == EPERM || code == EROFS || code == ENOENT else { return "run as root" }
        return "this user cannot write \(directory): run as root, or give the user that directory "
            + "(systemd: RuntimeDirectory=bridgetrace, as in contrib/bridgetrace-exporter.service; "
            + "by hand: install -d -o USER \(directory))"
    }

    /// Gives the namespace up: the holder has detached. Idempotent; deinit does it too, but
    /// when an object dies is not ordered with the holder's other work (the bench attaches
    /// the next tracer as soon as the last one says it has stopped).
    public func release() {
        guard fd >= 0 else { return }
        _ = flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit {
        release()
    }
}
