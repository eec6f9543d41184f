import BridgeTraceCore
import BridgeTraceProcess
import Foundation

/// `tcpdump -i PORT -w /dev/null` inside the DUT's namespace, started and waited for
/// until it listens, stopped with SIGINT.
final class TcpdumpProcess {
    private let process: ChildProcess
    private let port: Endpoint

    init(port: Endpoint) throws {
        self.port = port
        guard let tcpdump = Executable.find("tcpdump") else {
            throw UserError("--with-tracer tcpdump needs tcpdump: apt-get install tcpdump")
        }
        // ip netns exec execs tcpdump in place: the signal reaches tcpdump itself.
        process = try ChildProcess(["ip", "netns", "exec", port.namespace, tcpdump, "-i", port.interface, "-n", "-w", "/dev/null"],
                                   stderr: .log, ownGroup: true)
        let deadline = Date().addingTimeInterval(10)
        while !process.log.contains("listening on") {
            if process.hasExited || Date() > deadline {
                process.stop(signal: SIGINT)
                let said = process.log
                throw UserError("tcpdump on \(port.interface) did not start: \(said)")
            }
            usleep(10_000)
        }
    }

    /// Stops it; returns its closing statistics ("N packets captured ... dropped by kernel").
    func stop() -> String {
        process.stop(signal: SIGINT)
        let statistics = process.log.split(separator: "\n").filter { $0.contains("packets") }.joined(separator: ", ")
        return "\(port.interface): \(statistics)"
    }
}
