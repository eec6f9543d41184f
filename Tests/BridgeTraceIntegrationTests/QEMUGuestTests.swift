import BridgeTraceCore
import Foundation
import Testing

@testable import BridgeTraceLab
import BridgeTraceProcess

/// A real QEMU guest (TCG) on tap port vm1: it answers ARP and ping across the bridge, a
/// stopped guest leaves its tap with NO-CARRIER, a restarted one sends 802.1Q-tagged frames
/// through its kernel's 8021q module, and `lab down` leaves no QEMU, tap or state behind.
/// Two guest boots; each takes ~3 s on an idle machine and up to ~40 s on a loaded one.
@Suite("QEMU guest", .serialized)
struct QEMUGuestTests {
    @Test(.timeLimit(.minutes(4)))
    func guestOnATapAnswersPingAndLosesCarrierWhenStopped() throws {
        try requireRoot()
        try requireQEMU()
        var labName = ""
        let started = Date()
        try TestLab.with(vms: 2, options: LabOptions(vmKind: .qemu)) { lab in
            labName = lab.name
            let br = lab.bridgeNamespace
            let guestIP = lab.vmIP(1)
            print("QEMU guest booted and answered ping in \(Int(Date().timeIntervalSince(started))) s")

            // The guest has no namespace: its port is a tap, and the lab counts as complete.
            #expect(!netnsExists(lab.vmNamespace(1)))
            #expect(try ipLinkJSON(br, "vm1").contains("\"tun\""))
            let status = try #require(try Lab.status(name: lab.name))
            #expect(status.isComplete, "\(status.missingNamespaces)")
            #expect(status.qemuVMs == [1])
            let pid = try #require(QEMUGuest.runningPid(lab: lab.name, vm: 1))

            // Its tap is named by the VM, from QEMU's command line (-name, -netdev tap,ifname=):
            // QEMU runs in the bridge namespace, as the tap does.
            let counters = try BridgeTraceBinary.run(["counters", lab.bridgeName, "--netns", br, "--json", "--duration", "0.5"])
            #expect(counters.status == 0, "\(counters.stderr)")
            let ports = try #require(try JSONSerialization.jsonObject(with: Data(
                (counters.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any])["ports"] as? [[String: Any]]
            let vms = Dictionary(uniqueKeysWithValues: (ports ?? []).map { ($0["port"] as? String ?? "?", $0["vm"] as? String ?? "-") })
            #expect(vms == ["vm1": "bridgetrace-lab-\(lab.name)-vm1", "vm2": "-", "uplink": "-", "br0": "-"], "\(counters.stdout)")

            // ARP and ping across the bridge, from the gateway and from the veth VM.
            let fromLan = try exec(inNetns: lab.lanNamespace, ["ping", "-c", "5", "-i", "0.2", "-W", "2", guestIP])
            #expect(fromLan.contains("5 received"), "\(fromLan)")
            let neighbour = try exec(inNetns: lab.lanNamespace, ["ip", "-j", "neigh", "show", guestIP])
            #expect(neighbour.contains(lab.vmMAC(1)), "the gateway learned the guest's MAC by ARP: \(neighbour)")
            let fromVM2 = try exec(inNetns: lab.vmNamespace(2), ["ping", "-c", "3", "-i", "0.2", "-W", "2", guestIP])
            #expect(fromVM2.contains("3 received"), "\(fromVM2)")

            // A stopped guest: QEMU's tap fd closes, the persistent tap stays, without carrier.
            #expect(QEMUGuest.stop(lab: lab.name, vm: 1) == pid)
            #expect(QEMUGuest.runningPid(lab: lab.name, vm: 1) == nil)
            let link = try tapState(br, "vm1")
            #expect(link.flags.contains("NO-CARRIER"), "\(link)")
            #expect(link.operstate == "DOWN", "\(link)")
            #expect(link.master == "br0", "the tap is still a port of br0: \(link)")
            let unanswered = try runResult(
                ["ip", "netns", "exec", lab.lanNamespace, "ping", "-c", "1", "-W", "1", guestIP])
            #expect(!unanswered.succeeded)

            // The stopped guest, diagnosed: no_carrier at its tap, and nothing else.
            let pings = try BackgroundProcess.inNetns(lab.lanNamespace, ["ping", "-i", "0.4", "-W", "1", guestIP])
            let diagnosis = try BridgeTraceBinary.run(["diagnose", lab.bridgeName, "--netns", br, "--duration", "4", "--json"])
            pings.stop()
            #expect(diagnosis.status == 1, "\(diagnosis.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(diagnosis.stdout.utf8)) as? [String: Any])
            let findings = (report["findings"] as? [[String: Any]] ?? []).map { "\($0["cause"] ?? "?")@\($0["port"] ?? "?")" }
            #expect(findings == ["no_carrier@vm1"], "\(diagnosis.stdout)")

            // Restart on the same tap, with its address on VLAN 100: the guest's 8021q module
            // tags what it sends, here ARP for the gateway it pings.
            var tagged = QEMUGuest.Config(topology: lab, vm: 1, vlan: 100, ping: lab.gatewayIP)
            tagged.gateway = lab.gatewayIP
            try QEMUGuest.start(tagged)
            #expect(!(try tapState(br, "vm1").flags.contains("NO-CARRIER")), "carrier is back")
            let capture = try runResult([
                "ip", "netns", "exec", br, "timeout", "60", "tcpdump", "-i", "vm1", "-nn", "-e", "-c", "2",
                "vlan 100 and arp",
            ])
            #expect(capture.succeeded, "\(capture.stderr)")
            #expect(capture.stdout.contains("802.1Q"), "\(capture.stdout)")
            #expect(capture.stdout.contains("vlan 100"), "\(capture.stdout)")
            #expect(capture.stdout.contains(lab.vmMAC(1)), "\(capture.stdout)")
        }
        // `lab down` killed QEMU before deleting the namespaces: nothing is left.
        #expect(!Lab.exists(name: labName))
        #expect(QEMUGuest.findGuests(lab: labName).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: QEMUGuest.stateDirectory(lab: labName)))
        print("QEMU test took \(Int(Date().timeIntervalSince(started))) s")
    }
}

