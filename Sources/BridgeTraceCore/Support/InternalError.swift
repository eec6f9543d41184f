/// Something bridgetrace itself got wrong (an embedded object without the program the code
/// names, a map of another size than the ABI's, an interface of its own that vanished):
/// not the operator's to fix, so the line says it is a bug and what to report. Typed, so
/// that tests and callers can tell it from an operator's error.
public struct InternalError: OperatorError, Equatable, Sendable {
    /// What was found wrong, in a phrase: "no program bt_xdp_rx in bridgetrace_counters".
    public var what: String

    public init(_ what: String) {
        self.what = what
    }

    public var message: String {
        "internal error: \(what) (a bridgetrace bug; please report it with the output of `bridgetrace --version`)"
    }

    public var description: String { message }
}
