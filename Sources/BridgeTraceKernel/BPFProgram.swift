import BridgeTraceCore
import CBridgeTraceShim
import CLibBPF
import Glibc

/// A program of a loaded `BPFObject`, which owns it: use it while the object lives. A
/// link made from it holds the program in the kernel on its own.
public struct BPFProgram {
    public let name: String
    public let fd: Int32
    let handle: OpaquePointer

    init(name: String, fd: Int32, handle: OpaquePointer) {
        self.name = name
        self.fd = fd
        self.handle = handle
    }

    /// An XDP link on `ifindex` (native mode unless `driverOnly` is false): `BPFLink.xdp`.
    public func attachXDP(ifindex: Int32, interface: String, driverOnly: Bool = true) throws -> BPFLink {
        try BPFLink.xdp(programFD: fd, program: name, ifindex: ifindex, interface: interface, driverOnly: driverOnly)
    }

    /// A tcx link at ingress or egress of `ifindex`: `BPFLink.tcx`.
    public func attachTCX(ifindex: Int32, interface: String, egress: Bool) throws -> BPFLink {
        try BPFLink.tcx(programFD: fd, program: name, ifindex: ifindex, interface: interface, egress: egress)
    }

    /// Attaches where the program's section says (tp_btf/..., tracepoint/...); `hook`
    /// names that place in messages.
    public func attach(hook: String = "its section's hook") throws -> BPFLink {
        try libbpfLink(bpf_program__attach(handle), at: hook)
    }

    /// A raw tracepoint link on `tracepoint` (e.g. "kfree_skb").
    public func attachRawTracepoint(_ tracepoint: String) throws -> BPFLink {
        try libbpfLink(bpf_program__attach_raw_tracepoint(handle, tracepoint), at: "raw_tp/\(tracepoint)")
    }

    private func libbpfLink(_ link: OpaquePointer?, at hook: String) throws -> BPFLink {
        let code = libbpf_get_error(UnsafeRawPointer(link))
        guard let link, code == 0 else {
            throw SystemError("cannot attach", subject: "\(name) to \(hook)", code: Int32(code == 0 ? -Int(EINVAL) : code))
        }
        return BPFLink(libbpf: link, describing: "\(name) on \(hook)")
    }

    /// BPF_PROG_TEST_RUN of an XDP program in live-frames mode: `repeat` runs over `frame`
    /// (`batch` per batch, 1..256) as if each arrived on `ingressIfindex`; frames the
    /// program redirects or returns XDP_TX for really go out. Returns the kernel's time
    /// for the whole loop, in ns.
    public func testRunLiveFrames(_ frame: [UInt8], ingressIfindex: Int32, repeat count: UInt32,
                                  batch: UInt32) throws -> UInt64 {
        var duration: UInt64 = 0
        let rc = frame.withUnsafeBytes {
            bt_bench_xdp_live_run(fd, $0.baseAddress, UInt32($0.count), UInt32(bitPattern: ingressIfindex), count, batch,
                                  &duration)
        }
        if rc != 0 { throw SystemError("BPF_PROG_TEST_RUN with live frames failed for", subject: name, code: rc) }
        return duration
    }

    /// BPF_PROG_TEST_RUN of an XDP program over one frame (up to a UMEM frame), as if it
    /// arrived on `ingressIfindex`, with `header` in front of it in the data, for the program
    /// to read and strip (in-band: test runs take XDP metadata on some kernels only).
    /// 0, or -errno. Cheap enough per frame: nothing is allocated.
    public func testRunXDP(frame: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer,
                           ingressIfindex: UInt32) -> Int32 {
        let total = header.count + frame.count
        return withUnsafeTemporaryAllocation(byteCount: max(total, 1), alignment: 8) { buffer in
            guard let base = buffer.baseAddress else { return -EINVAL }
            if let head = header.baseAddress { base.copyMemory(from: head, byteCount: header.count) }
            if let data = frame.baseAddress { (base + header.count).copyMemory(from: data, byteCount: frame.count) }
            var ctx = xdp_md()
            ctx.data_end = UInt32(total)
            ctx.ingress_ifindex = ingressIfindex
            return withUnsafeMutablePointer(to: &ctx) { context in
                var opts = bpf_test_run_opts()
                opts.sz = MemoryLayout<bpf_test_run_opts>.size
                opts.data_in = UnsafeRawPointer(base)
                opts.data_size_in = UInt32(total)
                opts.ctx_in = UnsafeRawPointer(context)
                opts.ctx_size_in = UInt32(MemoryLayout<xdp_md>.size)
                return bpf_prog_test_run_opts(fd, &opts) < 0 ? (errno != 0 ? -errno : -EIO) : 0
            }
        }
    }

    /// Pins the program at `path` on a bpffs (replacing what was there), so that another
    /// tool (tc's `bpf pinned PATH`) can attach it. The caller unlinks the pin.
    public func pin(at path: String) throws {
        unlink(path)
        if bpf_obj_pin(fd, path) != 0 {
            throw SystemError.fromErrno("cannot pin program \(name) at", subject: path)
        }
    }

    /// The kernel's record of the program (id, name, run time with bpf_stats on).
    public func info() -> BPFProgramInfo? {
        BPFProgramInfo(fd: fd)
    }
}

/// What the kernel says about a loaded program (bpf_prog_info).
public struct BPFProgramInfo: Sendable, Equatable {
    public var id: UInt32
    /// As the kernel keeps it: the first 15 bytes of the name.
    public var name: String
    /// Totals kept while the sysctl kernel.bpf_stats_enabled is 1.
    public var runTimeNs: UInt64
    public var runCount: UInt64

    init?(fd: Int32) {
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { return nil }
        id = info.id
        name = withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        runTimeNs = info.run_time_ns
        runCount = info.run_cnt
    }

    /// A program pinned on a bpffs at `path`; nil when nothing (or no program) is there.
    public init?(pinnedAt path: String) {
        let fd = bpf_obj_get(path)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        self.init(fd: fd)
    }

    /// The id of the XDP program attached to `ifindex` (any mode, link or not); nil when
    /// there is none or the query fails.
    public static func xdpProgramID(ifindex: Int32) -> UInt32? {
        var id: UInt32 = 0
        guard bpf_xdp_query_id(ifindex, 0, &id) == 0, id != 0 else { return nil }
        return id
    }

    /// Any program in the kernel, by id (CAP_SYS_ADMIN); nil when it is gone.
    public init?(id: UInt32) {
        let fd = bpf_prog_get_fd_by_id(id)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        self.init(fd: fd)
    }
}
