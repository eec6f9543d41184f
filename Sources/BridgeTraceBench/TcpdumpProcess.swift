import BridgeTraceCore
import Foundation

/// `tcpdump -i PORT -w /dev/null` inside the DUT's namespace, started and waited for
/// until it listens, stopped with SIGINT.
final class TcpdumpProcess {
    private let process = Process()
    private let port: Endpoint
    private let errorLog: URL

    init(port: Endpoint) throws {
        self.port = port
        guard let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first(where: FileManager.default.isExecutableFile) else {
            throw UserError("--with-tracer tcpdump needs tcpdump: apt-get install tcpdump")
        }
        errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("bt-bench-tcpdump-\(getpid())-\(port.interface).log")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") {
            process.executableURL = URL(fileURLWithPath: "/sbin/ip")
        }
        // ip netns exec execs tcpdump in place: the pid is tcpdump's, and so is the signal.
        process.arguments = ["netns", "exec", port.namespace, tcpdump, "-i", port.interface, "-n", "-w", "/dev/null"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errorLog)
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !log.contains("listening on") {
            if !process.isRunning || Date() > deadline {
                let text = log
                _ = stop()
                throw UserError("tcpdump on \(port.interface) did not start: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            usleep(10_000)
        }
    }

    private var log: String { (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "" }

    /// Stops it; returns its closing statistics ("N packets captured ... dropped by kernel").
    func stop() -> String {
        if process.isRunning {
            kill(process.processIdentifier, SIGINT)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let statistics = log.split(separator: "\n").filter { $0.contains("packets") }.joined(separator: ", ")
        try? FileManager.default.removeItem(at: errorLog)
        return "\(port.interface): \(statistics)"
    }

    deinit { _ = stop() }
}
