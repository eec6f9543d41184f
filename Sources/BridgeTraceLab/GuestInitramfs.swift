import BridgeTraceCore
import BridgeTraceProcess
import Foundation

/// The initramfs a lab guest boots: Debian's static busybox, the virtio network and 802.1Q
/// modules of the guest kernel (with their dependencies, decompressed), and `GuestInitScript`.
/// Built once per kernel and cached under /var/cache/bridgetrace; the cache file's name holds
/// a hash of every input, so a new busybox, kernel package or init script builds a new one.
///
/// Everything comes from Debian packages: `linux-image-amd64` (the kernel in /boot and its
/// modules in /lib/modules), `busybox-static`.
struct GuestInitramfs {
    /// The guest kernel: /boot/vmlinuz-VERSION with /lib/modules/VERSION next to it.
    struct Kernel: Sendable, Equatable {
        var version: String
        var image: String
        var modulesDirectory: String { "/lib/modules/\(version)" }
    }

    static let cacheDirectory = "/var/cache/bridgetrace"
    static let busybox = "/bin/busybox"
    /// What the guest needs: a virtio NIC on PCI, and VLAN sub-interfaces.
    static let wantedModules = ["virtio_pci", "virtio_net", "8021q"]
    /// Bump when the archive layout changes in a way the inputs' hash would not show.
    static let formatVersion = 1

    let kernel: Kernel
    /// The archive's path in the cache.
    let path: String

    /// The cached initramfs for the newest usable kernel, building it when it is missing.
    static func prepare() throws -> GuestInitramfs {
        let kernel = try findKernel()
        let modules = try moduleLoadOrder(kernel: kernel)
        try checkBusybox()
        let script = GuestInitScript.text(modules: modules.map(\.archiveName))
        var key = "v\(formatVersion)\n\(kernel.version)\n\(script)\n\(fileStamp(busybox))\n"
        for module in modules { key += "\(module.path) \(fileStamp(module.path))\n" }
        let hash = String(fnv1a(key), radix: 16)
        let path = "\(cacheDirectory)/guest-\(kernel.version)-\(hash).cpio"
        if !FileManager.default.fileExists(atPath: path) {
            try build(into: path, kernel: kernel, modules: modules, script: script)
        }
        return GuestInitramfs(kernel: kernel, path: path)
    }

    // MARK: Kernel

