import CBridgeTraceShim
import Foundation

/// Collects libbpf and libxdp messages instead of letting them spray over stderr. The
/// recent lines are attached to load failures (the verifier's verdict is in the last
/// lines), and `BRIDGETRACE_DEBUG=1` echoes everything.
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

    public static func clear() {
        state.clear()
    }
}

private final class LockedLines: @unchecked Sendable {
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
        if lines.count > 256 { lines.removeFirst(lines.count - 256) }
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
