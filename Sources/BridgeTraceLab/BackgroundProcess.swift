import Foundation

/// A helper process for as long as its owner needs it (traffic for the demo and tests,
/// probes): output discarded, terminated by `stop()` or when released.
public final class BackgroundProcess {
    private let process = Process()

    public init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// `ip netns exec NS ARGS...`
    public static func inNetns(_ namespace: String, _ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess(["ip", "netns", "exec", namespace] + arguments)
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
