import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Throughput and latency of a bridge, RFC 2544 style.")
    func run() throws {}
}
