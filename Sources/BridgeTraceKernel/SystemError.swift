import BridgeTraceCore
import Foundation

extension UserError {
    /// A kernel call failed: say what we were doing, why in words, and what to do.
    public static func kernel(_ doing: String, errno code: Int32, hint: String? = nil) -> UserError {
        var message = "\(doing): \(describeErrno(code))"
        if let hint { message += "; \(hint)" }
        return UserError(message)
    }
}
