import Foundation

/// SIGINT, SIGTERM and SIGHUP ask a long-running command to stop; the command then
/// detaches everything and exits normally. SIGPIPE is ignored so that a closed pipe
/// shows up as a write error (and a clean stop), not as a silent death with programs
/// still attached.
enum StopSignals {
    nonisolated(unsafe) private static var requested: sig_atomic_t = 0

    static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in StopSignals.requested = 1 }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            sigaction(signal, &action, nil)
            sigaddset(&unblock, signal)
        }
        // A parent may hand us a blocked mask (Foundation's Process does): without this
        // the stop request would wait forever as a pending signal.
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        Foundation.signal(SIGPIPE, SIG_IGN)
    }

    static var stopRequested: Bool { requested != 0 }

    /// Sleeps until `deadline` or a stop signal, whichever comes first.
    static func sleep(until deadline: Date) {
        while !stopRequested {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return }
            usleep(useconds_t(min(remaining, 0.05) * 1_000_000))
        }
    }
}
