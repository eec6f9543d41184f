import BridgeTraceProcess
import Foundation
import Testing

@testable import BridgeTraceLab

/// A real libvirt host in miniature: Debian's libvirtd (with virtlogd) running a transient
/// QEMU (TCG) domain booted from the lab's guest kernel and initramfs, its
/// `<interface type='bridge'>` a tap on a test bridge in the root namespace. The bridge has
/// no other port and no address, so nothing reaches eth0. The daemons are started here and
/// stopped, the domain destroyed, the bridge and libvirt's log of the domain removed, on
/// every exit path (they also stop by themselves after `deadline` seconds, should the test
/// process be killed).
struct LibvirtHost {
    let name: String
    let directory: String
    var bridge: String { "\(name)lv" }
    var tap: String { "\(name)t0" }
    var domain: String { "\(name)-web-01" }

    static let deadline = 300

    static func with<T>(_ body: (LibvirtHost) throws -> T) throws -> T {
        let name = TestLab.uniqueName()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-libvirt").path
        let host = LibvirtHost(name: name, directory: directory)
        var daemons: [ChildProcess] = []
        defer { host.tearDown(daemons) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // QEMU runs as libvirt-qemu: it must reach the kernel and initramfs.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        daemons = try startDaemons(logDirectory: directory)
        try run(["ip", "link", "add", host.bridge, "type", "bridge", "stp_state", "0", "mcast_snooping", "0"])
        try run(["ip", "link", "set", host.bridge, "up"])
        try host.startDomain()
        return try body(host)
    }

    /// libvirtd refuses a second copy of itself: a libvirtd that already answers is used and
    /// left running. Ours would start every network defined to autostart, and such a network
    /// (libvirt's "default") puts NAT on the machine's uplink, so a host with one is refused.
    private static func startDaemons(logDirectory: String) throws -> [ChildProcess] {
        if try runResult(["virsh", "-c", "qemu:///system", "version"]).succeeded { return [] }
        let autostart = (try? FileManager.default.contentsOfDirectory(atPath: "/etc/libvirt/qemu/networks/autostart")) ?? []
        guard autostart.isEmpty else {
            throw LibvirtUnavailable("libvirt would autostart networks \(autostart) (NAT on the uplink); not starting libvirtd here")
        }
        var daemons: [ChildProcess] = []
        do {
            for daemon in ["virtlogd", "libvirtd"] {
                let log = "\(logDirectory)/\(daemon).log"
                daemons.append(try ChildProcess(["timeout", String(deadline), daemon], stdout: .file(log), stderr: .file(log)))
                if daemon == "virtlogd" { continue }
                let deadline = Date().addingTimeInterval(60)
                while !(try runResult(["virsh", "-c", "qemu:///system", "version"]).succeeded) {
                    guard Date() < deadline else {
                        let log = (try? String(contentsOfFile: "\(logDirectory)/libvirtd.log", encoding: .utf8)) ?? ""
                        throw LibvirtUnavailable("libvirtd did not answer within 60 s: \(log.suffix(2000))")
                    }
                    Thread.sleep(forTimeInterval: 0.2)
                }
            }
        } catch {
            daemons.reversed().forEach { _ = $0.stop() }
            throw error
        }
        return daemons
    }

    /// A transient domain (gone from libvirt once destroyed): the lab guest's kernel and
    /// initramfs, one virtio NIC on the test bridge with a tap named by us.
    private func startDomain() throws {
        let initramfs = try GuestInitramfs.prepare()
        let kernel = "\(directory)/vmlinuz", initrd = "\(directory)/initrd.cpio"
        for (from, to) in [(initramfs.kernel.image, kernel), (initramfs.path, initrd)] {
            try FileManager.default.copyItem(atPath: from, toPath: to)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: to)
        }
        let xml = """
            <domain type='qemu'>
              <name>\(domain)</name>
              <memory unit='MiB'>256</memory>
              <vcpu>1</vcpu>
              <os>
                <type arch='x86_64' machine='pc'>hvm</type>
                <kernel>\(kernel)</kernel>
                <initrd>\(initrd)</initrd>
                <cmdline>console=ttyS0 quiet panic=-1 ipv6.disable=1 bt.name=web01 bt.ip=198.18.0.99/24</cmdline>
              </os>
              <on_reboot>destroy</on_reboot>
              <devices>
                <interface type='bridge'>
                  <source bridge='\(bridge)'/>
                  <target dev='\(tap)'/>
                  <mac address='52:54:00:bb:00:01'/>
                  <model type='virtio'/>
                  <rom enabled='no'/>
                </interface>
                <serial type='file'><source path='\(directory)/serial.log'/></serial>
                <memballoon model='none'/>
              </devices>
            </domain>
            """
        try xml.write(toFile: "\(directory)/domain.xml", atomically: true, encoding: .utf8)
        try run(["virsh", "-c", "qemu:///system", "create", "\(directory)/domain.xml"])
    }

    /// The running domain's QEMU, from libvirt's pid file.
    var qemuPid: Int32? {
        (try? String(contentsOfFile: "/run/libvirt/qemu/\(domain).pid", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private func tearDown(_ daemons: [ChildProcess]) {
        let pid = qemuPid
        _ = try? runResult(["virsh", "-c", "qemu:///system", "destroy", domain])
        // A domain libvirt could not destroy (the daemon died): its QEMU goes anyway.
        if let pid, (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.contains("guest=\(domain),") == true {
            kill(pid, SIGKILL)
        }
        daemons.reversed().forEach { _ = $0.stop() }
        _ = try? runResult(["ip", "link", "del", tap])
        _ = try? runResult(["ip", "link", "del", bridge])
        try? FileManager.default.removeItem(atPath: "/var/log/libvirt/qemu/\(domain).log")
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct LibvirtUnavailable: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// libvirtd, virtlogd and virsh (Debian's libvirt-daemon-system, libvirt-clients; scripts/setup
/// installs them). Missing: the test is skipped, or fails when CI=true.
func requireLibvirt(sourceLocation: SourceLocation = #_sourceLocation) throws {
    let missing = ["libvirtd", "virtlogd", "virsh", "qemu-system-x86_64"].filter { Executable.find($0) == nil }
    guard !missing.isEmpty else { return }
    let message = "needs libvirt and QEMU (missing: \(missing.joined(separator: ", "))); scripts/setup installs them"
    if ProcessInfo.processInfo.environment["CI"] == "true" { throw LibvirtUnavailable(message) }
    try Test.cancel(Comment(rawValue: message), sourceLocation: sourceLocation)
}
