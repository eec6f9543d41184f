import BridgeTraceProcess
import Foundation

/// A real Prometheus server (Debian's `prometheus`), started for one test on loopback with
/// a temporary TSDB, scraping one target every second; stopped (and its directory removed)
/// by `stop()` or when released, on every path.
final class PrometheusServer {
    let port: Int
    let directory: String
    private var process: ChildProcess?

    init(target: String, job: String = "bridgetrace") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bt-prom-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: \(job)
                static_configs:
                  - targets: ['\(target)']
            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        port = try freeLoopbackPort()
        FileManager.default.createFile(atPath: directory + "/log", contents: nil)
        let process = try ChildProcess(
            ["/usr/bin/prometheus",
             "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
             "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"],
            stdout: .file(directory + "/log"), stderr: .file(directory + "/log"))
        self.process = process
        let deadline = Date().addingTimeInterval(TestTime.scaled(30))
        while (try? run(["curl", "-sf", "http://127.0.0.1:\(port)/-/ready"])) == nil {
            if process.hasExited || Date() > deadline {
                let log = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
                stop()
                throw BackgroundFailure("prometheus did not become ready: \(log)")
            }
            usleep(200_000)
        }
    }

    struct Sample: CustomStringConvertible {
        var labels: [String: String]
        var value: Double
        var description: String { "\(labels) \(value)" }
    }

    /// An instant query through the HTTP API (/api/v1/query); a vector result.
    func query(_ expression: String) throws -> [Sample] {
        let output = try run(["curl", "-sfG", "--data-urlencode", "query=\(expression)", "http://127.0.0.1:\(port)/api/v1/query"])
        guard let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              json["status"] as? String == "success", let data = json["data"] as? [String: Any],
              let result = data["result"] as? [[String: Any]] else {
            throw BackgroundFailure("prometheus answered \(output) to \(expression)")
        }
        return result.map { entry in
            let value = (entry["value"] as? [Any])?.last as? String ?? "nan"
            return Sample(labels: entry["metric"] as? [String: String] ?? [:], value: Double(value) ?? .nan)
        }
    }

    /// Queries until `done` holds (scrapes are 1 s apart); returns the last answer either way.
    @discardableResult
    func wait(for expression: String, timeout: Double = 20, until done: ([Sample]) -> Bool) throws -> [Sample] {
        let deadline = Date().addingTimeInterval(TestTime.scaled(timeout))
        var samples = try query(expression)
        while !done(samples) && Date() < deadline {
            usleep(250_000)
            samples = try query(expression)
        }
        return samples
    }

    func stop() {
        process?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BackgroundFailure("socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw BackgroundFailure("bind: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
