import BridgeTraceCore
import BridgeTraceProcess
import Foundation

/// The faults that need a sender that keeps running after `lab fault` exits
/// (arp_spoofing, dhcp_unanswered, dhcp_multiple_servers): a small Python program (standard library only, an
/// AF_PACKET socket) started inside a lab namespace. Its pid is recorded in
/// /run/bridgetrace/lab-NAME/FAULT[-ROLE].pid so that `lab fault clear` and `lab down` stop
/// it (a fault with several processes gives each a role).
enum LabFaultBackground {
    /// Marks our senders' command lines, so a recycled pid is never signalled.
    static let marker = "bridgetrace-lab-fault"
    static let stateRoot = "/run/bridgetrace"

    static func stateDirectory(lab: String) -> String { "\(stateRoot)/lab-\(lab)" }

    static func pidFile(lab: String, fault: LabFault, role: String = "") -> String {
        "\(stateDirectory(lab: lab))/\(fault.rawValue)\(role.isEmpty ? "" : "-" + role).pid"
    }

    /// Debian's, before any other in PATH (a pyenv shim, say): the standard library is all it needs.
    static var python: String { Executable.find("/usr/bin/python3") ?? "python3" }

    /// The command line that starts a sender (for the report; `start` runs the same).
    static func arguments(namespace: String, mode: String, interface: String, interval: Double, extra: [String])
        -> [String]
    {
        ["ip", "netns", "exec", namespace, python, "-c", script, marker, mode, interface, String(interval)] + extra
    }

    /// Starts a sender (stopping an earlier one of the same fault first, so injecting twice
    /// leaves one) and records its pid. Throws when it dies at once, quoting its log.
    static func start(lab: String, fault: LabFault, role: String = "", namespace: String, mode: String,
                      interface: String, interval: Double, extra: [String]) throws -> Int32
    {
        _ = stop(lab: lab, fault: fault, role: role)
        let directory = stateDirectory(lab: lab)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let logPath = "\(directory)/\(fault.rawValue)\(role.isEmpty ? "" : "-" + role).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let command = arguments(namespace: namespace, mode: mode, interface: interface, interval: interval, extra: extra)
        let process: ChildProcess
        do {
            process = try ChildProcess(command, stdout: .file(logPath), stderr: .file(logPath))
        } catch {
            throw UserError("cannot start `\(command.prefix(5).joined(separator: " ")) ...`: \(error)")
        }
        // It outlives `lab fault`: `stop` finds it through the pid file.
        process.detach()
        // `ip netns exec` execs the program in place, so this is the sender's pid.
        let pid = process.pid
        try "\(pid)\n".write(toFile: pidFile(lab: lab, fault: fault, role: role), atomically: true, encoding: .utf8)
        // Until the child has exec'd (ip, then python), /proc/PID/cmdline is still ours:
        // wait for the sender's marker before judging whether it lives.
        let execDeadline = Date().addingTimeInterval(5)
        while !process.hasExited && !isSender(pid) && Date() < execDeadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        // A sender that cannot open its socket or find its interface exits at once.
        let deadline = Date().addingTimeInterval(0.5)
        while Date() < deadline {
            if !isSender(pid) {
                try? FileManager.default.removeItem(atPath: pidFile(lab: lab, fault: fault, role: role))
                let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw UserError(
                    "the \(fault.rawValue) sender in \(namespace) exited at once: "
                        + output.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return pid
    }

    /// Stops the recorded sender of `fault`, if it runs. Returns its pid when it stopped one.
    @discardableResult
    static func stop(lab: String, fault: LabFault, role: String = "") -> Int32? {
        stop(pidFile: pidFile(lab: lab, fault: fault, role: role))
    }

    private static func stop(pidFile path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        try? FileManager.default.removeItem(atPath: path)
        guard isSender(pid) else { return nil }
        ChildProcess.terminate(pid: pid, grace: 2) { isSender(pid) }
        return pid
    }

    /// Stops every sender of lab `lab` and removes its state directory. For `lab down`.
    static func stopAll(lab: String) -> [String] {
        var stopped: [String] = []
        let directory = stateDirectory(lab: lab)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".pid") }
        for file in files.sorted() {
            if let pid = stop(pidFile: "\(directory)/\(file)") {
                stopped.append("\(file.dropLast(4)) sender (pid \(pid))")
            }
        }
        try? FileManager.default.removeItem(atPath: stateDirectory(lab: lab))
        return stopped
    }

