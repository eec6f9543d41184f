import BridgeTraceCore
import CBridgeTraceProcess
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
        let output = try Self.capture(arguments)
        return CommandResult(arguments: arguments, status: output.status,
                             stdout: String(decoding: output.stdout, as: UTF8.self),
                             stderr: String(decoding: output.stderr, as: UTF8.self))
    }

    /// Runs `arguments` with stdout and stderr each on a pipe, read together with poll (so
    /// a child that fills one pipe never blocks), until it exits.
    public static func capture(_ arguments: [String]) throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        let outRC = bt_pipe_cloexec(&outPipe)
        guard outRC == 0 else { throw SystemError("cannot create a pipe", code: outRC) }
        let errRC = bt_pipe_cloexec(&errPipe)
        guard errRC == 0 else {
            outPipe.forEach { close($0) }
            throw SystemError("cannot create a pipe", code: errRC)
        }
        let child: ChildProcess
        do {
            child = try ChildProcess(arguments, stdout: .descriptor(outPipe[1]), stderr: .descriptor(errPipe[1]))
        } catch {
            outPipe.forEach { close($0) }
            errPipe.forEach { close($0) }
            throw error
        }
        close(outPipe[1])
        close(errPipe[1])
        let (stdout, stderr) = readBoth(outPipe[0], errPipe[0])
        return (child.wait(), stdout, stderr)
    }

    /// Reads two pipes to their ends, then closes them.
    private static func readBoth(_ out: Int32, _ err: Int32) -> ([UInt8], [UInt8]) {
        var buffers: [[UInt8]] = [[], []]
        var fds = [pollfd(fd: out, events: Int16(POLLIN), revents: 0), pollfd(fd: err, events: Int16(POLLIN), revents: 0)]
        var chunk = [UInt8](repeating: 0, count: 65536)
        var open = 2
        while open > 0 {
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    buffers[index].append(contentsOf: chunk[0..<count])
                } else if count == 0 || errno != EINTR {
                    close(fds[index].fd)
                    fds[index].fd = -1
                    open -= 1
                }
            }
        }
        return (buffers[0], buffers[1])
    }
}
