import BridgeTraceLab
import BridgeTraceProcess
import Foundation
import Testing

/// The switch with a real VM: the lab's QEMU guest (TCG) on tap vm1, a veth VM and the
/// uplink, taken off the lab's br0 and put on a `bridgetrace switch` instead.
@Suite("Switch with a QEMU guest", .serialized)
struct SwitchQEMUTests {
    @Test(.timeLimit(.minutes(4)))
    func aGuestOnATapPortPingsAcrossTheSwitch() throws {
        try requireRoot()
        try requireQEMU()
        try TestLab.with(vms: 2, options: LabOptions(vmKind: .qemu)) { lab in
            let ns = lab.bridgeNamespace
            for port in lab.bridgePorts { try run(["ip", "-n", ns, "link", "set", "dev", port, "nomaster"]) }
            let name = lab.name + "sw"
            let sw = try BackgroundBridgetrace(["switch", "--name", name, "--netns", ns, "--port", "vm1", "--port", "vm2", "--port", "uplink"])
            try sw.waitUntilReady()
            defer { _ = try? sw.stop() }

            let fromLan = try exec(inNetns: lab.lanNamespace, ["ping", "-c", "5", "-i", "0.2", "-W", "2", lab.vmIP(1)])
            #expect(fromLan.contains("5 received"), "\(fromLan)")
            let fromVM2 = try exec(inNetns: lab.vmNamespace(2), ["ping", "-c", "3", "-i", "0.2", "-W", "2", lab.vmIP(1)])
            #expect(fromVM2.contains("3 received"), "\(fromVM2)")

            let show = try BridgeTraceBinary.run(["switch", "show", name, "--netns", ns, "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any] ?? [:]
            let paths = Dictionary(uniqueKeysWithValues: (object["ports"] as? [[String: Any]] ?? []).map {
                ($0["port"] as? String ?? "?", $0["path"] as? String ?? "?")
            })
            // The tap takes redirects as it is; veths get AF_XDP TX.
            #expect(paths == ["vm1": "redirect", "vm2": "xsk", "uplink": "xsk"])
            let fdb = (object["fdb"] as? [[String: Any]] ?? []).map { "\($0["mac"] as? String ?? "?")=\($0["port"] as? String ?? "?")" }
            #expect(fdb.contains("\(lab.vmMAC(1))=vm1"), "\(fdb)")
            #expect(fdb.contains("\(lab.vmMAC(2))=vm2"), "\(fdb)")
            let stats = object["stats"] as? [String: Int] ?? [:]
            #expect((stats["fast_path"] ?? 0) > 0, "replies to the guest take the fast path into the tap")
            #expect(try sw.stop() == 0)
            #expect(!(try run(["ip", "-n", ns, "link", "show", "vm1"])).contains("xdp"))
        }
    }

    /// Bulk TCP out of a real guest (virtio-net on a tap, the guest kernel's TSO and
    /// checksum offload on, as QEMU negotiates them) through the switch to the lab's
    /// gateway, on either path: every byte arrives (the receiver counts them), nstat sees
    /// no checksum error, and the guest's GSO frames took the skb path whole.
    @Test(.timeLimit(.minutes(5)), arguments: [true, false])
    func aGuestsTCPCrossesTheSwitchWithItsOffloads(fastPath: Bool) throws {
        try requireRoot()
        try requireQEMU()
        let megabytes = 4
        try TestLab.with(vms: 2, options: LabOptions(vmKind: .qemu, guestSend: "198.18.0.1:5001:\(megabytes)")) { lab in
            let ns = lab.bridgeNamespace
            for port in lab.bridgePorts { try run(["ip", "-n", ns, "link", "set", "dev", port, "nomaster"]) }
            let name = lab.name + "sw"
            let sw = try BackgroundBridgetrace(["switch", "--name", name, "--netns", ns, "--port", "vm1", "--port", "vm2",
                                                "--port", "uplink"] + (fastPath ? [] : ["--no-fast-path"]))
            try sw.waitUntilReady()
            defer { _ = try? sw.stop() }
            let received = FileManager.default.temporaryDirectory.appendingPathComponent("bt-guest-tcp-\(lab.name)").path
            defer { unlink(received) }
            let script = """
            import socket
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", 5001)); s.listen(1)
            c, _ = s.accept(); n = 0
            while n < \(megabytes << 20):
                b = c.recv(1 << 16)
                if not b: break
                n += len(b)
            c.close(); open("\(received)", "w").write(str(n))
            """
            _ = try exec(inNetns: lab.lanNamespace, ["nstat", "-n"])
            let receiver = try ChildProcess(["ip", "netns", "exec", lab.lanNamespace, Injector.python, "-c", script],
                                            stdout: .discard, stderr: .discard)
            defer { _ = receiver.stop(signal: SIGTERM, grace: 1) }
            let count = try waitFor("the guest's \(megabytes) MiB to arrive", timeout: 180, interval: 0.5, {
                (try? String(contentsOfFile: received, encoding: .utf8)).flatMap { Int($0) }
            }, until: { $0 != nil })
            #expect(count == megabytes << 20)
            #expect(try Nstat.absolute(in: lab.lanNamespace, ["TcpInCsumErrors"]) == ["TcpInCsumErrors": 0])
            let show = try BridgeTraceBinary.run(["switch", "show", name, "--netns", ns, "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any] ?? [:]
            let stats = object["stats"] as? [String: Int] ?? [:]
            #expect((stats["skb_path"] ?? 0) > 0, "the guest's TSO frames: \(stats)")
            let drops = object["drops"] as? [String: [String: Int]] ?? [:]
            #expect(drops.values.allSatisfy { $0.isEmpty }, "\(drops)")
            #expect(try sw.stop() == 0)
        }
    }
}
