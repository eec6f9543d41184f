import BridgeTraceCore
import Glibc

/// `--listen ADDR:PORT`: "127.0.0.1:9876", "[::1]:9876", ":9876" (every address).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// 19876: outside 9100-9999, the range of the Prometheus wiki's default port
    /// allocations, which has been fully allocated since 2023 (any number in it is some
    /// other exporter's); above the 10000-range numbers new exporters get now, below the
    /// ephemeral range (32768-), and not a well-known service port.
    public static let defaultPort = 19876
    public static let `default` = ListenAddress(host: "127.0.0.1", port: defaultPort)

    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws {
        let usage = "use ADDR:PORT, e.g. 127.0.0.1:\(Self.defaultPort), [::1]:\(Self.defaultPort) or :\(Self.defaultPort) for every address"
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw UserError("--listen \(text): \(usage)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw UserError("--listen \(text): no port; \(usage)") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw UserError("--listen \(text): put an IPv6 address in brackets; \(usage)") }
        }
        // 0 lets the kernel pick a free port; the ready file then tells which.
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw UserError("--listen \(text): the port must be a number from 0 to 65535; \(usage)")
        }
        if host.isEmpty { host = "::" }
        guard Self.isIPAddress(String(host)) else {
            throw UserError("--listen \(text): \(host) is not an IP address; \(usage)")
        }
        self.init(host: String(host), port: port)
    }

    static func isIPAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