/// The tap's flags, operstate and master from `ip -j link show` in its namespace.
private func tapState(_ namespace: String, _ device: String) throws -> (flags: [String], operstate: String, master: String?) {
    let json = try run(["ip", "-n", namespace, "-j", "link", "show", "dev", device])
    let links = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
    let link = try #require(links?.first)
    return (link["flags"] as? [String] ?? [], link["operstate"] as? String ?? "", link["master"] as? String)
}

private func ipLinkJSON(_ namespace: String, _ device: String) throws -> String {
    try run(["ip", "-n", namespace, "-j", "-d", "link", "show", "dev", device])
}

/// Like `requireRoot`: QEMU, a Debian kernel and busybox-static must be installed; under
/// CI=true their absence fails the test instead of skipping it.
func requireQEMU(sourceLocation: SourceLocation = #_sourceLocation) throws {
    var missing: [String] = []
    if Executable.find("qemu-system-x86_64") == nil { missing.append("qemu-system-x86") }
    if (try? GuestInitramfs.findKernel()) == nil { missing.append("linux-image-amd64") }
    if (try? GuestInitramfs.checkBusybox()) == nil { missing.append("busybox-static") }
    guard !missing.isEmpty else { return }
    let message = "needs \(missing.joined(separator: ", ")) (run scripts/setup)"
    if ProcessInfo.processInfo.environment["CI"] == "true" {
        throw QEMUMissing(description: message)
    }
    try Test.cancel(Comment(rawValue: message), sourceLocation: sourceLocation)
}

private struct QEMUMissing: Error, CustomStringConvertible {
    var description: String
}
