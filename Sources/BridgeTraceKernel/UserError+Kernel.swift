import BridgeTraceCore

/// Legacy: an errno in words ("Operation not permitted (EPERM)"). Kept for
/// BridgeTraceSwitch until it moves to `SystemError`; remove then.
public func describeErrno(_ code: Int32) -> String {
    SystemError.describe(Errno(rawValue: abs(code)))
}

extension UserError {
    /// Legacy: a kernel call failed, as a UserError worded like a `SystemError`. Kept for
    /// BridgeTraceSwitch (whose catch sites match UserError) until it throws `SystemError`;
    /// remove then.
    public static func kernel(_ doing: String, errno code: Int32, hint: String? = nil) -> UserError {
        UserError(SystemError(doing, code: code, hint: hint).message)
    }
}
