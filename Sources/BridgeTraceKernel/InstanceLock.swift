import BridgeTraceCore
import Foundation

/// One bridgetrace per network namespace: its hooks use fixed names, tc handles and the
/// single XDP slot, so a second run would fight the first. The lock is an flock on
/// /run/bridgetrace/netns-<inode>.lock; the kernel drops it when the holder dies, even by
/// SIGKILL, which is what lets the next run tell a stale program from a live one.
public final class InstanceLock {
    public static let directory = "/run/bridgetrace"
    private let fd: Int32
    public let path: String

    /// Throws when another live bridgetrace holds the namespace.
    public init(netnsInode: UInt64) throws {
        path = "\(InstanceLock.directory)/netns-\(netnsInode).lock"
        try? FileManager.default.createDirectory(atPath: InstanceLock.directory, withIntermediateDirectories: true)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 {
            throw UserError.kernel("cannot open lock file \(path)", errno: errno, hint: "run as root")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw UserError("another bridgetrace (pid \(holder)) is attached in this network namespace; stop it first, or wait for it to exit")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
