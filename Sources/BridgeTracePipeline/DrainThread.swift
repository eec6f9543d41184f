import BridgeTraceKernel
import Foundation
import Synchronization

/// Drains a ring buffer on a thread of its own, so that a slow terminal or file never
/// stalls the main thread's netlink work, until stopped or `afterPoll` says it is done.
final class DrainThread: @unchecked Sendable {
    private let reader: BPFRingBuffer
    private let afterPoll: () -> Bool
    private let done = DispatchSemaphore(value: 0)
    private let stopFlag = Mutex(false)
    private let finishedFlag = Mutex(false)
    private(set) var error: Error?

    /// - Parameter afterPoll: runs after every poll (flush output there); true to stop.
    init(reader: BPFRingBuffer, afterPoll: @escaping () -> Bool) {
        self.reader = reader
        self.afterPoll = afterPoll
        let thread = Thread { [self] in run() }
        thread.name = "bridgetrace-drain"
        thread.start()
    }

    var finished: Bool { finishedFlag.withLock { $0 } }

    private func run() {
        defer {
            finishedFlag.withLock { $0 = true }
            done.signal()
        }
        do {
            while !stopFlag.withLock({ $0 }) {
                try reader.poll(timeoutMs: EventOptions.pollIntervalMs)
                if afterPoll() { return }
            }
            // Whatever the kernel queued before the stop still belongs to the run.
            try reader.poll(timeoutMs: 0)
            _ = afterPoll()
        } catch {
            self.error = error
        }
    }

    /// Stops and waits for the last records to be handled.
    func stop() {
        stopFlag.withLock { $0 = true }
        done.wait()
    }
}
