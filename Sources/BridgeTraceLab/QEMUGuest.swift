import BridgeTraceCore
import BridgeTraceProcess
import Foundation

/// A real VM on a lab port: QEMU (TCG; KVM is not usable on this project's machines) booting
/// Debian's kernel with `GuestInitramfs`, its NIC a virtio-net on a tap made inside the
/// bridge namespace with `ip tuntap add`. The tap is persistent, so when QEMU dies the port
/// stays, with NO-CARRIER: the `no_carrier` fault of a stopped VM.
///
/// State lives in /run/bridgetrace/qemu-LAB/ (pid file, serial console log, QEMU's own
/// output). Not in lab-LAB/: `lab fault clear` removes that directory. QEMU is also found
/// without its pid file, by its `-name bridgetrace-lab-LAB-vmI` argument, so no guest can
/// outlive `lab down`.
public enum QEMUGuest {
    /// How long `lab up` waits for the guest's READY line. TCG on a loaded 2-vCPU machine
    /// has taken 15–40 s to boot; an idle one about 3 s.
    public static let defaultBootTimeout: TimeInterval = 120

    /// What one guest is given.
    public struct Config: Sendable, Equatable {
        public var lab: String
        public var index: Int
        /// The bridge namespace, where the tap is made and QEMU runs.
        public var namespace: String
        public var tap: String
        public var bridge: String
        public var tapMAC: String
        public var mac: String
        /// "198.18.0.11/24".
        public var address: String
        public var gateway: String?
        public var ipv6: Bool
        /// Put the address on eth0.VLAN, so everything the guest sends is tagged.
        public var vlan: Int?
        /// Ping this address once a second from the guest.
        public var ping: String?
        /// "A.B.C.D:PORT:MB": send MB MiB over TCP to that address once (`bt.send`).
        public var send: String?

        public init(topology: LabTopology, vm i: Int, ipv6: Bool = false, vlan: Int? = nil, ping: String? = nil) {
            lab = topology.name
            index = i
            namespace = topology.bridgeNamespace
            tap = topology.vmPort(i)
            bridge = topology.bridgeName
            tapMAC = topology.vmPortMAC(i)
            mac = topology.vmMAC(i)
            address = topology.cidr(topology.vmIP(i))
            gateway = topology.gatewayIP
            self.ipv6 = ipv6
            self.vlan = vlan
            self.ping = ping
        }

        /// The kernel command line: quiet console on the serial port, `bt.*` for the init.
        var kernelCommandLine: String {
            var parts = ["console=ttyS0", "quiet", "panic=-1", "mitigations=off", "bt.name=vm\(index)",
                         "bt.ip=\(address)", "bt.mac=\(mac)"]
            if !ipv6 { parts.append("ipv6.disable=1") }  // no RS, MLD or DAD frames on the port
            if let gateway { parts.append("bt.gw=\(gateway)") }
            if let vlan { parts.append("bt.vlan=\(vlan)") }
            if let ping { parts.append("bt.ping=\(ping)") }
            if let send { parts.append("bt.send=\(send)") }
            return parts.joined(separator: " ")
        }
    }

    // MARK: Files

    static let stateRoot = "/run/bridgetrace"
    public static func stateDirectory(lab: String) -> String { "\(stateRoot)/qemu-\(lab)" }
    static func pidFile(lab: String, vm i: Int) -> String { "\(stateDirectory(lab: lab))/vm\(i).pid" }
    /// The guest's serial console: kernel messages and the init's READY / ERROR lines.
    public static func serialLog(lab: String, vm i: Int) -> String { "\(stateDirectory(lab: lab))/vm\(i).serial.log" }
    /// QEMU's own stdout and stderr.
    public static func qemuLog(lab: String, vm i: Int) -> String { "\(stateDirectory(lab: lab))/vm\(i).qemu.log" }
    /// QEMU's `-name`, which also marks its command line as ours.
    static func processName(lab: String, vm i: Int) -> String { "bridgetrace-lab-\(lab)-vm\(i)" }

    // MARK: Start

