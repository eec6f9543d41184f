// bt-progbench: what bridgetrace's XDP counting program costs per frame.
//
// Times bt_xdp_rx (counters object) and bt_bench_pass (an XDP program that only returns
// XDP_PASS) with BPF_PROG_TEST_RUN over the same frames, and prints the difference: the
// per-frame price of attaching `bridgetrace counters`. Needs root. Attaches nothing.
//
// The figure is the kernel's own: the test run times its loop of `repeat` runs and
// returns the mean per run in whole nanoseconds. Each trial runs both programs back to
// back on a frame, alternating which goes first; the table shows median and minimum over
// the trials. The delta is the median of the per-trial differences (the pair ran back to
// back), and in brackets the difference of the two minimums, the best case of each side.
import Foundation
import CBenchShim
import ProgBenchSupport

struct Options {
    var trials = 11
    var repeatCount: UInt32 = 1_000_000
    var json = false
    var cpu: Int32?
    var goalNs = 10.0
}

func usage(status: Int32 = 2) -> Never {
    print("""
    usage: bt-progbench [--trials N] [--repeat N] [--cpu N] [--json]
      --trials N   trials per program and frame (default 11)
      --repeat N   BPF_PROG_TEST_RUN repeat count, at least 1000000 (default 1000000)
      --cpu N      pin to CPU N (the test run executes on the caller's CPU)
      --json       one JSON object instead of the table
    """)
    exit(status)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("bt-progbench: \(message)\n".utf8))
    exit(1)
}

func parse() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        switch a {
        case "--trials": guard let v = args.popFirst().flatMap(Int.init), v > 0 else { usage() }; o.trials = v
        case "--repeat":
            guard let v = args.popFirst().flatMap(UInt32.init), v >= 1_000_000 else { usage() }
            o.repeatCount = v
        case "--cpu": guard let v = args.popFirst().flatMap(Int32.init), v >= 0 else { usage() }; o.cpu = v
        case "--json": o.json = true
        case "-h", "--help": usage(status: 0)
        case "--": continue
        default: usage()
        }
    }
    return o
}

let options = parse()
if let cpu = options.cpu {
    let rc = bench_pin_cpu(cpu)
    if rc != 0 { fail("cannot pin to CPU \(cpu): \(String(cString: strerror(-rc)))") }
}

let bench: ProgBench
do {
    bench = try ProgBench()
    for frame in TestFrame.all { try bench.verifyClass(frame) }
} catch {
    fail("\(error)" + (geteuid() != 0 ? " (run as root)" : ""))
}

struct Row {
    let frame: TestFrame
    var pass: [Double] = []
    var rx: [Double] = []
}

var rows = TestFrame.all.map { Row(frame: $0) }
do {
    for frame in TestFrame.all {  // warm-up, not recorded
        _ = try bench.run(fd: bench.baselineFD, frame: frame, repeat: options.repeatCount)
        _ = try bench.run(fd: bench.countersFD, frame: frame, repeat: options.repeatCount)
    }
    for trial in 0..<options.trials {
        for i in rows.indices {
            let counters = trial % 2 == 1
            for fd in counters ? [bench.countersFD, bench.baselineFD] : [bench.baselineFD, bench.countersFD] {
                let s = try bench.run(fd: fd, frame: rows[i].frame, repeat: options.repeatCount)
                if fd == bench.baselineFD { rows[i].pass.append(Double(s.kernelNs)) } else { rows[i].rx.append(Double(s.kernelNs)) }
            }
        }
    }
} catch {
    fail("\(error)")
}

struct Summary {
    let name: String, len: Int
    let pass: [Double], rx: [Double]
    var passMedian: Double { median(pass) }
    var rxMedian: Double { median(rx) }
    /// Per trial, the two programs ran back to back: pair them, so that a trial in which
    /// the host slowed the whole VM down moves both sides.
    var deltas: [Double] { zip(rx, pass).map { $0 - $1 } }
    var delta: Double { median(deltas) }
    /// Best case of each side: what the cost is when the host leaves the VM alone.
    var deltaMin: Double { (rx.min() ?? .nan) - (pass.min() ?? .nan) }
}
let summaries = rows.map { Summary(name: $0.frame.name, len: $0.frame.bytes.count, pass: $0.pass, rx: $0.rx) }
let worst = summaries.map(\.delta).max() ?? .nan
let met = worst <= options.goalNs

func f(_ v: Double) -> String { String(format: "%.1f", v) }
func list(_ v: [Double]) -> String { v.map { String(Int($0)) }.joined(separator: ", ") }
func pad(_ s: String, _ w: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, w - s.count))
    return left ? s + fill : fill + s
}

if options.json {
    let frames = summaries.map { s in
        """
        {"frame": "\(s.name)", "len": \(s.len), "baseline_ns": \(f(s.passMedian)), "counters_ns": \(f(s.rxMedian)), \
        "delta_ns": \(f(s.delta)), "delta_min_ns": \(f(s.deltaMin)), "delta_ns_trials": [\(list(s.deltas))], \
        "baseline_ns_trials": [\(list(s.pass))], "counters_ns_trials": [\(list(s.rx))]}
        """
    }
    print("""
    {"repeat": \(options.repeatCount), "trials": \(options.trials), "goal_delta_ns": \(f(options.goalNs)), \
    "max_delta_ns": \(f(worst)), "goal_met": \(met), "frames": [\(frames.joined(separator: ", "))]}
    """)
} else {
    print("BPF_PROG_TEST_RUN (XDP), repeat \(options.repeatCount), \(options.trials) trials; "
          + "kernel-reported ns per frame (whole ns); median (min)")
    print("")
    let header = pad("frame", 19, left: true) + pad("len", 4)
        + pad("bt_bench_pass", 16) + pad("bt_xdp_rx", 13) + pad("delta", 13)
    print(header)
    print(String(repeating: "-", count: header.count))
    for s in summaries {
        print(pad(s.name, 19, left: true) + pad("\(s.len)", 4)
              + pad("\(f(s.passMedian)) (\(Int(s.pass.min() ?? 0)))", 16)
              + pad("\(f(s.rxMedian)) (\(Int(s.rx.min() ?? 0)))", 13)
              + pad("\(f(s.delta)) (\(f(s.deltaMin)))", 13))
    }
    print("")
    print("delta = median over trials of (bt_xdp_rx - bt_bench_pass), each pair run back to back;")
    print("        (min) = min(bt_xdp_rx) - min(bt_bench_pass)")
    print("worst delta (median): \(f(worst)) ns per frame; goal <= \(f(options.goalNs)) ns: \(met ? "met" : "NOT met")")
}
