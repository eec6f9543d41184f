/// Where a run reports how far it has got (the CLI draws a bar on a terminal).
public protocol BenchProgress: AnyObject {
    /// `fraction` of the whole run is done; `label` says what runs now.
    func update(fraction: Double, label: String)
    /// A line worth keeping on screen (a DUT finished, a note).
    func log(_ line: String)
    func finish()
}

/// Reports nothing: for tests and pipes.
public final class SilentProgress: BenchProgress {
    public init() {}
    public func update(fraction: Double, label: String) {}
    public func log(_ line: String) {}
    public func finish() {}
}
