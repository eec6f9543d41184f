import BridgeTraceCore
import CBridgeTraceShim
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
        // posix_spawn directly, not Foundation's Process: Process.run() crashed (a bad read
        // in its spawn path) about once per full test run, and this runs hundreds of
        // commands per lab.
        let output = try SpawnedCommand.run(executable: executable, arguments: Array(arguments.dropFirst()))
        return CommandResult(arguments: arguments, status: output.status,
                             stdout: String(decoding: output.stdout, as: UTF8.self),
                             stderr: String(decoding: output.stderr, as: UTF8.self))
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

/// One child process: spawned with posix_spawn, stdin from /dev/null, stdout and stderr
/// read together with poll (so a child that fills one pipe never blocks), reaped with
/// waitpid. Killed by a signal N reads as status 128 + N, as in a shell.
enum SpawnedCommand {
    static func run(executable: String, arguments: [String]) throws -> (status: Int32, stdout: [UInt8], stderr: [UInt8]) {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        let outRC = bt_pipe_cloexec(&outPipe)
        guard outRC == 0 else { throw SystemError("cannot create a pipe", code: outRC) }
        let errRC = bt_pipe_cloexec(&errPipe)
        guard errRC == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw SystemError("cannot create a pipe", code: errRC)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // The child starts with default signal handling and nothing blocked, whatever the
        // caller (a CLI with handlers, a test runner) has set.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw SystemError("cannot run", subject: executable, code: rc)
        }
        let (stdout, stderr) = readBoth(outPipe[0], errPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout, stderr)
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
