import BridgeTraceCore
import CBridgeTraceShim
import Glibc

/// Named network namespaces, as `ip netns` creates them (bind mounts under /run/netns).
///
/// Namespace membership is per thread: `enter(named:)` moves only the calling thread.
/// Sockets, netlink dumps, BPF attachments by ifindex and anything else netns-bound must
/// then run on that same thread, and that thread must not be one that Swift concurrency,
/// Dispatch or the test runner shares with other work. Use a dedicated `Thread`.
public enum NetworkNamespace {
    /// Where `ip netns` keeps its bind mounts; /var/run is usually a link to /run, and
    /// both are searched for hosts where it is not.
    static let directories = ["/run/netns", "/var/run/netns"]

    /// Move the calling thread into the named network namespace.
    /// Throws `UserError` for an unknown name or missing privileges.
    public static func enter(named name: String) throws {
        // A name is one path component; anything else would escape the netns directory.
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
            throw UserError("invalid netns name \"\(name)\" (namespaces are named as in ip netns list)")
        }
        var fd: Int32 = -1
        var openErrno = ENOENT
        for directory in directories {
            fd = open("\(directory)/\(name)", O_RDONLY | O_CLOEXEC)
            if fd >= 0 { break }
            openErrno = errno
            if openErrno != ENOENT { break }
        }
        guard fd >= 0 else {
            if openErrno == ENOENT { throw notFound(name) }
            throw failure("cannot open netns", name, errno: openErrno)
        }
        defer { close(fd) }
        let rc = bt_nl_setns_net(fd)
        if rc == -EINVAL {
            throw UserError("\"\(name)\" is not a network namespace (see ip netns list)")
        }
        if rc < 0 { throw failure("cannot enter netns", name, errno: rc) }
    }

    /// The names `ip netns list` would show, sorted; empty when there are none.
    public static func available() -> [String] {
        var names = Set<String>()
        for directory in directories {
            guard let dir = opendir(directory) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                    String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { names.insert(name) }
            }
        }
        return names.sorted()
    }

    /// The inode of the calling thread's network namespace, which identifies it (as in
    /// `ls -i /proc/self/ns/net`); 0 if it cannot be read. thread-self, not self: after
    /// `enter(named:)` this thread and the process's main thread can differ.
    public static func currentInode() -> UInt64 {
        var info = stat()
        guard stat("/proc/thread-self/ns/net", &info) == 0 else { return 0 }
        return UInt64(info.st_ino)
    }

    private static func notFound(_ name: String) -> UserError {
        let names = available()
        let here = names.isEmpty
            ? "no named network namespaces exist"
            : "namespaces here: \(names.joined(separator: ", ")); see ip netns list"
        return UserError("netns \"\(name)\" not found (\(here))")
    }

    private static func failure(_ what: String, _ name: String, errno code: Int32) -> SystemError {
        let denied = abs(code) == EPERM || abs(code) == EACCES
        return SystemError(what, subject: "\"\(name)\"", code: code,
                           hint: denied ? "run as root: entering a network namespace needs CAP_SYS_ADMIN" : nil)
    }
}