    /// The recorded pid of a running sender of `fault`, or nil.
    static func runningPid(lab: String, fault: LabFault, role: String = "") -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile(lab: lab, fault: fault, role: role), encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), isSender(pid)
        else { return nil }
        return pid
    }

    /// Whether `pid` is alive (not a zombie) and is one of our senders.
    static func isSender(_ pid: Int32) -> Bool {
        guard ChildProcess.isLive(pid) else { return false }
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: cmdline, as: UTF8.self).contains(marker)
    }

    /// argv: marker, mode ("arp-spoof" IP | "dhcp-discover" | "dhcp-server" SERVER_IP OFFERED_IP),
    /// interface, interval seconds. The server answers DISCOVER with OFFER and REQUEST with
    /// ACK, broadcast, from its own MAC and SERVER_IP (router option: itself).
    static let script = #"""
import errno, os, random, signal, socket, struct, sys, time
mode, iface, interval = sys.argv[2], sys.argv[3], float(sys.argv[4])
try:
    os.setsid()
except OSError:
    pass
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # a parent may have blocked it
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
mac = s.getsockname()[4][:6]
bcast = b"\xff" * 6
def csum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
if mode == "arp-spoof":
    # A gratuitous ARP reply: "IP is at <my MAC>", to everyone.
    ip = socket.inet_aton(sys.argv[5])
    frame = bcast + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mac + ip + bcast + ip
elif mode == "dhcp-server":
    server, offered = socket.inet_aton(sys.argv[5]), socket.inet_aton(sys.argv[6])
    r = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    r.bind((iface, 0))
    print("serving DHCP on %s as %s, offering %s" % (iface, sys.argv[5], sys.argv[6]), flush=True)
    while True:
        data, addr = r.recvfrom(2048)
        if addr[2] == socket.PACKET_OUTGOING or len(data) < 14 + 20 + 8 + 240 or data[23] != 17:
            continue
        ihl = (data[14] & 0x0F) * 4
        udp = 14 + ihl
        if struct.unpack("!H", data[udp + 2:udp + 4])[0] != 67:
            continue
        bootp = data[udp + 8:]
        if bootp[0] != 1 or bootp[236:240] != b"\x63\x82\x53\x63":
            continue
        xid, chaddr, kind, i = bootp[4:8], bootp[28:34], 0, 240
        while i + 1 < len(bootp) and bootp[i] != 255:
            if bootp[i] == 0:
                i += 1
                continue
            if bootp[i] == 53:
                kind = bootp[i + 2]
            i += 2 + bootp[i + 1]
        reply = {1: 2, 3: 5}.get(kind)
        if reply is None:
            continue
        out = struct.pack("!BBBB", 2, 1, 6, 0) + xid + struct.pack("!HH", 0, 0x8000)
        out += b"\x00" * 4 + offered + server + b"\x00" * 4 + chaddr + b"\x00" * 10 + b"\x00" * 192
        out += b"\x63\x82\x53\x63" + bytes([53, 1, reply, 54, 4]) + server + bytes([51, 4, 0, 0, 14, 16, 1, 4, 255, 255, 255, 0, 3, 4]) + server + b"\xff"
        u = struct.pack("!HHHH", 67, 68, 8 + len(out), 0) + out
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), 0, 0, 64, 17, 0, server, b"\xff" * 4)
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        s.send(bcast + mac + b"\x08\x00" + hdr + u)
elif mode == "dhcp-discover":
    bootp = struct.pack("!BBBBIHH", 1, 1, 6, 0, random.getrandbits(32), 0, 0x8000)
    bootp += b"\x00" * 16 + mac + b"\x00" * 10 + b"\x00" * 192
    bootp += b"\x63\x82\x53\x63" + bytes([53, 1, 1, 55, 3, 1, 3, 6, 255])
    udp = struct.pack("!HHHH", 68, 67, 8 + len(bootp), 0) + bootp
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, b"\x00" * 4, b"\xff" * 4)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    frame = bcast + mac + b"\x08\x00" + hdr + udp
else:
    sys.exit("unknown mode " + mode)
frame = frame.ljust(60, b"\x00")
print("sending %s on %s every %ss" % (mode, iface, interval), flush=True)
while True:
    try:
        s.send(frame)
    except OSError as e:
        if e.errno in (errno.ENODEV, errno.ENXIO):
            sys.exit("interface %s is gone: %s" % (iface, e))
    time.sleep(interval)
"""#
}
