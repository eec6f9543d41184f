// libpcap's <pcap/bpf.h> and the kernel's <linux/bpf.h> both define `struct bpf_insn`,
// differently, and a module that sees both (the CLI imports this and libbpf) fails to
// build. So CLibPcap stays hidden in this module. `internal import` is not enough (a
// client of a non-resilient module still loads it); `@_implementationOnly` is, and is
// safe here because no CLibPcap type is part of any layout a client sees: PacketFilter
// is a class whose stored properties are plain pointers. The compiler warns about the
// general case.
@_implementationOnly import CLibPcap

/// A tcpdump (pcap-filter) expression that libpcap rejected. `description` is one line
/// with libpcap's own words, e.g. `invalid filter "foo bar": can't parse filter
/// expression: syntax error`.
public struct FilterSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var expression: String
    /// What pcap_geterr said.
    public var libpcapMessage: String

    public init(expression: String, libpcapMessage: String) {
        self.expression = expression
        self.libpcapMessage = libpcapMessage
    }

    public var description: String { "invalid filter \"\(expression)\": \(libpcapMessage)" }
}

/// A tcpdump filter expression compiled by libpcap for Ethernet frames, matched against
/// captured bytes in userspace (pcap_offline_filter: libpcap's BPF interpreter).
///
/// Not thread-safe: use one instance from one thread at a time (the trace pipeline's
/// drain thread). `matches` allocates nothing and runs the compiled program only.
public final class PacketFilter {
    public let expression: String
    private let handle: OpaquePointer
    /// A `bpf_program`, kept untyped so that no libpcap type is in this class's layout.
    private let programStorage: UnsafeMutableRawPointer
    private var program: UnsafeMutablePointer<bpf_program> { programStorage.assumingMemoryBound(to: bpf_program.self) }

    /// - Parameters:
    ///   - expression: pcap-filter syntax; an empty string matches every frame.
    ///   - snaplen: the largest frame the filter will see; it only sets the value a
    ///     matching program returns, never whether it matches.
    /// - Throws: `FilterSyntaxError` with libpcap's message when the expression does not
    ///   compile.
    public init(expression: String, snaplen: Int = 262_144) throws {
        self.expression = expression
        guard let handle = pcap_open_dead(DLT_EN10MB, Int32(clamping: max(snaplen, 1))) else {
            throw FilterSyntaxError(expression: expression, libpcapMessage: "libpcap could not open a filter handle")
        }
        let program = UnsafeMutablePointer<bpf_program>.allocate(capacity: 1)
        program.initialize(to: bpf_program())
        // PCAP_NETMASK_UNKNOWN: `ip broadcast` cannot work without a netmask and says so.
        if pcap_compile(handle, program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0 {
            let message = String(cString: pcap_geterr(handle))
            program.deallocate()
            pcap_close(handle)
            throw FilterSyntaxError(expression: expression, libpcapMessage: message)
        }
        // Stored last: a throwing init of a fully initialised class would run deinit.
        self.handle = handle
        programStorage = UnsafeMutableRawPointer(program)
    }

    deinit {
        pcap_freecode(program)
        program.deallocate()
        pcap_close(handle)
    }

    /// Whether the frame passes the filter. `bytes` are the captured bytes from the
    /// Ethernet header on; `wireLength` is the frame's length on the wire (for `less`,
    /// `greater` and `len`). Loads past the captured bytes make the filter reject.
    public func matches(_ bytes: [UInt8], wireLength: Int) -> Bool {
        bytes.withUnsafeBufferPointer { matches($0, wireLength: wireLength) }
    }

    /// The same, on bytes where they lie (a ring-buffer record).
    public func matches(_ bytes: UnsafeBufferPointer<UInt8>, wireLength: Int) -> Bool {
        var header = pcap_pkthdr()
        header.caplen = UInt32(truncatingIfNeeded: bytes.count)
        header.len = UInt32(clamping: max(wireLength, bytes.count))
        guard let start = bytes.baseAddress, !bytes.isEmpty else {
            // Still a valid pointer; with caplen 0 no load reads it.
            var none: UInt8 = 0
            return pcap_offline_filter(program, &header, &none) != 0
        }
        return pcap_offline_filter(program, &header, start) != 0
    }
}
