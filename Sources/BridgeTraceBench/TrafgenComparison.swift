import BridgeTraceCore
import BridgeTraceProcess
import BridgeTraceLab
import CBridgeTraceShim
import Foundation

/// `--vs-trafgen`: our generator against trafgen (netsniff-ng's AF_PACKET TX-ring
/// generator, what the project measured with before) on the same veth pair into the same
/// sink, in alternating rounds. Each side gets one CPU: trafgen `--cpus 1` forks one
/// worker pinned to CPU 0, and our one generator thread is pinned there too. The figure
/// is frames the sink received per second of sending.
struct TrafgenComparison {

    let frameSize: Int
    let duration: Double
    let rounds: Int
    let announce: (String) -> Void

    func run(on bed: TestBed) throws -> BenchReport.GeneratorComparison {
        guard let trafgenPath = Executable.find("trafgen") else {
            throw UserError("--vs-trafgen needs trafgen: apt-get install netsniff-ng")
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
                    pair.ours = try bed.run(TrialSpec(frameSize: frameSize, duration: duration, generatorCPU: Self.cpu)).rxPPS
                } else {
                    pair.theirs = try trafgen(trafgenPath, on: bed)
                }
            }
            ours.append(pair.ours)
            theirs.append(pair.theirs)
            if pair.theirs > 0 { ratios.append(pair.ours / pair.theirs) }
        }
        let kind = try bed.generator(size: frameSize).kind
        return BenchReport.GeneratorComparison(
            frameSize: frameSize, generator: kind, cpus: 1, oursPPS: Spread(ours), trafgenPPS: Spread(theirs),
            ratio: Spread(ratios),
            notes: ["same veth pair, same XDP sink, \(rounds) rounds in ABBA order; one CPU each: trafgen --cpus 1 "
                + "(PF_PACKET TX ring, qdisc bypass, its worker pinned to CPU \(Self.cpu)) vs one \(kind.rawValue) "
                + "thread pinned to CPU \(Self.cpu); pps = frames received by the sink per second of sending"])
    }

    /// Where each side sends from: trafgen `--cpus 1` pins its worker to the first CPU.
    static let cpu: Int32 = 0

    /// One trafgen round: its rate at the sink once it is running, over `duration`.
    private func trafgen(_ path: String, on bed: TestBed) throws -> Double {
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

        // Its own process group: trafgen forks a worker, which a signal to the parent
        // alone would leave sending.
        let trafgen = try ChildProcess([
            "ip", "netns", "exec", bed.wiring.generator.namespace, path,
            "--dev", bed.wiring.generator.interface, "--conf", config.path, "--cpus", "1",
            "--no-sock-mem", "--notouch-irq", "--no-cpu-stats"], stderr: .log, ownGroup: true)
        defer { trafgen.stop(signal: SIGINT) }
        // Measure from the first frames on, after a short warm-up, like lab-pps.sh.
        let startDeadline = Date().addingTimeInterval(5)
        while try bed.sinkFrames() == 0 {
            if trafgen.hasExited || Date() > startDeadline {
                trafgen.stop(signal: SIGINT)
                let said = trafgen.log
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
