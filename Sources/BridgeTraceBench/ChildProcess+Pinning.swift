import BridgeTraceCore
import BridgeTraceProcess
import CBridgeTraceShim
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
            let rc = bt_bench_pin(tid, cpu)
            // A thread may end between the listing and the call.
            if rc == -ESRCH { continue }
            if rc != 0 { throw UserError("cannot pin thread \(tid) of process \(pid) to CPU \(cpu): \(describeErrno(rc))") }
            if let realtime {
                let rc = bt_bench_realtime(tid, realtime)
                if rc != 0 && rc != -ESRCH {
                    throw UserError("cannot make thread \(tid) of process \(pid) SCHED_FIFO \(realtime): \(describeErrno(rc))")
                }
            }
            pinned += 1
        }
        return pinned
    }
}
