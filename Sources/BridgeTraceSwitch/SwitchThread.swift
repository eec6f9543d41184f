import BridgeTraceCore
import BridgeTraceKernel
import Foundation

/// A switch running on a thread of its own inside its namespace, for in-process users
/// (the bench): `launch` returns once every port is attached; `stop` detaches it all.
public final class SwitchThread: @unchecked Sendable {
    private let lock = NSCondition()
    private var started = false
    private var stopping = false
    private var finished = false
    private var failure: Error?
    private var status: [SwitchPortStatus] = []

    /// - Parameter cpu: pin the switch's thread to this CPU (the bench gives every DUT the
    ///   same CPU budget); nil leaves it to the scheduler.
    public static func launch(_ config: SwitchConfig, cpu: Int? = nil,
                              log: @escaping @Sendable (String) -> Void = { _ in }) throws -> SwitchThread {
        let handle = SwitchThread()
        let thread = Thread {
            if let cpu { Switch.pinCurrentThread(to: cpu) }
            handle.body(config, log: log)
        }
        thread.start()
        handle.lock.lock()
        while !handle.started { handle.lock.wait() }
        let failure = handle.failure
        handle.lock.unlock()
        if let failure { throw failure }
        return handle
    }

    /// The ports as attached at launch.
    public var ports: [SwitchPortStatus] {
        lock.lock()
        defer { lock.unlock() }
        return status
    }

    private func body(_ config: SwitchConfig, log: @escaping @Sendable (String) -> Void) {
        var running: Switch?
        do {
            if let netns = config.netns { try NetworkNamespace.enter(named: netns) }
            let sw = try Switch(config: config)
            sw.log = log
            try sw.start()
            running = sw
            lock.lock()
            status = sw.portStatus
        } catch {
            lock.lock()
            failure = error
        }
        started = true
        lock.broadcast()
        lock.unlock()
        if let sw = running {
            sw.run { self.lock.lock(); defer { self.lock.unlock() }; return self.stopping }
            sw.close()
        }
        lock.lock()
        finished = true
        lock.broadcast()
        lock.unlock()
    }

    /// Stops serving, detaches every port and removes the pins; returns when done.
    public func stop() {
        lock.lock()
        stopping = true
        while !finished { lock.wait() }
        lock.unlock()
    }
}
