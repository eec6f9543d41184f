import BridgeTraceCore
import CBridgeTraceShim
import Foundation

/// `--pacing sleep` for every generator: a burst of `batchSize` frames each
/// `burstPeriodNs`, on an absolute schedule, the thread asleep in between. Each wake-up
/// sends what the schedule owes by then, so late wake-ups (~0.2 ms late here, now and
/// then several ms, even at real-time priority) do not lower the mean rate. A burst is at
/// most twice `batchSize` (and 256): a DUT on its own CPU gets twice the rate for a while,
/// never a train that overflows its 256-frame queue. Owed more than 50 ms of frames (the
/// generator could not run), the schedule starts afresh rather than send them all.
/// The generator says how to send one burst; its stamps carry the frames' times.
enum SleepPacing {
    /// Runs on the generator's own thread (the real-time priority ends with it).
    /// `sendBurst(n)` sends exactly n frames, now. Returns the bursts sent.
    static func run(_ job: GeneratorJob, deadline: UInt64, progress: GeneratorProgress,
                    sendBurst: (UInt32) throws -> Void) throws -> Int {
        guard let rate = job.ratePPS else { return 0 }
        let limit = job.count ?? UInt64.max
        let burst = UInt64(job.batchSize)
        let largest = min(2 * burst, 256)
        let restartFrames = max(largest, UInt64(rate * 0.05))
        try ThreadPlacement.makeRealtime(0, priority: NAPIThreads.sleepingGeneratorPriority, what: "the generator")
        var origin = bt_bench_now_ns()
        var scheduled: UInt64 = 0  // frames sent on the schedule that started at `origin`
        var sent: UInt64 = 0
        var bursts = 0
        while sent < limit {
            var now = bt_bench_now_ns()
            let wake = origin + UInt64(Double(scheduled + burst) * 1e9 / rate)
            if wake > now {
                if wake >= deadline { break }
                var time = timespec(tv_sec: Int(wake / 1_000_000_000), tv_nsec: Int(wake % 1_000_000_000))
                while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
                now = bt_bench_now_ns()
                if now >= deadline { break }
            }
            let due = UInt64(Double(now - origin) * rate / 1e9)
            var owed = due > scheduled ? due - scheduled : 0
            if owed > restartFrames {
                origin = now - UInt64(Double(burst) * 1e9 / rate)
                scheduled = 0
                owed = burst
            }
            let count = UInt32(min(max(owed, 1), largest, limit - sent))
            try sendBurst(count)
            bursts += 1
            sent += UInt64(count)
            scheduled += UInt64(count)
            if !progress(sent) { break }
        }
        return bursts
    }
}
