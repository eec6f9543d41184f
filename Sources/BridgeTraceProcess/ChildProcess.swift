import BridgeTraceCore
import Foundation

/// One child process, the only way bridgetrace and its tests start one: `CommandRunner`
/// (run to completion, output captured), the lab's QEMU guests and fault senders, the
/// bench's trafgen, tcpdump, OVS daemons and switch, the demo's pings and diagnoses.
///
/// posix_spawn underneath, not Foundation's `Process`: `Process.run()` crashed (a bad read in
/// its spawn path) about once per full test run. Not swift-subprocess (1.0) either, though
/// it does the same underneath: its API is async only and a child lives within one `run`
/// closure, while our callers are synchronous (the lab builder, bench trials on pinned
/// threads, `deinit`s) and keep children across calls and processes (a QEMU guest outlives
/// `lab up`; its pid file is how `lab down` finds it).
///
/// What every child gets, whatever the caller has set: stdin from /dev/null, no signal
/// blocked and default handlers for the signals we catch or ignore (tests have hung on a
/// child that inherited SIGTERM blocked from the test runner), and with `ownGroup` a
/// process group of its own (pid = group id), so that a stop reaches whatever it forks
/// (trafgen's worker, OVS's monitor).
public final class ChildProcess: @unchecked Sendable {
    /// Where stdout or stderr goes.
    public enum Output: Sendable, Equatable {
        case discard
        /// Ours: the terminal, for a child whose output the user reads (the demo's diagnoses).
        case inherit
        /// Appended to this file (created when missing), so stdout and stderr can share one.
        case file(String)
        /// A temporary file of the child's own, read back with `log` and removed by `stop`
        /// (the text is kept). Stdout and stderr both given it share one file.
        case log
        /// An open descriptor of ours, dup'ed onto the child's (a pipe for `CommandRunner`).
        case descriptor(Int32)
    }

    public let pid: pid_t
    /// As given, the first looked up with `Executable.find`.
    public let arguments: [String]
    public let ownGroup: Bool
    private var rawStatus: Int32?
    private var detached = false
    private let logPath: String?
    private var finalLog: String?

    /// Starts `arguments`. `environment` adds to (or overrides) this process's environment.
    /// Throws a UserError when the program is not found or cannot be started.
    public init(
        _ arguments: [String], environment: [String: String] = [:],
        stdout: Output = .discard, stderr: Output = .discard, ownGroup: Bool = false
    ) throws {
        guard let name = arguments.first else { throw UserError("internal error: empty command") }
        guard let executable = Executable.find(name) else {
            throw UserError("cannot find '\(name)' in PATH, /usr/sbin or /sbin; install it")
        }
        self.arguments = arguments
        self.ownGroup = ownGroup
        logPath = stdout == .log || stderr == .log
            ? FileManager.default.temporaryDirectory.appendingPathComponent(
                "bt-\((name as NSString).lastPathComponent)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log").path
            : nil

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (fd, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch output {
            case .discard: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .inherit: break
            case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .log: posix_spawn_file_actions_addopen(&actions, fd, logPath!, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, fd)
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = ([executable] + arguments.dropFirst()).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SystemError("cannot start", subject: executable, code: rc) }
        pid = child
    }

    /// The exit status once it has exited (reaping it), else nil. Killed by signal N reads
    /// as 128 + N, as in a shell.
    public var exitStatus: Int32? {
        if rawStatus == nil {
            var raw: Int32 = 0
            let rc = waitpid(pid, &raw, WNOHANG)
            if rc == pid {
                rawStatus = raw
            } else if rc < 0 && errno == ECHILD {
                rawStatus = -1  // reaped elsewhere (`terminate`): gone, status unknown
            }
        }
        return rawStatus.map(Self.shellStatus)
    }

    public var hasExited: Bool { exitStatus != nil }

    /// Waits for the exit; returns its status.
    @discardableResult
    public func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var raw: Int32 = 0
        while true {
            let rc = waitpid(pid, &raw, 0)
            if rc == pid { break }
            if rc < 0 && errno != EINTR { raw = -1; break }
        }
        rawStatus = raw
        return Self.shellStatus(raw)
    }

    /// What went to `.log` so far (all of it after `stop`); "" without one.
    public var log: String {
        if let finalLog { return finalLog }
        guard let logPath else { return "" }
        return (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Sends `signal` (to the group with `ownGroup`), waits up to `grace` seconds, then
    /// SIGKILLs what is left. Idempotent; returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, grace: Double = 5) -> Int32 {
        if !hasExited {
            Self.terminate(pid: pid, group: ownGroup, signal: signal, grace: grace, reap: false) { !self.hasExited }
        }
        if ownGroup {
            // Forked workers are not our children: make sure the group is gone as well.
            for _ in 0..<100 where kill(-pid, 0) == 0 {
                kill(-pid, SIGKILL)
                usleep(10_000)
            }
        }
        let status = wait()
        if let logPath, finalLog == nil {
            finalLog = log.trimmingCharacters(in: .whitespacesAndNewlines)
            try? FileManager.default.removeItem(atPath: logPath)
        }
        return status
    }

    /// Leaves it running when this object goes (a guest or sender that outlives the
    /// command that started it, found again through its pid file).
    public func detach() { detached = true }

    deinit {
        if !detached { stop() }
    }

    /// The one teardown: `signal` to `pid` (its group with `group`), up to `grace` seconds
    /// for `isRunning` to turn false, then SIGKILL and as long again. For processes known
    /// only by pid (a pid file) `isRunning` should check the pid is still theirs (its
    /// command line, not a zombie), so a recycled pid is never signalled. With `reap` it
    /// reaps `pid` when that is our child (a guest started by this process). Returns
    /// whether it is gone.
    @discardableResult
    public static func terminate(
        pid: pid_t, group: Bool = false, signal: Int32 = SIGTERM, grace: Double = 3, reap: Bool = true,
        isRunning: () -> Bool
    ) -> Bool {
        defer {
            var raw: Int32 = 0
            if reap { _ = waitpid(pid, &raw, WNOHANG) }
        }
        for step in [signal, SIGKILL] {
            guard isRunning() else { return true }
            kill(group ? -pid : pid, step)
            let deadline = Date().addingTimeInterval(grace)
            while isRunning(), Date() < deadline { usleep(10_000) }
        }
        return !isRunning()
    }

    /// Whether `pid` (or one thread of it) exists and is not a zombie, from /proc.
    public static func isLive(_ pid: pid_t, thread: pid_t? = nil) -> Bool {
        let path = thread.map { "/proc/\(pid)/task/\($0)/stat" } ?? "/proc/\(pid)/stat"
        guard pid > 0, let stat = try? String(contentsOfFile: path, encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    private static func shellStatus(_ raw: Int32) -> Int32 {
        if raw < 0 { return -1 }
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }
}
