import BridgeTraceCore
import Foundation

/// An errno turned into words, for messages: "Operation not permitted (EPERM)".
public func describeErrno(_ code: Int32) -> String {
    let magnitude = abs(code)
    let text = String(cString: strerror(magnitude))
    let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", EBUSY: "EBUSY", EEXIST: "EEXIST", EINVAL: "EINVAL",
        ENODEV: "ENODEV", EOPNOTSUPP: "EOPNOTSUPP", ERANGE: "ERANGE", EACCES: "EACCES",
        ENOMEM: "ENOMEM", E2BIG: "E2BIG", ENOSPC: "ENOSPC",
    ]
    if let name = names[magnitude] { return "\(text) (\(name))" }
    return text
}

extension UserError {
    /// A kernel call failed: say what we were doing, why in words, and what to do.
    public static func kernel(_ doing: String, errno code: Int32, hint: String? = nil) -> UserError {
        var message = "\(doing): \(describeErrno(code))"
        if let hint { message += "; \(hint)" }
        return UserError(message)
    }
}
