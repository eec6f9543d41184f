import Foundation
import Testing

@testable import BridgeTraceCore

/// VM names from what libvirt and QEMU leave on a host, recorded from real runs in
/// VMRecordings/: libvirt 9.0's live status file of a running domain (Debian 12,
/// /run/libvirt/qemu/bt-web-01.xml) and that QEMU's /proc/PID/cmdline, and a QEMU started
/// by hand with `-netdev tap,ifname=` and `-nic tap,ifname=`.
@Suite struct VMNamesTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("VMRecordings")

    func recording(_ name: String) throws -> Data {
        try Data(contentsOf: Self.directory.appendingPathComponent(name))
    }

    @Test func libvirtLiveStatusFile() throws {
        let xml = String(decoding: try recording("libvirt-bt-web-01.xml"), as: UTF8.self)
        // Its disks, serial port and console have <target> elements too: only <interface>'s count.
        #expect(LibvirtDomainXML.parse(xml) == VMInterfaces(name: "bt-web-01", pid: 22621, interfaces: ["btlvtap0"]))
    }

    @Test func libvirtPassesTapsAsFileDescriptorsSoItsCommandLineNamesNone() throws {
        let cmdline = try recording("libvirt-bt-web-01.cmdline")
        #expect(QEMUCommandLine.parse(cmdline: Array(cmdline), pid: 22621) == nil)
    }

    @Test func qemuStartedByHand() throws {
        let cmdline = try recording("qemu-web-02.cmdline")
        #expect(QEMUCommandLine.parse(cmdline: Array(cmdline), pid: 4242)
            == VMInterfaces(name: "web-02", pid: 4242, interfaces: ["tap-web02", "tap-web02b"]))
    }

    @Test func theLabsOwnQEMUGuest() {
        // QEMUGuest.arguments, as `ip netns exec` leaves them once it has exec'd QEMU.
        let arguments = ["/usr/bin/qemu-system-x86_64", "-name", "bridgetrace-lab-lab-vm1", "-accel", "tcg", "-m", "256",
                         "-nodefaults", "-no-reboot", "-nographic", "-monitor", "none",
                         "-netdev", "tap,id=n0,ifname=vm1,script=no,downscript=no",
                         "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,romfile="]
        #expect(QEMUCommandLine.parse(arguments: arguments)?.name == "bridgetrace-lab-lab-vm1")
        #expect(QEMUCommandLine.parse(arguments: arguments)?.interfaces == ["vm1"])
    }

    @Test func qemuOptionSyntax() {
        func parse(_ arguments: [String]) -> VMInterfaces? { QEMUCommandLine.parse(arguments: ["qemu-system-x86_64"] + arguments) }
        // A doubled comma is a comma in the value; --name works like -name.
        #expect(parse(["--name", "guest=a,,b,debug-threads=on", "-netdev", "type=tap,ifname=t0"])
            == VMInterfaces(name: "a,b", interfaces: ["t0"]))
        // QEMU's JSON form, with escapes; `-net tap` (legacy).
        #expect(parse(["-name", "db", "-netdev", #"{"type":"tap","id":"n0","ifname":"tap\u002ddb","vhost":true}"#,
                       "-net", "tap,ifname=t1"])
            == VMInterfaces(name: "db", interfaces: ["tap-db", "t1"]))
        // Not a tap, no ifname, no name, not QEMU.
        #expect(parse(["-name", "x", "-netdev", "user,id=n0"]) == nil)
        #expect(parse(["-name", "x", "-netdev", #"{"type":"tap","fd":"30","id":"hostnet0"}"#]) == nil)
        #expect(parse(["-netdev", "tap,ifname=t0"]) == nil)
        #expect(QEMUCommandLine.parse(arguments: ["ip", "netns", "exec", "ns", "qemu-system-x86_64", "-name", "x",
                                                 "-netdev", "tap,ifname=t0"]) == nil)
    }

    @Test func plainDomainXMLWithEntitiesAndComments() {
        let xml = """
            <?xml version="1.0"?>
            <!-- <name>not-this</name> -->
            <domain type="kvm">
              <name>web &amp; db</name>
              <metadata><app><name>not-this-either</name></app></metadata>
              <devices>
                <disk type='file'><target dev='vda' bus='virtio'/></disk>
                <interface type="direct"><source dev="eth1" mode="bridge"/><target dev="macvtap0"/></interface>
                <interface type='network'><target dev='vnet&#51;'></target></interface>
                <interface type='user'/>
              </devices>
            </domain>
            """
        #expect(LibvirtDomainXML.parse(xml) == VMInterfaces(name: "web & db", pid: nil, interfaces: ["macvtap0", "vnet3"]))
        #expect(LibvirtDomainXML.parse("<domstatus state='shutoff'/>") == nil)
        #expect(LibvirtDomainXML.parse("<domain><name>half") == nil)
    }

    @Test func labelsAndMerging() {
        let libvirt = VMInterfaces(name: "web-01", pid: 1, interfaces: ["vnet3"])
        let byHand = VMInterfaces(name: "other", pid: 2, interfaces: ["vnet3", "tap9"])
        let names = VMNames([libvirt, byHand])
        #expect(names.byPort == ["vnet3": "web-01", "tap9": "other"])
        #expect(names.label("vnet3") == "vnet3 (web-01)")
        #expect(names.label("uplink") == "uplink")
        #expect(VMNames(byPort: ["vnet3": "new"]).merging(names).byPort == ["vnet3": "new", "tap9": "other"])
    }

    @Test func countersTableAndJSONNameTheVM() throws {
        var snapshot = CountersSnapshot(time: 1_795_262_400, bridge: "br0", netns: nil,
                                        ports: [PortCounters(port: "uplink", ifindex: 2), PortCounters(port: "vnet3", ifindex: 9)])
        snapshot.vms = VMNames(byPort: ["vnet3": "web-01"])
        let line = CountersJSON.line(for: snapshot)
        #expect(line.contains(#"{"port": "uplink", "ifindex": 2, "rx": "#))
        #expect(line.contains(#"{"port": "vnet3", "vm": "web-01", "ifindex": 9, "rx": "#))
        let table = CountersTable.render(snapshot, previous: nil, elapsed: 1).split(separator: "\n").map(String.init)
        #expect(table[1].hasPrefix("port            dir  fps  frames"))
        #expect(table[4].hasPrefix("vnet3 (web-01)  rx     0       0"))
        #expect(table[5].hasPrefix("vnet3 (web-01)  tx     0       0"))
    }

    @Test func dropsNameTheVM() {
        let snapshot = DropsSnapshot(time: 1_795_262_400, bridge: "br0", netns: nil,
                                     drops: [DropCount(port: "vnet3", ifindex: 9, reason: "NETFILTER_DROP", location: "nft_do_chain", count: 4)],
                                     vms: VMNames(byPort: ["vnet3": "web-01"]))
        #expect(DropsReport.jsonLine(snapshot, previous: nil, elapsed: 1)
            .contains(#"{"port": "vnet3", "vm": "web-01", "ifindex": 9, "reason": "NETFILTER_DROP""#))
        #expect(DropsReport.table(snapshot, previous: nil, elapsed: 1).contains("\nvnet3 (web-01)  NETFILTER_DROP  nft_do_chain"))
    }

    @Test func diagnoseNamesTheVMOfAFindingsPort() {
        let finding = Finding(cause: .portDown, port: "vnet3", severity: .error, summary: "s", evidence: [], fix: "f")
        let vms = VMNames(byPort: ["vnet3": "web-01"])
        #expect(DiagnoseJSON.value(bridge: "br0", findings: [finding], vms: vms).rendered()
            .contains(#"{"cause": "port_down", "port": "vnet3", "vm": "web-01", "severity": "error""#))
        #expect(DiagnoseText.render(bridge: "br0", findings: [finding], durationSeconds: 1, frames: 0, drops: 0, vms: vms)
            .contains("\nERROR port_down at vnet3 (web-01)\n"))
    }
}
