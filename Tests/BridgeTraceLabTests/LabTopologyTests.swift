import BridgeTraceCore
import Foundation
import Testing

@testable import BridgeTraceLab

/// The lab's address plan and parsing: pure, no root needed.
@Suite("LabTopology")
struct LabTopologyTests {
    @Test func namesAddressesAndMACs() throws {
        let lab = try LabTopology(name: "btlab", vms: 16)
        #expect(lab.bridgeNamespace == "btlab-br")
        #expect(lab.bridgeName == "br0")
        #expect(lab.hostIP == "198.18.0.2")
        #expect(lab.bridgeMAC == "52:54:00:00:00:fd")
        #expect(lab.vmNamespace(2) == "btlab-vm2")
        #expect(lab.vmPort(2) == "vm2")
        #expect(lab.vmIP(2) == "198.18.0.12")
        #expect(lab.vmMAC(2) == "52:54:00:00:00:02")
        #expect(lab.vmMAC(16) == "52:54:00:00:00:10")
        #expect(lab.vmPortMAC(16) == "52:54:00:00:01:10")
        #expect(lab.vmIP(16) == "198.18.0.26")
        #expect(lab.lanNamespace == "btlab-lan")
        #expect(lab.uplinkPort == "uplink")
        #expect(lab.gatewayIP == "198.18.0.1")
        #expect(lab.gatewayMAC == "52:54:00:00:00:fe")
        #expect(lab.cidr(lab.vmIP(1)) == "198.18.0.11/24")
        #expect(lab.vm(3) == LabTopology.Host(
            label: "vm3", namespace: "btlab-vm3", interface: "eth0", port: "vm3",
            ip: "198.18.0.13", mac: "52:54:00:00:00:03", portMAC: "52:54:00:00:01:03"))
        #expect(lab.bridgePorts.first == "vm1" && lab.bridgePorts.last == "uplink")
        #expect(lab.namespaces.count == 18)
    }

    @Test func defaults() throws {
        let lab = try LabTopology()
        #expect(lab.name == "btlab")
        #expect(lab.namespaces == ["btlab-br", "btlab-vm1", "btlab-vm2", "btlab-lan"])
    }

    @Test(arguments: ["", "Btlab", "1lab", "lab-", "lab_x", "lab/x", "averyveryverylongname1"])
    func rejectsBadNames(_ name: String) {
        #expect(throws: UserError.self) { try LabTopology(name: name, vms: 2) }
    }

    @Test(arguments: [0, -1, 17])
    func rejectsBadVMCounts(_ vms: Int) {
        #expect(throws: UserError.self) { try LabTopology(name: "btlab", vms: vms) }
    }

    @Test func ownsOnlyExactSuffixes() {
        #expect(LabTopology.owns(namespace: "lab-br", labName: "lab"))
        #expect(LabTopology.owns(namespace: "lab-lan", labName: "lab"))
        #expect(LabTopology.owns(namespace: "lab-vm12", labName: "lab"))
        #expect(!LabTopology.owns(namespace: "lab-x-br", labName: "lab"))  // lab "lab-x"'s
        #expect(!LabTopology.owns(namespace: "lab-vm", labName: "lab"))
        #expect(!LabTopology.owns(namespace: "lab-vm01", labName: "lab"))
        #expect(!LabTopology.owns(namespace: "lab-vm1x", labName: "lab"))
        #expect(!LabTopology.owns(namespace: "lab2-br", labName: "lab"))
        #expect(LabTopology.vmIndex(ofNamespace: "lab-vm7", labName: "lab") == 7)
    }

    @Test func summaryListsEveryHost() throws {
        let summary = try LabTopology(name: "btlab", vms: 2).summary
        #expect(summary.hasPrefix("lab btlab is up: bridge br0 in netns btlab-br\n"))
        #expect(summary.contains("  vm2      198.18.0.12  52:54:00:00:00:02  netns btlab-vm2  (port vm2)"))
        #expect(summary.contains("  gateway  198.18.0.1   52:54:00:00:00:fe  netns btlab-lan  (port uplink)"))
        #expect(summary.hasSuffix("try: bridgetrace counters br0 --netns btlab-br"))
    }

    @Test func parsesBridgePortState() throws {
        let json = """
            [{"ifname":"lo","operstate":"UNKNOWN","address":"00:00:00:00:00:00","addr_info":[]},
             {"ifname":"br0","operstate":"UP","address":"52:54:00:00:00:fd",
              "ifalias":"bridgetrace lab, vms=2","linkinfo":{"info_kind":"bridge"},
              "addr_info":[{"family":"inet","local":"198.18.0.2","prefixlen":24}]},
             {"ifname":"vm1","operstate":"UP","address":"52:54:00:00:01:01","master":"br0",
              "linkinfo":{"info_kind":"veth","info_slave_kind":"bridge",
                          "info_slave_data":{"state":"forwarding"}},"addr_info":[]}]
            """
        let (interfaces, alias) = try LabStatus.parseInterfaces(json, namespace: "btlab-br")
        #expect(alias.flatMap(LabStatus.vmCount(fromAlias:)) == 2)
        #expect(interfaces.map(\.name) == ["br0", "vm1"])
        #expect(interfaces[0].addresses == ["198.18.0.2/24"])
        #expect(interfaces[0].portState == nil)
        #expect(interfaces[1].master == "br0")
        #expect(interfaces[1].portState == "forwarding")
    }
}
