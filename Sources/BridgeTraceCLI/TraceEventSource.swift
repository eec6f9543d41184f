import BridgeTraceKernel
import BridgeTraceSwitch
import CBridgeTraceABI

/// Where `trace` and `diagnose` get frame events: our programs attached to a bridge's
/// ports (WatchSession, configured at load), or a running switch's own programs
/// (SwitchTraceSource, configured through its pins). The rest of the command is the same.
protocol TraceEventSource: AnyObject {
    var portNames: [Int32: String] { get }
    @discardableResult func refresh() throws -> [String]
    func lostEvents() throws -> UInt64
    func sampledOutEvents() throws -> UInt64
    /// The ring buffer's reader; for a switch this also turns its events on.
    func reader(config: bt_trace_config, sampleEvery: UInt32, handler: @escaping RingBufferReader.Handler) throws -> RingBufferReader
    func close()
}

extension WatchSession: TraceEventSource {
    func reader(config: bt_trace_config, sampleEvery: UInt32, handler: @escaping RingBufferReader.Handler) throws -> RingBufferReader {
        try RingBufferReader(object: object, handler: handler)
    }
}

extension SwitchTraceSource: TraceEventSource {
    func reader(config: bt_trace_config, sampleEvery: UInt32, handler: @escaping RingBufferReader.Handler) throws -> RingBufferReader {
        try start(config: config, sampleEvery: sampleEvery, handler: handler)
    }
}
