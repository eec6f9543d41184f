#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

// Every module that throws or matches a SystemError needs Errno's names (.notPermitted).
@_exported import struct SystemPackage.Errno

/// A system call (or libbpf, libxdp, netlink call) that failed: what was being done, to
/// what, and the errno it gave, typed. Printed as
/// `cannot attach XDP program bt_bench_sink to veth1: Device or resource busy (EBUSY); <hint>`.
/// Callers that react to a cause match `errno` (`.noSuchFileOrDirectory`), never the words.
public struct SystemError: OperatorError, Equatable, Sendable {
    /// What was being done, as a phrase that reads before the subject: "cannot load BPF object".
    public var operation: String
    /// What it was done to ("bridgetrace_counters", "/dev/full", "veth1 in netns x"); nil
    /// when the operation says it all.
    public var subject: String?
    public var errno: Errno
    /// What to do about it, when there is something better than the errno's words.
    public var hint: String?

    public init(_ operation: String, subject: String? = nil, errno: Errno, hint: String? = nil) {
        self.operation = operation
        self.subject = subject
        self.errno = errno
        self.hint = hint
    }

    /// From a C return code that is an errno either way round: libbpf and the shim return
    /// -errno, pthread and posix_spawn return it positive.
    public init(_ operation: String, subject: String? = nil, code: Int32, hint: String? = nil) {
        self.init(operation, subject: subject, errno: Errno(rawValue: code == Int32.min ? Int32.max : abs(code)), hint: hint)
    }

    /// From the calling thread's errno, right after a libc call failed.
    public static func fromErrno(_ operation: String, subject: String? = nil, hint: String? = nil) -> SystemError {
        SystemError(operation, subject: subject, errno: Errno(rawValue: currentErrno()), hint: hint)
    }

    public var message: String {
        var text = operation
        if let subject { text += " " + subject }
        text += ": " + Self.describe(errno)
        if let hint { text += "; " + hint }
        return text
    }

    public var description: String { message }

    /// An errno in words, with its name when it is one operators search for, or its
    /// number: "Operation not permitted (EPERM)". The one place errnos are put into words.
    public static func describe(_ errno: Errno) -> String {
        // Errno's description is strerror(3)'s text.
        "\(errno.description) (\(names[errno.rawValue] ?? "errno \(errno.rawValue)"))"
    }

    private static let names: [Int32: String] = [
        Errno.notPermitted.rawValue: "EPERM", Errno.noSuchFileOrDirectory.rawValue: "ENOENT",
        Errno.resourceBusy.rawValue: "EBUSY", Errno.fileExists.rawValue: "EEXIST",
        Errno.invalidArgument.rawValue: "EINVAL", Errno.operationNotSupportedByDevice.rawValue: "ENODEV",
        Errno.notSupported.rawValue: "EOPNOTSUPP", Errno.outOfRange.rawValue: "ERANGE",
        Errno.permissionDenied.rawValue: "EACCES", Errno.noMemory.rawValue: "ENOMEM",
        Errno.argListTooLong.rawValue: "E2BIG", Errno.noSpace.rawValue: "ENOSPC",
        Errno.badFileDescriptor.rawValue: "EBADF", Errno.ioError.rawValue: "EIO",
    ]
}

private func currentErrno() -> Int32 {
    #if canImport(Glibc)
    return Glibc.errno
    #else
    return 0
    #endif
}
