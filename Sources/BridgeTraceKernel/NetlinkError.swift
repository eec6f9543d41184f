import BridgeTraceCore

/// A netlink request the kernel or the socket layer refused: a SystemError of the
/// netlink layer, kept as its own type so that collectors can tell a failed dump (retry
/// next scrape) from other failures by type.
public struct NetlinkError: OperatorError, Equatable, Sendable {
    /// What was being asked, e.g. "RTM_GETLINK dump".
    public var operation: String
    public var errno: Errno

    /// `errno` either way round (the shim returns -errno).
    public init(operation: String, errno code: Int32) {
        self.operation = operation
        errno = Errno(rawValue: abs(code))
    }

    public var message: String {
        SystemError("netlink \(operation) failed", errno: errno).message
    }

    public var description: String { message }
}
