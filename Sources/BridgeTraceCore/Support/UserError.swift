/// An error written for the operator: the CLI prints `line` (`bridgetrace: <message>`) and
/// exits with status 2. `UserError`, `SystemError` and `NetlinkError` are the kinds; catch
/// sites that only relay the words catch `any OperatorError`, and sites that act on a
/// cause match the concrete type (`SystemError` and its `errno`).
public protocol OperatorError: Error, CustomStringConvertible {
    /// What went wrong, why, and what to do, in one line without the program's name.
    var message: String { get }
}

extension OperatorError {
    /// The message as the CLI prints it.
    public var line: String { operatorLine(message) }
}

/// Prefixes a line for stderr with the program's name: the one place the prefix is
/// spelled, for errors and for the notes commands print along the way.
public func operatorLine(_ text: String) -> String {
    "bridgetrace: " + text
}

/// A failure the operator can act on, in words: what went wrong and what to do. Failures
/// of a system call are `SystemError`s instead, which keep the errno.
public struct UserError: OperatorError, Equatable, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
