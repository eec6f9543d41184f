import BridgeTraceKernel
import Foundation

/// Runs a body on a fresh thread that has entered a network namespace. setns(2) changes
/// only the calling thread, so this leaves the main thread where it was.
enum NamespaceThread {
    static func run<T>(in namespace: String?, _ body: @escaping @Sendable () throws -> T) throws -> Result<T, Error> {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result {
                if let namespace { try NetworkNamespace.enter(named: namespace) }
                return try body()
            }
            done.signal()
        }
        thread.start()
        done.wait()
        return box.result!
    }
}

/// Carries a result across the thread boundary; the semaphore orders the accesses.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
