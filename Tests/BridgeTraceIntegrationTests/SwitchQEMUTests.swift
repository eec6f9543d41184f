import BridgeTraceLab
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
}
