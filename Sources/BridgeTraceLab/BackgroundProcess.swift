import BridgeTraceProcess

/// A helper process for as long as its owner needs it (traffic for the demo and tests,
/// probes): output discarded, stopped (SIGTERM, then SIGKILL) by `stop()` or when released.
public final class BackgroundProcess {
    private let child: ChildProcess

    /// `arguments[0]` is looked up with `Executable.find`.
    public init(_ arguments: [String]) throws {
        child = try ChildProcess(arguments)
    }

    /// `ip netns exec NS ARGS...`
    public static func inNetns(_ namespace: String, _ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess(["ip", "netns", "exec", namespace] + arguments)
    }

    public var pid: Int32 { child.pid }
    public var hasExited: Bool { child.hasExited }

    public func stop() { child.stop() }
}
