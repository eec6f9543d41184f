import BridgeTraceCore
import CBridgeTraceShim

/// CPU affinity and real-time priority for the threads a trial depends on: the
/// generator's, the DUT's NAPI kernel thread, a userspace DUT's threads. `what` names the
/// thread in errors ("NAPI thread 812 of veth1").
enum ThreadPlacement {
    /// Pins thread `tid` (0: the calling thread) to `cpu`.
    static func pin(_ tid: Int32, to cpu: Int32, what: String) throws {
        let rc = bt_bench_pin(tid, cpu)
        if rc != 0 { throw SystemError("cannot pin \(what) to CPU \(cpu)", code: rc) }
    }

    /// SCHED_FIFO at `priority` for thread `tid`.
    static func makeRealtime(_ tid: Int32, priority: Int32, what: String) throws {
        let rc = bt_bench_realtime(tid, priority)
        if rc != 0 { throw SystemError("cannot make \(what) SCHED_FIFO \(priority)", code: rc) }
    }
}
