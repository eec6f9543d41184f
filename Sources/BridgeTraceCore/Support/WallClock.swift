#if canImport(Glibc)
import Glibc
#endif

/// Kernel event times are CLOCK_MONOTONIC (bpf_ktime_get_ns); people read wall-clock time.
public enum WallClock {
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC, in nanoseconds: add it to a monotonic time to
    /// get nanoseconds since the epoch. Sample it once at start; it moves only when the
    /// wall clock is set.
    public static func monotonicOffsetNs() -> Int64 {
        var mono = timespec()
        var real = timespec()
        var monoAfter = timespec()
        clock_gettime(CLOCK_MONOTONIC, &mono)
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_MONOTONIC, &monoAfter)
        let monoNs = (nanoseconds(mono) + nanoseconds(monoAfter)) / 2
        return nanoseconds(real) - monoNs
    }

    /// CLOCK_MONOTONIC now, in nanoseconds: the kernel's event clock.
    public static func monotonicNowNs() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    private static func nanoseconds(_ time: timespec) -> Int64 {
        Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// `HH:MM:SS.uuuuuu` in local time, as tcpdump prints it.
    static func appendLocalTimeOfDay(_ wallNs: Int64, to out: inout ASCIIBuffer) {
        // Floor division, so times before the epoch stay in 0..<1e9 nanoseconds.
        var seconds = wallNs / 1_000_000_000
        var nanos = wallNs % 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds -= 1
        }
        var time = time_t(seconds)
        var parts = tm()
        if localtime_r(&time, &parts) == nil { parts = tm() }
        out.appendDecimal(UInt64(clamping: parts.tm_hour), width: 2)
        out.append(UInt8(ascii: ":"))
        out.appendDecimal(UInt64(clamping: parts.tm_min), width: 2)
        out.append(UInt8(ascii: ":"))
        out.appendDecimal(UInt64(clamping: parts.tm_sec), width: 2)
        out.append(UInt8(ascii: "."))
        out.appendDecimal(UInt64(nanos / 1000), width: 6)
    }
}
