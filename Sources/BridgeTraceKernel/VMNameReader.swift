import BridgeTraceCore
import Foundation

/// Names the VMs whose NICs are ports here, from libvirt's live domain files
/// (/run/libvirt/qemu/NAME.xml) and, for QEMU started without libvirt, from QEMU command
/// lines (/proc/PID/cmdline). libvirt is asked first: its command lines pass taps as file
/// descriptors. Only VMs whose QEMU runs in the calling thread's network namespace count,
/// since a tap belongs to the namespace it was made in.
///
/// Keep one reader for a run: it parses a domain file again only when the file changed, and
/// rescans /proc only when the ports asked about change (a VM started) or every
/// `processRescanSeconds`.
public final class VMNameReader {
    static let libvirtDirectory = "/run/libvirt/qemu"
    static let processRescanSeconds: Double = 30

    private struct FileStamp: Equatable {
        var inode: UInt64
        var size: Int64
        var mtime: Int64
        var mtimeNs: Int64
    }

    private var domains: [String: (stamp: FileStamp, vm: VMInterfaces?)] = [:]
    private var processes: [VMInterfaces] = []
    private var scannedPorts: Set<String>?
    private var scannedAt: Double = 0

    public init() {}

    /// The VM of each of `ports` that has one.
    public func read(ports: [String]) -> VMNames {
        let wanted = Set(ports)
        let now = Date().timeIntervalSince1970
        if scannedPorts != wanted || now - scannedAt >= Self.processRescanSeconds {
            processes = Self.qemuProcesses()
            scannedPorts = wanted
            scannedAt = now
        }
        let here = NetworkNamespace.currentInode()
        let vms = (libvirtDomains() + processes).filter { vm in
            vm.interfaces.contains(where: wanted.contains) && Self.runs(vm, inNamespace: here)
        }
        return VMNames(byPort: VMNames(vms).byPort.filter { wanted.contains($0.key) })
    }

    /// Every running libvirt QEMU domain; a file that did not change is not parsed again.
    private func libvirtDomains() -> [VMInterfaces] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: Self.libvirtDirectory)) ?? [])
            .filter { $0.hasSuffix(".xml") }.sorted()
        var seen: [String: (stamp: FileStamp, vm: VMInterfaces?)] = [:]
        for file in files {
            let path = "\(Self.libvirtDirectory)/\(file)"
            guard let stamp = Self.stamp(path) else { continue }
            if let cached = domains[path], cached.stamp == stamp {
                seen[path] = cached
            } else if let data = FileManager.default.contents(atPath: path) {
                seen[path] = (stamp, LibvirtDomainXML.parse(String(decoding: data, as: UTF8.self)))
            }
        }
        domains = seen
        return files.compactMap { seen["\(Self.libvirtDirectory)/\($0)"]?.vm }
    }

    /// QEMU processes that name their taps on the command line.
    private static func qemuProcesses() -> [VMInterfaces] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> VMInterfaces? in
            guard let pid = Int32(entry), let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else {
                return nil
            }
            return QEMUCommandLine.parse(cmdline: Array(cmdline), pid: pid)
        }.sorted { ($0.pid ?? 0) < ($1.pid ?? 0) }
    }

    /// Whether `vm`'s QEMU runs in the namespace with inode `here`. A QEMU that exited is
    /// not running (libvirt may leave a status file behind when it dies). When its namespace
    /// cannot be read (no CAP_SYS_PTRACE: the exporter under systemd), the tap's name alone
    /// decides: taps of the same name in two namespaces are rare.
    private static func runs(_ vm: VMInterfaces, inNamespace here: UInt64) -> Bool {
        guard let pid = vm.pid, pid > 0 else { return false }
        var info = stat()
        if stat("/proc/\(pid)/ns/net", &info) == 0 { return UInt64(info.st_ino) == here }
        let code = errno
        return code != ENOENT && code != ESRCH && FileManager.default.fileExists(atPath: "/proc/\(pid)")
    }

    private static func stamp(_ path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStamp(inode: UInt64(info.st_ino), size: Int64(info.st_size), mtime: Int64(info.st_mtim.tv_sec),
                         mtimeNs: Int64(info.st_mtim.tv_nsec))
    }
}
