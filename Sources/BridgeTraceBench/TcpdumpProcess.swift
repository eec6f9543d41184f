import BridgeTraceCore
import Foundation

/// `tcpdump -i PORT -w /dev/null` inside the DUT's namespace, started and waited for
/// until it listens, stopped with SIGINT.
final class TcpdumpProcess {
    private let process: SpawnedProcess
    private let port: Endpoint

    init(port: Endpoint) throws {
        self.port = port
        guard let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first(where: FileManager.default.isExecutableFile) else {
            throw UserError("--with-tracer tcpdump needs tcpdump: apt-get install tcpdump")
        }
        // ip netns exec execs tcpdump in place: the signal reaches tcpdump itself.
        process = try SpawnedProcess(["ip", "netns", "exec", port.namespace, tcpdump, "-i", port.interface, "-n", "-w", "/dev/null"])
        let deadline = Date().addingTimeInterval(10)
        while !process.log.contains("listening on") {
            if process.exited || Date() > deadline {
                let said = process.stop()
                throw UserError("tcpdump on \(port.interface) did not start: \(said)")
            }
            usleep(10_000)
        }
    }

    /// Stops it; returns its closing statistics ("N packets captured ... dropped by kernel").
    func stop() -> String {
        let statistics = process.stop().split(separator: "\n").filter { $0.contains("packets") }.joined(separator: ", ")
        return "\(port.interface): \(statistics)"
    }
}
