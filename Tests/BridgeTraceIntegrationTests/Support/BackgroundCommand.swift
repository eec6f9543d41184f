import Foundation

/// A helper process for the length of a test step (pings while `diagnose` watches);
/// output discarded, terminated on `stop()` or when released.
final class BackgroundCommand {
    private let process = Process()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// `ip netns exec NS ARGS...`
    static func inNetns(_ namespace: String, _ arguments: [String]) throws -> BackgroundCommand {
        try BackgroundCommand(["ip", "netns", "exec", namespace] + arguments)
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
