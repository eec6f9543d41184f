import CBridgeTraceShim
import Foundation

/// Collects libbpf and libxdp messages instead of letting them spray over stderr. Load
/// failures carry the failing program and the last lines of the verifier's log (the
/// verdict is there), and `BRIDGETRACE_DEBUG=1` echoes everything, whole logs included.
public enum LibBPFLog {
    private static let state = LockedLines()

    /// Installs the handler once; later calls do nothing.
    public static func install() {
        state.installOnce {
            bt_set_log_handler { level, line in
                guard let line else { return }
                LibBPFLog.state.append(level: level, line: String(cString: line))
            }
        }
    }

    /// The last `count` warning-or-info lines, oldest first.
    public static func recent(_ count: Int = 8) -> [String] {
        state.recent(count)
    }

    /// The program libbpf last failed to load, and the verifier's verdict: the last
    /// `count` lines of its log (the log ends with the reason; its start is only the
    /// program's first instructions).
    public static func lastLoadFailure(verdictLines count: Int = 12) -> (program: String?, verdict: [String]) {
        loadFailure(in: state.recent(LockedLines.capacity), verdictLines: count)
    }

    /// `lastLoadFailure` of these lines (libbpf's messages, one line each). Pure.
    public static func loadFailure(in lines: [String], verdictLines count: Int = 12) -> (program: String?, verdict: [String]) {
        let program = lines.last(where: { $0.contains("BPF program load failed") }).flatMap(programName)
        guard let end = lines.lastIndex(where: { $0.hasPrefix("-- END PROG LOAD LOG --") }) else {
            return (program, [])
        }
        let begin = lines[..<end].lastIndex(where: { $0.contains("-- BEGIN PROG LOAD LOG --") }).map { $0 + 1 } ?? 0
        // The statistics lines after the verdict say nothing about it.
        let log = lines[begin..<end].filter { line in
            !line.trimmingCharacters(in: .whitespaces).isEmpty && !line.hasPrefix("processed ")
                && !line.hasPrefix("verification time") && !line.hasPrefix("stack depth")
        }
        return (program, Array(log.suffix(count)))
    }

    /// "libbpf: prog 'bt_xdp_rx': BPF program load failed: ..." -> "bt_xdp_rx".
    static func programName(_ line: String) -> String? {
        guard let open = line.range(of: "prog '"), let close = line[open.upperBound...].firstIndex(of: "'") else { return nil }
        return String(line[open.upperBound..<close])
    }

    public static func clear() {
        state.clear()
    }
}

private final class LockedLines: @unchecked Sendable {
    /// Lines kept: enough for the end of a verifier log and the lines around it.
    static let capacity = 400
    private let lock = NSLock()
    private var lines: [String] = []
    private var installed = false
    private let echo = ProcessInfo.processInfo.environment["BRIDGETRACE_DEBUG"] == "1"

    func installOnce(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        if !installed {
            installed = true
            body()
        }
    }

    func append(level: Int32, line: String) {
        if echo { FileHandle.standardError.write(Data("debug: \(line)\n".utf8)) }
        guard level <= 1 else { return }  // debug lines are only for BRIDGETRACE_DEBUG
        lock.lock()
        defer { lock.unlock() }
        lines.append(line)
        if lines.count > 2 * Self.capacity { lines.removeFirst(lines.count - Self.capacity) }
    }

    func recent(_ count: Int) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return Array(lines.suffix(count))
    }

    func clear() {
        lock.lock()
        defer { lock.unlock() }
        lines.removeAll()
    }
}