    /// The newest /boot/vmlinuz-* whose modules directory has virtio_net. The host's running
    /// kernel does not matter: the guest only needs Debian's kernel package installed.
    static func findKernel() throws -> Kernel {
        let images = ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? [])
            .filter { $0.hasPrefix("vmlinuz-") }
        let kernels = images.map { Kernel(version: String($0.dropFirst("vmlinuz-".count)), image: "/boot/\($0)") }
            .filter { FileManager.default.fileExists(atPath: "\($0.modulesDirectory)/modules.dep") }
            .sorted { $0.version.compare($1.version, options: .numeric) == .orderedDescending }
        for kernel in kernels where FileManager.default.isReadableFile(atPath: kernel.image) {
            if (try? moduleLoadOrder(kernel: kernel)) != nil { return kernel }
        }
        throw UserError(
            "no guest kernel for QEMU: need /boot/vmlinuz-VERSION and /lib/modules/VERSION with virtio_net; "
                + "install Debian's kernel package: apt-get install linux-image-amd64 (scripts/setup does)")
    }

    // MARK: Modules

    struct Module: Equatable {
        /// Absolute path in the host's /lib/modules, possibly .ko.xz / .ko.zst / .ko.gz.
        var path: String
        /// Module name with '_' ("virtio_net").
        var name: String
        /// Its name inside the archive's /lib/modules, always uncompressed: "virtio_net.ko".
        var archiveName: String { "\(name).ko" }
    }

    /// `wantedModules` and everything they depend on, each after its dependencies, read from
    /// the kernel's modules.dep. Modules built into the kernel are left out.
    static func moduleLoadOrder(kernel: Kernel) throws -> [Module] {
        let dir = kernel.modulesDirectory
        let depText = try String(contentsOfFile: "\(dir)/modules.dep", encoding: .utf8)
        var deps: [String: [String]] = [:]  // module name -> dependency names
        var paths: [String: String] = [:]  // module name -> absolute path
        for line in depText.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let file = String(line[..<colon])
            let name = moduleName(file)
            paths[name] = file.hasPrefix("/") ? file : "\(dir)/\(file)"
            deps[name] = line[line.index(after: colon)...].split(separator: " ").map { moduleName(String($0)) }
        }
        let builtin = Set(
            ((try? String(contentsOfFile: "\(dir)/modules.builtin", encoding: .utf8)) ?? "")
                .split(separator: "\n").map { moduleName(String($0)) })
        var order: [Module] = []
        var visiting: Set<String> = []
        func visit(_ name: String) throws {
            guard !order.contains(where: { $0.name == name }), !visiting.contains(name) else { return }
            if builtin.contains(name) && paths[name] == nil { return }
            guard let path = paths[name] else {
                throw UserError("kernel \(kernel.version) has no module \(name) in \(dir)")
            }
            visiting.insert(name)
            for dep in deps[name] ?? [] { try visit(dep) }
            visiting.remove(name)
            order.append(Module(path: path, name: name))
        }
        for name in wantedModules { try visit(name) }
        return order
    }

    /// "kernel/net/8021q/8021q.ko.xz" -> "8021q"; "virtio-net" -> "virtio_net".
    static func moduleName(_ file: String) -> String {
        var base = Substring(file.split(separator: "/").last ?? "")
        for suffix in [".xz", ".zst", ".gz"] where base.hasSuffix(suffix) { base = base.dropLast(suffix.count) }
        if base.hasSuffix(".ko") { base = base.dropLast(3) }
        return base.replacingOccurrences(of: "-", with: "_")
    }

    /// The module's bytes, uncompressed: busybox insmod passes them to init_module as they are.
    static func moduleContents(_ module: Module) throws -> Data {
        let tool: [String]? =
            module.path.hasSuffix(".xz") ? ["xz", "-dc"]
            : module.path.hasSuffix(".zst") ? ["zstd", "-dcq"]
            : module.path.hasSuffix(".gz") ? ["gzip", "-dc"] : nil
        guard let tool else {
            guard let data = FileManager.default.contents(atPath: module.path) else {
                throw UserError("cannot read \(module.path)")
            }
            return data
        }
        return try decompress(tool + [module.path])
    }

    private static func decompress(_ arguments: [String]) throws -> Data {
        guard Executable.find(arguments[0]) != nil else {
            throw UserError("cannot find '\(arguments[0])' to decompress \(arguments.last!); install it")
        }
        let output = try CommandRunner.capture(arguments)
        guard output.status == 0, !output.stdout.isEmpty else {
            throw UserError("`\(arguments.joined(separator: " "))` failed with status \(output.status)")
        }
        return Data(output.stdout)
    }

    // MARK: Busybox

    /// The guest has no libc, so busybox must be the static one (package busybox-static; the
    /// `busybox` package installs a dynamic binary at the same path).
    static func checkBusybox() throws {
        guard let data = FileManager.default.contents(atPath: busybox) else {
            throw UserError("no \(busybox): install Debian's busybox-static (apt-get install busybox-static)")
        }
        guard !hasInterpreter(elf: data) else {
            throw UserError(
                "\(busybox) is dynamically linked and cannot run in the guest; "
                    + "install busybox-static instead (apt-get install busybox-static)")
        }
    }

    /// Whether a 64-bit little-endian ELF file has a PT_INTERP program header (is dynamic).
    static func hasInterpreter(elf: Data) -> Bool {
        let bytes = [UInt8](elf.prefix(4096))
        guard bytes.count >= 64, bytes[0...3] == [0x7f, 0x45, 0x4c, 0x46], bytes[4] == 2 else { return false }
        func read(_ offset: Int, _ size: Int) -> Int {
            (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        let phoff = read(0x20, 8), phentsize = read(0x36, 2), phnum = read(0x38, 2)
        for i in 0..<phnum {
            let at = phoff + i * phentsize
            guard at + 4 <= bytes.count else { break }
            if read(at, 4) == 3 { return true }  // PT_INTERP
        }
        return false
    }

    // MARK: Build

    private static func build(into path: String, kernel: Kernel, modules: [Module], script: String) throws {
        var archive = CPIOArchive()
        for dir in ["/bin", "/dev", "/proc", "/sys", "/tmp", "/lib", "/lib/modules"] { archive.directory(dir) }
        archive.characterDevice("/dev/console", major: 5, minor: 1)
        guard let busyboxData = FileManager.default.contents(atPath: busybox) else {
            throw UserError("cannot read \(busybox)")
        }
        archive.file("/bin/busybox", contents: busyboxData, mode: 0o755)
        archive.symlink("/bin/sh", target: "busybox")
        for module in modules {
            archive.file("/lib/modules/\(module.archiveName)", contents: try moduleContents(module))
        }
        archive.file("/init", contents: Data(script.utf8), mode: 0o755)
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        // Write aside and rename, so a concurrent `lab up` never boots half a file.
        let temporary = "\(path).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: archive.finished()) else {
            throw UserError("cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            let error = SystemError.fromErrno("cannot move \(temporary) to", subject: path)
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        // Older archives for this kernel are stale now.
        let prefix = "guest-\(kernel.version)-"
        let name = (path as NSString).lastPathComponent
        for old in (try? FileManager.default.contentsOfDirectory(atPath: cacheDirectory)) ?? []
        where old.hasPrefix(prefix) && old.hasSuffix(".cpio") && old != name {
            try? FileManager.default.removeItem(atPath: "\(cacheDirectory)/\(old)")
        }
    }

    /// Size and mtime: enough to notice a package upgrade without hashing megabytes.
    private static func fileStamp(_ path: String) -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "missing" }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
        let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(size)@\(Int64(mtime))"
    }

    private static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