    /// Makes the tap in the bridge namespace (or reuses the one a stopped guest left), enslaves
    /// it, starts QEMU on it and waits until the guest's init says READY and the guest answers
    /// ping from the bridge's own address. Also restarts a guest `stop` stopped, which gives
    /// its tap carrier again. On failure QEMU is killed (the caller removes the namespace and
    /// with it the tap).
    public static func start(
        _ config: Config, bootTimeout: TimeInterval = defaultBootTimeout,
        isCancelled: @Sendable () -> Bool = { false }
    ) throws {
        let initramfs = try GuestInitramfs.prepare()
        guard let qemu = Executable.find("qemu-system-x86_64") else {
            throw UserError("cannot find qemu-system-x86_64; install Debian's qemu-system-x86 (scripts/setup does)")
        }
        let runner = CommandRunner()
        let ns = config.namespace
        if try !runner.result(["ip", "-n", ns, "link", "show", "dev", config.tap]).succeeded {
            try runner.run(["ip", "-n", ns, "tuntap", "add", "dev", config.tap, "mode", "tap"])
        }
        try runner.run(["ip", "-n", ns, "link", "set", config.tap, "address", config.tapMAC])
        try runner.run(["ip", "-n", ns, "link", "set", config.tap, "master", config.bridge])
        try runner.run(["ip", "-n", ns, "link", "set", config.tap, "up"])
        do {
            let pid = try launch(config, qemu: qemu, initramfs: initramfs)
            try waitReady(config, pid: pid, timeout: bootTimeout, isCancelled: isCancelled)
        } catch {
            stop(lab: config.lab, vm: config.index)
            throw error
        }
    }

    static func arguments(_ config: Config, qemu: String, initramfs: GuestInitramfs) -> [String] {
        [
            "ip", "netns", "exec", config.namespace, qemu,
            "-name", processName(lab: config.lab, vm: config.index),
            "-accel", "tcg", "-m", "256", "-smp", "1",
            "-nodefaults", "-no-reboot", "-nographic", "-monitor", "none",
            "-serial", "file:\(serialLog(lab: config.lab, vm: config.index))",
            "-kernel", initramfs.kernel.image, "-initrd", initramfs.path,
            "-append", config.kernelCommandLine,
            "-netdev", "tap,id=n0,ifname=\(config.tap),script=no,downscript=no",
            // romfile= skips the iPXE option ROM: the kernel is loaded directly.
            "-device", "virtio-net-pci,netdev=n0,mac=\(config.mac),romfile=",
        ]
    }

