import BridgeTraceKernel
import Foundation

/// Runs a body on a fresh thread that has entered a network namespace. setns(2) changes
/// only the calling thread, so this leaves the main thread where it was.
enum NamespaceThread {
    static func run<T>(in namespace: String?, _ body: @escaping () throws -> T) throws -> Result<T, Error> {
        final class Box: @unchecked Sendable { var result: Result<T, Error>? }
        let box = Box()
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
