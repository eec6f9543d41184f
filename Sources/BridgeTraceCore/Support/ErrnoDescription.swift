import Foundation

/// An errno turned into words, for messages: "Operation not permitted (EPERM)". In Core, not
/// Kernel, so that BridgeTraceProcess (imported beside libpcap, whose headers cannot share a
/// build with libbpf's) describes errors the same way.
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