    private static func launch(_ config: Config, qemu: String, initramfs: GuestInitramfs) throws -> Int32 {
        let lab = config.lab, i = config.index
        if let pid = runningPid(lab: lab, vm: i) {
            throw UserError("a QEMU guest for \(lab) vm\(i) already runs (pid \(pid)); run `bridgetrace lab down --name \(lab)`")
        }
        try FileManager.default.createDirectory(atPath: stateDirectory(lab: lab), withIntermediateDirectories: true)
        for path in [serialLog(lab: lab, vm: i), qemuLog(lab: lab, vm: i)] {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let process: ChildProcess
        do {
            let log = qemuLog(lab: lab, vm: i)
            process = try ChildProcess(arguments(config, qemu: qemu, initramfs: initramfs), stdout: .file(log), stderr: .file(log))
        } catch {
            throw UserError("cannot start QEMU: \(error)")
        }
        // It outlives `lab up`: `stop` finds it through the pid file.
        process.detach()
        // `ip netns exec` execs QEMU in place, so this is QEMU's pid.
        try "\(process.pid)\n".write(toFile: pidFile(lab: lab, vm: i), atomically: true, encoding: .utf8)
        // Between fork and exec /proc/PID/cmdline is still ours, without the `-name` that
        // marks the guest: wait for it, so the boot loop does not take the child for dead.
        let pid = process.pid
        let deadline = Date().addingTimeInterval(10)
        while !isGuest(pid, lab: lab, vm: i), isAlive(pid), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        return pid
    }

    /// Waits for the READY line on the serial console, then for the guest to answer ping.
    /// `pid` is our child, so it is alive until it exits: its /proc entry says so without
    /// reading its command line (which reads empty while the child is in execve).
    private static func waitReady(_ config: Config, pid: Int32, timeout: TimeInterval, isCancelled: () -> Bool) throws {
        let lab = config.lab, i = config.index
        let started = Date()
        let deadline = started.addingTimeInterval(timeout)
        while true {
            if isCancelled() { throw UserError("interrupted while the QEMU guest vm\(i) was booting") }
            let serial = (try? String(contentsOfFile: serialLog(lab: lab, vm: i), encoding: .utf8)) ?? ""
            if serial.contains(GuestInitScript.readyMarker) { break }
            if let line = serial.split(separator: "\n").first(where: { $0.contains(GuestInitScript.errorMarker) }) {
                throw UserError("the QEMU guest vm\(i) failed to start: \(line); see \(serialLog(lab: lab, vm: i))")
            }
            if !isAlive(pid) {
                let output = ((try? String(contentsOfFile: qemuLog(lab: lab, vm: i), encoding: .utf8)) ?? "")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                throw UserError("QEMU for vm\(i) exited during boot: \(output.isEmpty ? "no output" : output)")
            }
            guard Date() < deadline else {
                throw UserError(
                    "the QEMU guest vm\(i) did not boot within \(Int(timeout)) s (TCG is slow on a busy machine); "
                        + "see \(serialLog(lab: lab, vm: i))")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        // With a VLAN the guest answers only tagged frames; READY is all we can check here.
        guard config.vlan == nil else { return }
        let ip = String(config.address.prefix { $0 != "/" })
        let runner = CommandRunner()
        while true {
            if isCancelled() { throw UserError("interrupted while waiting for the QEMU guest vm\(i) to answer ping") }
            let ping = try runner.result(["ip", "netns", "exec", config.namespace, "ping", "-c", "1", "-W", "1", ip])
            if ping.succeeded { return }
            guard Date() < deadline, isAlive(pid) else {
                throw UserError("the QEMU guest vm\(i) booted but does not answer ping at \(ip) from \(config.namespace)")
            }
        }
    }

    // MARK: Stop

    /// The pid of lab `lab`'s running QEMU for VM `i`, from its pid file or, failing that,
    /// by its command line.
    public static func runningPid(lab: String, vm i: Int) -> Int32? {
        if let text = try? String(contentsOfFile: pidFile(lab: lab, vm: i), encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            isGuest(pid, lab: lab, vm: i)
        {
            return pid
        }
        return findGuests(lab: lab).first { $0.vm == i }?.pid
    }

    /// Kills VM `i`'s QEMU (SIGTERM, then SIGKILL) and waits until it is gone, so its tap has
    /// NO-CARRIER when this returns. Returns the pid it stopped, or nil when none ran.
    @discardableResult
    public static func stop(lab: String, vm i: Int) -> Int32? {
        defer { try? FileManager.default.removeItem(atPath: pidFile(lab: lab, vm: i)) }
        // A command line can read empty for a moment (while the process execs): look twice.
        guard let pid = runningPid(lab: lab, vm: i) ?? {
            Thread.sleep(forTimeInterval: 0.05)
            return runningPid(lab: lab, vm: i)
        }() else { return nil }
        ChildProcess.terminate(pid: pid, grace: 3) { isGuest(pid, lab: lab, vm: i) }
        // The main thread turns zombie first; QEMU's other threads still hold the tap fd
        // (and the carrier) until they are gone too.
        let threads = Date().addingTimeInterval(3)
        while hasLiveThreads(pid), Date() < threads { Thread.sleep(forTimeInterval: 0.02) }
        // Only now can a guest this process started be reaped (a zombie leader waits for
        // its threads).
        var raw: Int32 = 0
        _ = waitpid(pid, &raw, WNOHANG)
        return pid
    }

    private static func hasLiveThreads(_ pid: Int32) -> Bool {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.contains { task in Int32(task).map { ChildProcess.isLive(pid, thread: $0) } ?? false }
    }

    /// Stops every QEMU guest of lab `lab` and removes its state directory. For `lab down`,
    /// before the namespaces go: a namespace whose tap QEMU holds would outlive `ip netns del`.
    @discardableResult
    public static func stopAll(lab: String) -> [String] {
        var stopped: [String] = []
        let vms = Set(findGuests(lab: lab).map(\.vm) + recordedVMs(lab: lab))
        for i in vms.sorted() {
            if let pid = stop(lab: lab, vm: i) { stopped.append("QEMU guest vm\(i) (pid \(pid))") }
        }
        try? FileManager.default.removeItem(atPath: stateDirectory(lab: lab))
        return stopped
    }

    /// VM numbers with a pid file.
    private static func recordedVMs(lab: String) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: stateDirectory(lab: lab))) ?? []).compactMap { file in
            guard file.hasPrefix("vm"), file.hasSuffix(".pid") else { return nil }
            return Int(file.dropFirst(2).dropLast(4))
        }
    }

    /// Every live QEMU of lab `lab`, found by its `-name` in /proc/PID/cmdline.
    static func findGuests(lab: String) -> [(vm: Int, pid: Int32)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> (vm: Int, pid: Int32)? in
            guard let pid = Int32(entry), let vm = guestVM(pid, lab: lab), isAlive(pid) else { return nil }
            return (vm, pid)
        }
    }

    /// The VM number in `pid`'s `-name bridgetrace-lab-LAB-vmI` argument, if it has one.
    private static func guestVM(_ pid: Int32, lab: String) -> Int? {
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        let prefix = "bridgetrace-lab-\(lab)-vm"
        for argument in cmdline.split(separator: 0) {
            let text = String(decoding: argument, as: UTF8.self)
            guard text.hasPrefix(prefix) else { continue }
            let digits = text.dropFirst(prefix.count)
            if !digits.isEmpty, digits.allSatisfy(\.isNumber), let vm = Int(digits) { return vm }
        }
        return nil
    }

    /// Whether `pid` is alive (not a zombie) and is lab `lab`'s QEMU for VM `i`.
    static func isGuest(_ pid: Int32, lab: String, vm i: Int) -> Bool {
        pid > 0 && guestVM(pid, lab: lab) == i && isAlive(pid)
    }

    private static func isAlive(_ pid: Int32) -> Bool { ChildProcess.isLive(pid) }
}
