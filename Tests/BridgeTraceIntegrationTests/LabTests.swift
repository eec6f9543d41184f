import BridgeTraceCore
import Foundation
import Testing

@testable import BridgeTraceLab
import BridgeTraceProcess

/// Real labs in network namespaces: needs root. Serialized so that the pings and counters of
/// one test do not share the machine's attention with another lab being built.
@Suite("Lab", .serialized)
struct LabTests {
    @Test func upPingsAndDownTwice() throws {
        try requireRoot()
        let name = TestLab.uniqueName()
        defer { _ = try? Lab.down(name: name) }
        let lab = try LabTopology(name: name, vms: 2)

        let up = try BridgeTraceBinary.run(["lab", "up", "--name", name, "--vms", "2"])
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stdout.contains("lab \(name) is up: bridge br0 in netns \(name)-br"))
        #expect(up.stdout.contains("198.18.0.11  52:54:00:00:00:01  netns \(name)-vm1  (port vm1)"))
        for namespace in lab.namespaces {
            #expect(netnsExists(namespace), "\(namespace) missing")
        }

        for target in [lab.gatewayIP, lab.vmIP(2), lab.hostIP] {
            try exec(inNetns: lab.vmNamespace(1), ["ping", "-c", "2", "-W", "1", target])
        }
        let vmLink = try exec(inNetns: lab.vmNamespace(1), ["ip", "-br", "link", "show", "eth0"])
        #expect(vmLink.contains(lab.vmMAC(1)))

        let down = try BridgeTraceBinary.run(["lab", "down", "--name", name])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(down.stdout.contains("removed netns \(name)-br, \(name)-vm1, \(name)-vm2, \(name)-lan"))
        let again = try BridgeTraceBinary.run(["lab", "down", "--name", name])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("nothing to remove"))
        #expect(Lab.namespaces(name: name).isEmpty)
        #expect(!(try run(["ip", "netns", "list"])).contains(name))
    }

    @Test func upTwiceSaysToRunDown() throws {
        try requireRoot()
        let name = TestLab.uniqueName()
        defer { _ = try? Lab.down(name: name) }

        let first = try BridgeTraceBinary.run(["lab", "up", "--name", name, "--vms", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try BridgeTraceBinary.run(["lab", "up", "--name", name, "--vms", "1"])
        #expect(second.status == 2)
        #expect(second.stderr.hasPrefix("bridgetrace: lab \(name) already exists"))
        #expect(second.stderr.contains("bridgetrace lab down --name \(name)"))
        // The failed second `up` must not have removed the first lab.
        #expect(Lab.namespaces(name: name).count == 3)
    }

    @Test func statusShowsPortsOrSaysNotUp() throws {
        try requireRoot()
        let name = TestLab.uniqueName()
        let notUp = try BridgeTraceBinary.run(["lab", "status", "--name", name])
        #expect(notUp.status == 1)
        #expect(notUp.stdout.contains("lab \(name) is not up"))

        try TestLab.with(vms: 2) { lab in
            let status = try BridgeTraceBinary.run(["lab", "status", "--name", lab.name])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("lab \(lab.name) is up"))

            let model = try #require(try Lab.status(name: lab.name))
            #expect(model.isComplete)
            let ports = model.interfaces.filter { $0.namespace == lab.bridgeNamespace && $0.master == "br0" }
            #expect(Set(ports.map(\.name)) == Set(lab.bridgePorts))
            #expect(ports.allSatisfy { $0.portState == "forwarding" && $0.state == "UP" })
            let vm2 = try #require(model.interfaces.first { $0.namespace == lab.vmNamespace(2) })
            #expect(vm2.mac == lab.vmMAC(2) && vm2.addresses == [lab.cidr(lab.vmIP(2))])

            // A lab with a namespace gone is reported, and status exits 1.
            try run(["ip", "netns", "del", lab.vmNamespace(2)])
            let broken = try BridgeTraceBinary.run(["lab", "status", "--name", lab.name])
            #expect(broken.status == 1)
            #expect(broken.stdout.contains("netns \(lab.vmNamespace(2)) missing"))
        }
    }

    @Test func failedUpRemovesWhatItCreated() throws {
        try requireRoot()
        let lab = try LabTopology(name: TestLab.uniqueName(), vms: 2)
        defer { _ = try? Lab.down(name: lab.name) }

        let error = #expect(throws: UserError.self) {
            try Lab.up(lab, options: LabOptions(), runner: FailingRunner(failOn: ["link", "add", "uplink"]))
        }
        #expect(error?.message.contains("injected failure") == true)
        #expect(error?.message.contains("Removed the namespaces it had created") == true)
        #expect(Lab.namespaces(name: lab.name).isEmpty)
    }

    /// With IPv6 off nothing talks on its own, so counter tests can expect exact numbers.
    @Test func freshLabIsQuiet() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            // A watch window, so a sleep: nothing may be sent during it.
            Thread.sleep(forTimeInterval: 1)
            for port in lab.bridgePorts {
                let counters = try LinkCounters.read(port, inNetns: lab.bridgeNamespace)
                #expect(counters.rxPackets == 0 && counters.txPackets == 0, "\(port): \(counters)")
            }
            let sysctl = try exec(inNetns: lab.vmNamespace(1), ["sysctl", "-n", "net.ipv6.conf.eth0.disable_ipv6"])
            #expect(sysctl.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        }
    }

    @Test func ipv6OptionKeepsIPv6() throws {
        try requireRoot()
        try TestLab.with(vms: 1, options: LabOptions(ipv6: true)) { lab in
            let sysctl = try exec(inNetns: lab.vmNamespace(1), ["sysctl", "-n", "net.ipv6.conf.eth0.disable_ipv6"])
            #expect(sysctl.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }

    /// Validates the injector: every frame it reports must show up as rx on the VM's bridge
    /// port, and, all being broadcast, be flooded out of the uplink.
    @Test func injectedFramesArriveAtTheBridge() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            let port = lab.vmPort(1)
            let before = try LinkCounters.read(port, inNetns: lab.bridgeNamespace)
            let uplinkBefore = try LinkCounters.read(lab.uplinkPort, inNetns: lab.bridgeNamespace)

            let report = try Injector.send(
                in: lab.vmNamespace(1), arpRequests: 3, arpTarget: lab.gatewayIP,
                vlanARP: [(vid: 100, count: 2), (vid: 200, count: 1)], dhcpDiscovers: 2,
                ethertypes: [(type: 0x88b5, count: 4)], qinq: [(outer: 100, inner: 200, count: 2)])

            #expect(report.total == 14)
            #expect(report.count(of: "vlan_arp") == 3)
            #expect(report.sourceMAC == lab.vmMAC(1))
            #expect(report.sourceIP == lab.vmIP(1))
            let arrived = try LinkCounters.read(port, inNetns: lab.bridgeNamespace).since(before)
            #expect(arrived.rxPackets == report.total)
            let flooded = try LinkCounters.read(lab.uplinkPort, inNetns: lab.bridgeNamespace).since(uplinkBefore)
            #expect(flooded.txPackets == report.total)
        }
    }
}

/// Runs commands for real, but fails the first one containing all of `failOn`, in order.
private struct FailingRunner: CommandRunning {
    var failOn: [String]

    func run(_ arguments: [String]) throws -> String {
        let joined = arguments.joined(separator: " ")
        if joined.contains(failOn.joined(separator: " ")) {
            throw UserError("`\(joined)` failed: injected failure")
        }
        return try CommandRunner().run(arguments)
    }
}
