import BridgeTraceProcess
import Foundation

/// A long-running `bridgetrace` (counters, trace...) started the way pwru's end-to-end
/// tests do it: with --ready-file, waited for, then stopped with a signal. stdout and
/// stderr go to files, so a chatty run can never block on a full pipe.
final class BackgroundBridgetrace {
    private var process: ChildProcess!
    /// The ready file, stdout and stderr: removed with this object, so that runs of the
    /// suites leave no /tmp/bt-* behind.
    private let directory: String
    let readyFile: String
    private let stdoutPath: String
    private let stderrPath: String

    /// - Parameter environment: added to this process's environment (e.g.
    ///   BRIDGETRACE_LEGACY_ATTACH=1 for the clsact fallback).
    /// - Parameter prefix: a command that runs bridgetrace (nsenter, setpriv...), looked up
    ///   in PATH; the output directory is then writable by any user, for a dropped uid.
    init(_ arguments: [String], environment: [String: String] = [:], prefix: [String] = []) throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bt-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        readyFile = directory + "/ready"
        stdoutPath = directory + "/stdout"
        stderrPath = directory + "/stderr"
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        if !prefix.isEmpty {
            try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: directory)
        }
        process = try ChildProcess(prefix + [try BridgeTraceBinary.path()] + arguments + ["--ready-file", readyFile],
                                   environment: environment, stdout: .file(stdoutPath), stderr: .file(stderrPath))
    }

    deinit {
        process = nil  // ChildProcess stops a child that is still running
        try? FileManager.default.removeItem(atPath: directory)
    }

    var pid: pid_t { process.pid }
    var hasExited: Bool { process.hasExited }

    /// Waits for the ready file; throws with stderr if the process dies or time runs out.
    func waitUntilReady(timeout: Double = 20) throws {
        let timeout = TestTime.scaled(timeout)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: readyFile) { return }
            if let status = process.exitStatus {
                throw BackgroundFailure("bridgetrace exited with \(status) before ready: \(stderr)")
            }
            usleep(20_000)
        }
        throw BackgroundFailure("bridgetrace was not ready after \(timeout) s: \(stderr)")
    }

    /// Waits until the JSON lines printed so far satisfy `condition` (say, a counter has
    /// reached what was sent), instead of sleeping a fixed time that a loaded machine can
    /// overrun: softirq work runs late when the CPUs are busy. Returns false on timeout, so
    /// the caller's exact assertions then report what was read.
    @discardableResult
    func waitForOutput(timeout: Double = 10, _ condition: ([[String: Any]]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(TestTime.scaled(timeout))
        while Date() < deadline {
            // The last line may be half written: only complete lines count.
            let text = stdout
            let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n") ?? text.startIndex)])
            let lines = complete.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            if condition(lines) { return true }
            if process.hasExited { return false }
            usleep(50_000)
        }
        return false
    }

    /// Waits until stdout satisfies `condition` (a journey printed, a line count); throws
    /// naming `what`, with stdout and stderr, when it does not within `timeout` seconds.
    func waitForStdout(_ what: String, timeout: Double = 10, _ condition: (String) -> Bool) throws {
        do {
            try waitFor(what, timeout: timeout, { stdout }, until: { condition($0) || hasExited })
        } catch is WaitTimeout {
            throw BackgroundFailure("waited \(TestTime.scaled(timeout)) s for \(what); stdout: \(stdout.suffix(2000)); stderr: \(stderr.suffix(1000))")
        }
        if !condition(stdout) { throw BackgroundFailure("bridgetrace exited before \(what): \(stderr)") }
    }

    /// Sends `signal` and waits for the exit; returns the exit status (killed by signal N:
    /// 128 + N, as in a shell).
    @discardableResult
    func stop(signal: Int32 = SIGINT, timeout: Double = 20) throws -> Int32 {
        if !process.hasExited { kill(process.pid, signal) }
        let timeout = TestTime.scaled(timeout)
        let deadline = Date().addingTimeInterval(timeout)
        while !process.hasExited && Date() < deadline { usleep(20_000) }
        if !process.hasExited {
            process.stop(signal: SIGKILL, grace: 5)
            throw BackgroundFailure("bridgetrace ignored signal \(signal) for \(timeout) s")
        }
        return process.wait()
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// stdout's lines parsed as JSON objects (JSON-lines output).
    func jsonLines() throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw BackgroundFailure("not a JSON object: \(line)")
            }
            return object
        }
    }

}

struct BackgroundFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
