import BridgeTraceCore
import BridgeTracePcap
import Foundation
import Synchronization
import Testing
import BridgeTraceProcess

/// tshark, to read back what PcapngFile wrote. Missing tshark skips these tests, except
/// in CI (CI=true), where it fails them.
enum Tshark {
    static let path: String? = {
        Executable.find("tshark")
    }()
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let usable = path != nil || inCI

    /// `tshark -r FILE -T fields -e ...`: one array of field values per frame.
    static func fields(_ file: String, _ names: [String]) throws -> [[String]] {
        guard let path else {
            Issue.record("tshark is not installed (CI=true): apt-get install tshark")
            return []
        }
        let result = try CommandRunner().result([path, "-r", file, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
            + names.flatMap { ["-e", $0] })
        let errorText = result.stderr
        // As root, tshark warns on stderr and still reads the file.
        #expect(result.succeeded, "tshark failed: \(errorText)")
        #expect(!errorText.contains("appears to be damaged") && !errorText.contains("isn't a capture file"), "\(errorText)")
        return result.stdout.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}

/// A class, so that each test's scratch directory goes away in deinit.
@Suite final class PcapngFileTests {
    typealias F = TestFrames
    static let t0: UInt64 = 1_795_262_400_123_456_789
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bridgetrace-pcapng-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func temporaryPath(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// ARP request in at tap-vm1 and out at eth0, a ping the same way, the reply back,
    /// and a frame cut at the snap length.
    var frames: [CapturedFrame] {
        let arp = F.arpRequest()
        let ping = F.ping(from: F.vm, to: F.gateway, seq: 3)
        let reply = F.ethernet(dst: F.macA, src: F.macB, type: 0x0800,
                               payload: F.ipv4(src: F.gateway, dst: F.vm, proto: 1, payload: F.icmpEcho(request: false, id: 1, seq: 3)))
        let big = F.ping(from: F.vm, to: F.gateway, seq: 4)
        return [
            CapturedFrame(monotonicNs: 0, ifindex: 7, port: "tap-vm1", direction: .rx, length: arp.count, bytes: arp),
            CapturedFrame(monotonicNs: 0, ifindex: 2, port: "eth0", direction: .tx, length: arp.count, bytes: arp),
            CapturedFrame(monotonicNs: 0, ifindex: 7, port: "tap-vm1", direction: .rx, length: ping.count, bytes: ping),
            CapturedFrame(monotonicNs: 0, ifindex: 2, port: "eth0", direction: .tx, length: ping.count, bytes: ping),
            CapturedFrame(monotonicNs: 0, ifindex: 2, port: "eth0", direction: .rx, length: reply.count, bytes: reply),
            CapturedFrame(monotonicNs: 0, ifindex: 7, port: "tap-vm1", direction: .rx, length: 1514, bytes: Array(big.prefix(50))),
        ]
    }

    @Test(.enabled(if: Tshark.usable, "tshark is not installed")) func tsharkReadsWhatWeWrote() throws {
        let path = temporaryPath("trace.pcapng")
        let file = try PcapngFile(path: path, snaplen: 128, bridge: "br0")
        for (index, frame) in frames.enumerated() {
            try file.write(frame, wallClockNs: Self.t0 + UInt64(index) * 1_000_000)
        }
        file.close()
        #expect(file.frameCount == 6)

        let rows = try Tshark.fields(path, ["frame.interface_name", "frame.packet_flags_direction", "eth.src",
                                            "arp.dst.proto_ipv4", "icmp.seq", "icmp.type", "frame.len", "frame.cap_len",
                                            "frame.time_epoch", "frame.interface_description"])
        #expect(rows.count == 6)
        guard rows.count == 6 else { return }
        #expect(rows.map { $0[0] } == ["tap-vm1", "eth0", "tap-vm1", "eth0", "eth0", "tap-vm1"])
        // epb_flags direction: 1 inbound (rx), 2 outbound (tx).
        #expect(rows.map { $0[1] } == ["0x00000001", "0x00000002", "0x00000001", "0x00000002", "0x00000001", "0x00000001"])
        #expect(rows.map { $0[2] } == ["52:54:00:12:34:56", "52:54:00:12:34:56", "52:54:00:12:34:56",
                                       "52:54:00:12:34:56", "52:54:00:ab:cd:ef", "52:54:00:12:34:56"])
        #expect(rows[0][3] == "10.0.0.1" && rows[1][3] == "10.0.0.1")
        #expect(rows[2][4] == "3" && rows[3][4] == "3" && rows[4][4] == "3")
        #expect(rows[2][5] == "8" && rows[4][5] == "0")
        #expect(rows[5][6] == "1514" && rows[5][7] == "50")
        #expect(rows[0][8] == "1795262400.123456789" && rows[5][8] == "1795262400.128456789")
        #expect(rows[0][9] == "bridge br0 port tap-vm1, ifindex 7")
    }

    @Test(.enabled(if: Tshark.usable, "tshark is not installed")) func readableWithoutClose() throws {
        // As after a SIGKILL: nothing was closed or flushed, every frame is in the file.
        let path = temporaryPath("killed.pcapng")
        let file = try PcapngFile(path: path, snaplen: 128)
        for frame in frames { try file.write(frame, wallClockNs: Self.t0) }
        let rows = try Tshark.fields(path, ["frame.interface_name", "frame.cap_len"])
        #expect(rows.count == 6)
        file.close()
    }

    @Test func createdPrivate() throws {
        let path = temporaryPath("private.pcapng")
        let file = try PcapngFile(path: path, snaplen: 128)
        file.close()
        #expect(try mode(path) == 0o600)

        // An existing readable file is truncated and made private too.
        let old = temporaryPath("old.pcapng")
        #expect(FileManager.default.createFile(atPath: old, contents: Data(repeating: 1, count: 4096),
                                               attributes: [.posixPermissions: 0o644]))
        let reused = try PcapngFile(path: old, snaplen: 128)
        reused.close()
        #expect(try mode(old) == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: old)[.size] as? Int == 48) // just the SHB
    }

    @Test func failuresSayWhichFileAndWhy() {
        #expect(throws: SystemError("cannot create", subject: "/nonexistent-dir/x.pcapng", errno: .noSuchFileOrDirectory)) {
            _ = try PcapngFile(path: "/nonexistent-dir/x.pcapng", snaplen: 128)
        }
    }

    @Test func leavesTheModeOfWhatIsNotARegularFile() throws {
        // A FIFO (like `-w /dev/stdout` into a pipe) is written, not chmod-ed.
        let fifo = temporaryPath("fifo")
        #expect(mkfifo(fifo, 0o644) == 0 && chmod(fifo, 0o644) == 0)
        let received = Mutex(0)
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            let fd = open(fifo, O_RDONLY)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while fd >= 0 {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                received.withLock { $0 += n }
            }
            close(fd)
            done.signal()
        }
        reader.start()
        let file = try PcapngFile(path: fifo, snaplen: 128)
        try file.write(frames[0], wallClockNs: Self.t0)
        file.close()
        done.wait()
        #expect(received.withLock { $0 } == 48 + 60 + 88) // SHB, IDB of tap-vm1 (if_name, if_description, if_tsresol), the ARP's EPB
        #expect(try mode(fifo) == 0o644)
    }

    @Test func writesAfterCloseThrow() throws {
        let path = temporaryPath("closed.pcapng")
        let file = try PcapngFile(path: path, snaplen: 128)
        file.close()
        file.close()
        #expect(throws: UserError.self) { try file.write(frames[0], wallClockNs: 0) }
    }

    @Test func aFullDeviceIsAnError() throws {
        // /dev/full fails every write with ENOSPC. A device is not chmod-ed.
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let before = try mode("/dev/full")
        #expect(throws: SystemError("cannot write", subject: "/dev/full", errno: .noSpace)) {
            _ = try PcapngFile(path: "/dev/full", snaplen: 128)
        }
        #expect(try mode("/dev/full") == before)
    }

    func mode(_ path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw UserError("stat \(path) failed") }
        return Int(info.st_mode) & 0o7777
    }
}
