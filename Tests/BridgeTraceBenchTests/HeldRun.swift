import BridgeTraceCore
import BridgeTraceLab
import BridgeTraceProcess
import Foundation
import Testing

@testable import BridgeTraceBench

/// A `--hold-file` run, driven as a script would drive it: the bench stops before its
/// first trial and after its last, with the DUT's namespace and bridge in the file, until
/// the file is deleted. Checks the handovers; returns the one trial in between.
enum HeldRun {
    static func run(generator: GeneratorChoice) throws -> TrialResult {
        // A path of its own: suites run in parallel, and two runs on one file hand each
        // other's DUTs over.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bt-hold-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var plan = BenchPlan(duts: [.linuxBridge(netfilter: false)], frameSizes: [64], duration: 1, trials: 1)
        plan.ratePPS = 50_000
        plan.count = 5_000
        plan.pacing = .sleep
        plan.holdFile = path
        plan.generator = generator
        let fixedPlan = plan
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<BenchReport, Error>?
        Thread {
            outcome = Result { try BenchRunner(plan: fixedPlan).run() }
            finished.signal()
        }.start()
        func awaitState(_ state: String) throws -> [String: Any] {
            for _ in 0..<3000 {
                if let data = FileManager.default.contents(atPath: path),
                   let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], object["state"] as? String == state {
                    return object
                }
                // A bench that failed writes nothing more: say why, not only that it did not.
                if finished.wait(timeout: .now()) == .success {
                    finished.signal()
                    if case .failure(let error)? = outcome { throw error }
                }
                usleep(10_000)
            }
            throw UserError("the bench never wrote state \(state)")
        }
        let ready = try awaitState("ready")
        #expect(ready["bridge"] as? String == "br0")
        let netns = try #require(ready["netns"] as? String)
        #expect(netns.hasSuffix("-dut"))
        #expect(ready["ports"] as? [String] == ["p-gen", "p-sink"])
        // Held, with the bridge there to attach to.
        let bridge = try CommandRunner().run(["ip", "-n", netns, "link", "show", "br0"])
        #expect(bridge.contains("br0"))
        try FileManager.default.removeItem(atPath: path)
        let done = try awaitState("done")
        #expect(done["netns"] as? String == netns)
        try FileManager.default.removeItem(atPath: path)
        finished.wait()
        let report = try #require(try outcome?.get())
        return try #require(report.duts.first?.measurements.first?.trials.first)
    }
}
