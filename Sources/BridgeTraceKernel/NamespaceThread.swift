import BridgeTraceCore
import Foundation

/// Runs work on a fresh thread that has entered a network namespace. setns(2) moves only
/// the calling thread, so the caller stays where it was; and netns-bound calls (netlink,
/// XDP attach by ifindex, the generator's test runs, whose redirect target is looked up in
/// the caller's namespace) must not run on a thread that the test runner or Dispatch
/// shares with other work.
public enum NamespaceThread {
    /// - Parameter namespace: an `ip netns` name; nil stays in the caller's namespace.
    public static func run<T>(in namespace: String?, _ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>(body)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result {
                if let namespace { try NetworkNamespace.enter(named: namespace) }
                return try box.body()
            }
            done.signal()
        }
        thread.name = "bridgetrace-\(namespace ?? "netns")"
        thread.stackSize = 1 << 22
        thread.start()
        done.wait()
        return try box.result!.get()
    }
}

/// Carries a result across the thread boundary; the semaphore orders the accesses.
/// The caller waits for the thread, so body and result are never used by two at once.
private final class ResultBox<T>: @unchecked Sendable {
    let body: () throws -> T
    var result: Result<T, Error>?
    init(_ body: @escaping () throws -> T) { self.body = body }
}
