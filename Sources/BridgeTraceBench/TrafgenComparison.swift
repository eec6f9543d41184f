import BridgeTraceCore
import BridgeTraceLab
import CBridgeTraceShim
import Foundation

/// `--vs-trafgen`: our generator against trafgen (netsniff-ng's AF_PACKET TX-ring
/// generator, what the project measured with before) on the same veth pair into the same
/// sink, in alternating rounds. Each side gets one CPU's worth of sender (trafgen
/// `--cpus 1`, our single generator thread); the figure is frames the sink received
/// per second of sending.
struct TrafgenComparison {
    static let trafgenPath = "/usr/sbin/trafgen"

    let frameSize: Int
    let duration: Double
    let rounds: Int
    let announce: (String) -> Void

    func run(on bed: TestBed) throws -> BenchReport.GeneratorComparison {
        guard FileManager.default.isExecutableFile(atPath: Self.trafgenPath) else {
            throw UserError("--vs-trafgen needs trafgen at \(Self.trafgenPath): apt-get install netsniff-ng")
        }
        var ours: [Double] = []
        var theirs: [Double] = []
        var ratios: [Double] = []
        for round in 0..<rounds {
            // ABBA order, so a drift of the machine's speed does not favour one side.
            var pair: (ours: Double, theirs: Double) = (0, 0)
            for side in round % 2 == 0 ? [true, false] : [false, true] {
                announce("generator comparison, round \(round + 1): \(side ? "bridgetrace" : "trafgen")")
                if side {
                    pair.ours = try bed.run(TrialSpec(frameSize: frameSize, duration: duration)).rxPPS
                } else {
                    pair.theirs = try trafgen(on: bed)
                }
            }
            ours.append(pair.ours)
            theirs.append(pair.theirs)
            if pair.theirs > 0 { ratios.append(pair.ours / pair.theirs) }
        }
        return BenchReport.GeneratorComparison(
            frameSize: frameSize, oursPPS: Spread(ours), trafgenPPS: Spread(theirs), ratio: Spread(ratios),
            notes: ["same veth pair, same XDP sink; trafgen --cpus 1 (PF_PACKET TX ring, qdisc bypass) vs one "
                + "BPF_PROG_TEST_RUN live-frames thread; pps = frames received by the sink per second of sending"])
    }

    /// One trafgen round: its rate at the sink once it is running, over `duration`.
    private func trafgen(on bed: TestBed) throws -> Double {
        let trial = try bed.beginExternalTrial()
        let template = try bed.template(size: frameSize)
        var frame = template.bytes
        // Trafgen cannot stamp: its frames carry the trial id (so they count) and a
        // zero timestamp and sequence number (so latency and order mean nothing here).
        frame[template.stampOffset + 12] = UInt8(trial & 0xff)
        frame[template.stampOffset + 13] = UInt8(trial >> 8)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("bt-bench-trafgen-\(getpid()).cfg")
        try ("{ " + frame.map { String(format: "0x%02x", $0) }.joined(separator: ", ") + " }\n")
            .write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }

        let trafgen = try TrafgenProcess(arguments: [
            "ip", "netns", "exec", bed.wiring.generator.namespace, Self.trafgenPath,
            "--dev", bed.wiring.generator.interface, "--conf", config.path, "--cpus", "1",
            "--no-sock-mem", "--notouch-irq", "--no-cpu-stats"])
        defer { trafgen.stop() }
        // Measure from the first frames on, after a short warm-up, like lab-pps.sh.
        let startDeadline = Date().addingTimeInterval(5)
        while try bed.sinkFrames() == 0 {
            if trafgen.exited || Date() > startDeadline {
                let said = trafgen.stop()
                throw UserError("trafgen sent nothing to the sink: \(said.isEmpty ? "no message" : said)")
            }
            usleep(5_000)
        }
        usleep(200_000)
        let startFrames = try bed.sinkFrames()
        let start = bt_bench_now_ns()
        usleep(useconds_t(duration * 1e6))
        let frames = try bed.sinkFrames() - startFrames
        let seconds = Double(bt_bench_now_ns() - start) / 1e9
        return Double(frames) / seconds
    }
}

/// trafgen in a process group of its own: it forks a worker per CPU, and a signal to the
/// parent alone leaves the worker sending. Spawned directly (posix_spawn) rather than
/// through Foundation's Process or setsid(1), so that its pid is its group's id, and
/// stopped by signalling the whole group.
private final class TrafgenProcess {
    private let pid: pid_t
    private let log: String
    private var status: Int32?
    private var output = ""

    init(arguments: [String]) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("bt-bench-trafgen-\(getpid()).log").path
        guard let path = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].first(where: FileManager.default.isExecutableFile) else {
            throw UserError("cannot find ip(8): apt-get install iproute2")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new group, no blocked signals, default handlers for what we catch or ignore.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([path] + arguments.dropFirst()).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        if rc != 0 { throw UserError("cannot start trafgen: \(String(cString: strerror(rc)))") }
        pid = child
    }

    /// Whether it has exited (reaped here).
    var exited: Bool {
        if status != nil { return true }
        var raw: Int32 = 0
        if waitpid(pid, &raw, WNOHANG) == pid { status = raw }
        return status != nil
    }

    /// Idempotent; returns what trafgen wrote to stderr.
    @discardableResult
    func stop() -> String {
        if !exited {
            kill(-pid, SIGINT)
            let deadline = Date().addingTimeInterval(5)
            while !exited && Date() < deadline { usleep(10_000) }
            if !exited {
                kill(-pid, SIGKILL)
                var raw: Int32 = 0
                _ = waitpid(pid, &raw, 0)
                status = raw
            }
        }
        // The worker is not our child: make sure the group is gone too.
        for _ in 0..<100 where kill(-pid, 0) == 0 {
            kill(-pid, SIGKILL)
            usleep(10_000)
        }
        if output.isEmpty {
            output = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            try? FileManager.default.removeItem(atPath: log)
        }
        return output
    }

    deinit { stop() }
}
