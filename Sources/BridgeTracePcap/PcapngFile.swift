#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BridgeTraceCore

/// `trace -w FILE`: a pcapng file written as frames arrive.
///
/// - A regular file is created with mode 0600, and chmod-ed to 0600 if it existed, since
///   it holds other machines' traffic. Anything else (`-` for standard output, a FIFO,
///   /dev/stdout) is written as it is, its mode untouched.
/// - There is no user-space buffer: every `write` hands complete blocks (the port's IDB
///   when it is new, then the EPB) to a single write(2). Whenever the process stops, by
///   SIGINT or SIGKILL, the file holds whole blocks and reads back. If a write fails
///   half way (disk full), the file is cut back to the last whole block.
/// - One writer at a time: `write`, `flush` and `close` must not run concurrently (the
///   trace pipeline writes from its drain thread and closes after that thread stopped).
public final class PcapngFile: @unchecked Sendable {
    public let path: String
    private var fd: Int32
    private var encoder: PcapngEncoder
    /// Bytes of whole blocks in the file.
    private var goodLength: Int = 0

    /// Frames written so far.
    public private(set) var frameCount = 0

    /// - Parameters:
    ///   - path: the file, or `-` for standard output.
    ///   - snaplen: the capture snap length. IDBs say `snaplen + 4`, since a VLAN tag the
    ///     NIC offloaded is put back into the captured bytes.
    ///   - bridge: names the bridge in each interface's `if_description`.
    public init(path: String, snaplen: Int, bridge: String? = nil) throws {
        self.path = path
        let idbSnaplen = snaplen > 0 ? UInt32(clamping: snaplen + 4) : 0
        encoder = PcapngEncoder(snaplen: idbSnaplen, bridge: bridge)
        fd = path == "-" ? dup(STDOUT_FILENO) : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 {
            throw SystemError.fromErrno("cannot create", subject: path)
        }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o7777 != 0o600,
           fchmod(fd, 0o600) != 0 {
            let code = errno
            _ = systemClose(fd)
            fd = -1 // deinit runs for a class whose init throws once it is initialised
            throw SystemError("cannot make", subject: "\(path) private (chmod 0600)", code: code)
        }
        do {
            try writeAll(encoder.header())
        } catch {
            _ = systemClose(fd)
            fd = -1
            throw error
        }
    }

    deinit {
        close()
    }

    /// Appends one frame. `wallClockNs` is nanoseconds since the Unix epoch, UTC.
    public func write(_ frame: CapturedFrame, wallClockNs: UInt64) throws {
        guard fd >= 0 else { throw UserError("cannot write \(path): the file is already closed") }
        let before = encoder
        do {
            try writeAll(encoder.encode(frame, wallClockNs: wallClockNs))
        } catch {
            encoder = before // the IDB of a new port did not make it into the file either
            throw error
        }
        frameCount += 1
    }

    /// Nothing to do: every `write` already reached the kernel. Kept so that callers can
    /// flush per batch without knowing that.
    public func flush() {}

    /// Closes the file; later writes throw. Safe to call more than once.
    public func close() {
        guard fd >= 0 else { return }
        _ = systemClose(fd)
        fd = -1
    }

    /// One write(2) for the whole buffer; a short write (a signal, a nearly full disk)
    /// continues where it stopped. On failure the partial block is cut off again.
    private func writeAll(_ bytes: [UInt8]) throws {
        var done = 0
        let failure: Int32? = bytes.withUnsafeBytes { raw -> Int32? in
            while done < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if n == 0 { return EIO }
                done += n
            }
            return nil
        }
        if let failure {
            if done > 0 {
                _ = ftruncate(fd, off_t(goodLength))
                _ = lseek(fd, off_t(goodLength), SEEK_SET)
            }
            throw SystemError("cannot write", subject: path, code: failure)
        }
        goodLength += bytes.count
    }
}

// At file scope, where the methods named close and write do not hide the system calls.
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
