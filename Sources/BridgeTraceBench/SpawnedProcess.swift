import BridgeTraceCore
import CBridgeTraceShim
import Foundation

/// A helper program (trafgen, tcpdump, a DUT's daemons) run for the length of a trial or
/// a test bed: in a process group of its own, so that a stop reaches whatever it forked;
/// stdout discarded, stderr kept for messages and statistics. Spawned with posix_spawn rather than Foundation's
/// Process, whose run() crashes now and then here, and so that the pid is the group's id.
final class SpawnedProcess {
    let pid: pid_t
    private let logPath: String
    private var status: Int32?
    private var finalLog: String?

    /// `arguments[0]` is looked up in /usr/sbin, /sbin, /usr/bin, /bin. `environment`
    /// adds to (or overrides) this process's environment.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        guard let name = arguments.first,
              let path = (name.contains("/") ? [name] : ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map { "\($0)/\(name)" })
                .first(where: FileManager.default.isExecutableFile) else {
            throw UserError("cannot find \(arguments.first ?? "") (needed by the benchmark)")
        }
        logPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("bt-bench-\((name as NSString).lastPathComponent)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log").path
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new group, nothing blocked, default handlers for what this process catches or
        // ignores (SIGINT, SIGPIPE...), so the child stops when told to.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([path] + arguments.dropFirst()).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc: Int32
        if environment.isEmpty {
            rc = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        } else {
            let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { envp.forEach { free($0) } }
            rc = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        }
        if rc != 0 { throw SystemError("cannot start", subject: name, code: rc) }
        pid = child
    }

    /// Whether it has exited (and is reaped).
    var exited: Bool {
        if status != nil { return true }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
        return status != nil
    }

    /// Pins every thread it has now to `cpu`, and with `realtime` makes it SCHED_FIFO at
    /// that priority; threads it starts later inherit both from the thread that starts
    /// them. Returns how many were pinned.
    @discardableResult
    func pinThreads(to cpu: Int32, realtime: Int32? = nil) throws -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var pinned = 0
        for task in tasks {
            guard let tid = Int32(task) else { continue }
            do {
                try ThreadPlacement.pin(tid, to: cpu, what: "thread \(tid) of process \(pid)")
                if let realtime { try ThreadPlacement.makeRealtime(tid, priority: realtime, what: "thread \(tid) of process \(pid)") }
            } catch let error as SystemError where error.errno == .noSuchProcess {
                continue  // the thread ended between the listing and the call
            }
            pinned += 1
        }
        return pinned
    }

    /// What it has written to stderr so far.
    var log: String {
        finalLog ?? ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }

    /// Sends `signal` to the group, waits up to 5 s, then kills what is left. Idempotent;
    /// returns stderr.
    @discardableResult
    func stop(signal: Int32 = SIGINT) -> String {
        if let finalLog { return finalLog }
        if !exited {
            kill(-pid, signal)
            let deadline = Date().addingTimeInterval(5)
            while !exited && Date() < deadline { usleep(10_000) }
            if !exited {
                kill(-pid, SIGKILL)
                var raw: Int32 = 0
                _ = waitpid(pid, &raw, 0)
                status = raw
            }
        }
        // Forked workers are not our children: make sure the group is gone as well.
        for _ in 0..<100 where kill(-pid, 0) == 0 {
            kill(-pid, SIGKILL)
            usleep(10_000)
        }
        let text = log.trimmingCharacters(in: .whitespacesAndNewlines)
        finalLog = text
        try? FileManager.default.removeItem(atPath: logPath)
        return text
    }

    deinit { stop() }
}
