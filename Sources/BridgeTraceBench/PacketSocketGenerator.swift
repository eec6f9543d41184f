import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import CBridgeTraceShim
import Foundation

/// The last resort: an AF_PACKET socket that bypasses the qdisc, sendmmsg of stamped
/// copies (bt_bench.c). Every frame is an skb built by a syscall, and it takes any frame
/// size the MTU allows: jumbo frames, which fit neither a live XDP frame nor a UMEM frame.
/// (PACKET_TX_RING, trafgen's way, measured slower than this here: Benchmarks/README.md.)
final class PacketSocketGenerator: SocketGenerator {
    let kind = GeneratorKind.afPacket
    let namespace: String
    let fullSpeedBatch: UInt32 = 32
    private let fd: Int32
    private let interface: String

    init(interface: String, namespace: String) throws {
        self.namespace = namespace
        self.interface = interface
        // A socket stays in the namespace it was made in; sending needs no namespace.
        fd = try NamespaceThread.run(in: namespace) {
            let ifindex = Int32(if_nametoindex(interface))
            guard ifindex > 0 else { throw InternalError("generator port \(interface) is missing in netns \(namespace)") }
            let fd = bt_bench_packet_open(ifindex)
            if fd < 0 { throw SystemError("cannot open an AF_PACKET socket on", subject: interface, code: fd) }
            return fd
        }
    }

    func send(_ frame: UnsafeRawBufferPointer, _ gen: inout bt_bench_gen, until: UInt64, batch: UInt32) -> Int32 {
        bt_bench_packet_run(fd, frame.baseAddress, UInt32(frame.count), &gen, until, batch)
    }

    func failure(_ code: Int32) -> any Error {
        SystemError("sending on the AF_PACKET socket on", subject: interface, code: code)
    }

    deinit { close(fd) }
}
