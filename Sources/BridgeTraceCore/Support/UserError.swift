/// A failure the operator can act on: printed as one line, `bridgetrace: <message>`, and
/// the process exits with status 2. Every case says what went wrong and what to do.
public struct UserError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
