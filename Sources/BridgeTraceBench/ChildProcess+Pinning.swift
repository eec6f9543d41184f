import BridgeTraceCore
import BridgeTraceProcess
import Foundation

extension ChildProcess {
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
}
