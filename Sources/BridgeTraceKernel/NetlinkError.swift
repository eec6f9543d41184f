import Glibc

/// A netlink request the kernel or the socket layer refused, with the errno it gave.
public struct NetlinkError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being asked, e.g. "RTM_GETLINK dump".
    public var operation: String
    /// Positive errno value.
    public var errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "netlink \(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
