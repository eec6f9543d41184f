import BridgeTraceCore
import Foundation

/// What a finished command left behind.
public struct CommandResult: Sendable, Equatable {
    public var arguments: [String]
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public var succeeded: Bool { status == 0 }

    /// The command as an operator would type it, for messages.
    public var commandLine: String { arguments.joined(separator: " ") }
}

/// Runs one external command (`ip`, `sysctl`, ...) to completion and captures its output.
/// The lab is built with iproute2 because that is what an operator would type to rebuild it
/// by hand; the tracer itself reads bridge state through netlink.
public struct CommandRunner: Sendable {
    public init() {}

    /// Runs `arguments` (the first is looked up in PATH, then /usr/sbin and /sbin) and returns
    /// stdout. A non-zero exit throws a UserError quoting the command and its stderr.
    @discardableResult
    public func run(_ arguments: [String]) throws -> String {
        let result = try self.result(arguments)
        guard result.succeeded else {
            let detail = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw UserError(
                "`\(result.commandLine)` failed with status \(result.status)"
                    + (detail.isEmpty ? "" : ": \(detail)"))
        }
        return result.stdout
    }

    /// Runs `arguments` and returns the result whatever the exit status. Throws only when the
    /// command cannot be started at all.
    public func result(_ arguments: [String]) throws -> CommandResult {
        guard let name = arguments.first else { throw UserError("internal error: empty command") }
        guard let executable = Self.executablePath(name) else {
            throw UserError("cannot find '\(name)' in PATH, /usr/sbin or /sbin; install it (iproute2, procps)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.standardInput = FileHandle.nullDevice
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        // waitUntilExit() polls its run loop every 50 ms, which made building a lab of
        // ~100 commands take seconds; the termination handler fires as soon as the child exits.
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw UserError("cannot run `\(arguments.joined(separator: " "))`: \(error.localizedDescription)")
        }
        // Drain stderr on another thread while reading stdout here: a child that fills one
        // pipe while we block on the other would otherwise never exit.
        let stderrData = PipeDrain(stderrPipe.fileHandleForReading)
        let stdoutData = stdoutPipe.fileHandleForReading.readDataToEndOfFile()
        exited.wait()
        return CommandResult(
            arguments: arguments,
            status: process.terminationStatus,
            stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData.wait(), as: UTF8.self))
    }

    /// Absolute path of `name`, or nil. Names with a slash are taken as paths.
    static func executablePath(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        // ip and sysctl live in sbin, which a non-login root shell may not have in PATH.
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return directories.lazy.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Reads a pipe to its end on a background thread.
private final class PipeDrain: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()  // written once by the reader, read after `done`

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
