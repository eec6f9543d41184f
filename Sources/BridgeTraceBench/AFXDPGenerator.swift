import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// The generator where the kernel refuses live frames: an AF_XDP socket in copy mode on
/// the generator's port (the switch's bt_xsk, no XDP program: sending needs none), TX
/// only. Each frame is stamped in userspace (bt_bench.c), copied into the UMEM and sent
/// by sendto, 32 a call; the kernel still builds an skb per frame, but with no socket
/// buffer accounting or qdisc, and the measured rate beats AF_PACKET's and trafgen's
/// (Benchmarks/README.md). Frames must fit a UMEM frame, so jumbo frames go to AF_PACKET.
final class AFXDPGenerator: SocketGenerator {
    let kind = GeneratorKind.afXDP
    let namespace: String
    /// One sendto's worth (the kernel's copy-mode TX batch).
    let fullSpeedBatch: UInt32 = 32
    private let socket: OpaquePointer
    private let interface: String

    /// UMEM frames: half of them are the (unused) rx side of bt_xsk's split.
    static let umemFrames: UInt32 = 4096
    /// The largest frame, FCS included, that fits a UMEM frame.
    static let largestFrameSize = Int(BT_XSK_FRAME_SIZE) - 4 + FrameTemplate.fcsBytes

    init(interface: String, namespace: String) throws {
        self.namespace = namespace
        self.interface = interface
        socket = try NamespaceThread.run(in: namespace) {
            var err: Int32 = 0
            guard let socket = bt_xsk_open(interface, 0, Self.umemFrames, 0, &err) else {
                throw SystemError("cannot open an AF_XDP socket on", subject: interface, code: err)
            }
            return socket
        }
    }

    deinit { bt_xsk_close(socket) }

    /// Whether frames of this size fit; throws why not.
    func check(_ template: FrameTemplate) throws {
        guard template.size <= Self.largestFrameSize else {
            throw UserError("AF_XDP frames must fit a \(BT_XSK_FRAME_SIZE)-byte UMEM frame and \(template.size)-byte frames do not")
        }
    }

    func send(_ frame: UnsafeRawBufferPointer, _ gen: inout bt_bench_gen, until: UInt64, batch: UInt32) -> Int32 {
        bt_bench_xsk_run(socket, frame.baseAddress, UInt32(frame.count), &gen, until, batch)
    }

    func failure(_ code: Int32) -> any Error {
        if code == -ETIMEDOUT {
            return UserError("the generator's port \(interface) took no frame from its AF_XDP socket for a second: "
                + "is it down, or was its namespace deleted while the benchmark ran?")
        }
        return SystemError("sending on the AF_XDP socket on", subject: interface, code: code)
    }
}
