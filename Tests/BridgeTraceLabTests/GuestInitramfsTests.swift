import Foundation
import Testing

@testable import BridgeTraceLab

/// The guest's initramfs and command line, built without QEMU, a kernel or root.
struct GuestInitramfsTests {
    /// No QEMU or lab needed: the archive format and module order.
    @Test func initramfsPiecesArePure() throws {
        var archive = CPIOArchive()
        archive.directory("/bin")
        archive.file("/init", contents: Data("#!/bin/sh\n".utf8), mode: 0o755)
        let data = archive.finished()
        #expect(data.count % 4 == 0)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("070701"))
        #expect(text.contains("init\0"))
        #expect(text.contains("TRAILER!!!\0"))
        #expect(GuestInitramfs.moduleName("kernel/net/8021q/8021q.ko.xz") == "8021q")
        #expect(GuestInitramfs.moduleName("kernel/drivers/net/virtio-net.ko.zst") == "virtio_net")
        let script = GuestInitScript.text(modules: ["failover.ko", "virtio_net.ko"])
        #expect(script.hasPrefix("#!/bin/busybox sh\n"))
        #expect(script.contains("for m in failover.ko virtio_net.ko; do"))
        let config = QEMUGuest.Config(topology: try LabTopology(name: "btlab", vms: 2), vm: 1)
        #expect(config.kernelCommandLine.contains("bt.ip=198.18.0.11/24"))
        #expect(config.kernelCommandLine.contains("bt.mac=52:54:00:00:00:01"))
        #expect(config.kernelCommandLine.contains("ipv6.disable=1"))
    }
}
