import BridgeTraceCore
import Foundation

/// `bench --hold-file PATH`: lets a script attach its own tool (`bridgetrace trace` writing
/// a file, say) to the DUT for exactly the trials, and read the ports' counters while
/// nothing moves. Before the first trial (the path checks done) and after the last, the
/// bench writes PATH, one JSON object: {"state": "ready"|"done", "dut", "netns", "bridge",
/// "ports"}, then waits until the script deletes it.
struct BenchHold {
    var path: String
    var shouldStop: () -> Bool

    func handOver(_ bed: TestBed, state: String) throws {
        let wiring = bed.wiring
        let object: [String: Any] = [
            "state": state, "dut": bed.dut.name,
            "netns": wiring.bridge?.namespace ?? wiring.ports.first?.namespace ?? NSNull(),
            "bridge": wiring.bridge?.interface ?? NSNull(),
            "ports": wiring.ports.map(\.interface),
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        // Written whole under another name, then renamed: a script never reads half a file.
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: data + Data("\n".utf8)) else {
            throw UserError("cannot write the hold file \(path): check the directory exists and is writable")
        }
        guard rename(partial, path) == 0 else { throw SystemError.fromErrno("cannot rename the hold file to", subject: path) }
        while FileManager.default.fileExists(atPath: path) {
            if shouldStop() {
                try? FileManager.default.removeItem(atPath: path)
                throw BenchInterrupted()
            }
            usleep(10_000)
        }
    }
}
