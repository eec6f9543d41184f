import ArgumentParser
import BridgeTraceBench
import BridgeTraceCore
import BridgeTraceKernel
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Throughput and latency of a bridge, RFC 2544 style.",
        discussion: """
        Builds the device under test in network namespaces of its own (btb<pid>-*), sends \
        IPv4/UDP frames from a generator into one port and counts them, with their sequence \
        numbers and one-way latency, in an XDP sink on the other side. The generator is the \
        fastest this kernel allows, tried at the start: XDP live frames (BPF_PROG_TEST_RUN), \
        else an AF_XDP socket, else AF_PACKET; the output says which and why. Everything is \
        removed when the run ends, however it ends.

        Frame sizes include the 4-byte FCS, as in RFC 2544. Rates are frames per second \
        (k and M suffixes work: --rate 500k). Without --rfc2544 every trial runs --duration \
        seconds (or --count frames) at --rate, --trials times; with --with-tracer the trials \
        alternate between the tracer modes, and each mode's rate is reported as a ratio to \
        none.

        Examples:
          bridgetrace bench --dut linux-bridge --dut direct
          bridgetrace bench --with-tracer all --netfilter off
          bridgetrace bench --rfc2544 --dut linux-bridge --netfilter off --report /tmp/bench
          bridgetrace bench --rfc2544 --netfilter off --frame-size 64 --dut linux-bridge \
            --dut xdp-switch --dut afxdp-switch --dut ovs-afxdp

        At full rate the generator's own ceiling (its rate into the direct DUT, measured in \
        the same run) is reported, and a DUT within 10% of it is flagged generator-bound: \
        that rate is the generator's limit, not the DUT's.

        With two DUTs or more, each is also given as a ratio to the Linux bridge; with \
        --rfc2544 that includes p99 latency at 50% of the Linux bridge's NDR, the same \
        rate for every DUT. --dut-cpu gives every DUT the same CPU budget: own puts all \
        of a DUT's work (NAPI polls, the switch's or OVS's threads) on CPU 1 and the \
        generator on CPU 0; shared puts everything on CPU 0.
        """)

    @Option(name: .customLong("dut"), help: "Device under test: linux-bridge, direct, xdp-switch, afxdp-switch or ovs-afxdp (repeatable).")
    var duts: [String] = ["linux-bridge"]

    @Option(help: "linux-bridge: bridge-nf-call-iptables on, off or both.")
    var netfilter: String = "both"

    @Option(name: .customLong("frame-size"), help: "Frame size in bytes with FCS, 64-1518 or 9000 (repeatable; default 64, or RFC 2544's seven sizes).")
    var frameSizes: [Int] = []

    @Option(help: "Distinct flows (source MAC, IP and UDP port), 1-65535.")
    var flows: Int = 1

    @Option(help: "Tag every frame with this 802.1Q VLAN ID.")
    var vlan: UInt16?

    @Option(help: "Frames per second, or max.")
    var rate: String = "max"

    @Option(help: "Send exactly this many frames per trial instead of --duration seconds.")
    var count: UInt64?

    @Option(help: "Seconds per trial (default 2; 1 with --rfc2544).")
    var duration: Double?

    @Option(help: "Trials per measurement (repetitions with --rfc2544).")
    var trials: Int = 3

    @Flag(help: "RFC 2544: throughput (NDR, PDR), latency, frame loss rate and back-to-back.")
    var rfc2544 = false

    @Option(name: .customLong("with-tracer"), help: "none, floor (empty programs on the same hooks), counters, full, tcpdump or all (repeatable).")
    var tracers: [String] = []

    @Option(name: .customLong("tracer-rx-hook"), help: "Where counters and full count rx: auto (tc on veth, XDP elsewhere), xdp or tc.")
    var tracerRxHook: String = "auto"

    @Option(help: "auto (the fastest the kernel allows: XDP live frames, then AF_XDP, then AF_PACKET), xdp, af-xdp or af-packet.")
    var generator: String = "auto"

    @Option(help: "Frames per live-frames kernel batch, and per burst with --pacing sleep, 1-256 (default: by rate; 64 with --pacing sleep).")
    var batch: Int?

    @Option(help: "How a fixed --rate is held: spin (frames evenly spaced, the generator spins a CPU) or sleep (a burst of --batch frames every batch/rate seconds, asleep in between: a steady feed that leaves the CPU to others; not for latency or --rfc2544).")
    var pacing: String = "spin"

    @Option(name: .customLong("hold-file"), help: "For scripts: before the first trial and after the last, write this file (JSON: state ready|done, dut, netns, bridge, ports) and wait until it is deleted.")
    var holdFile: String?

    @Option(name: .customLong("dut-cpu"), help: "shared: the DUT runs on the generator's CPU (closed loop, steady); own: on a CPU of its own (open loop, can drop). Default: own with --rfc2544, else shared.")
    var dutCPU: String?

    @Flag(name: .customLong("vs-trafgen"), help: "Also compare the generator with trafgen on one veth pair.")
    var versusTrafgen = false

    @Flag(help: "Print the whole result as one JSON object.")
    var json = false

    @Option(help: "Write an HTML report with plots into this directory.")
    var report: String?

    @Flag(name: .customLong("no-progress"), help: "No progress bar, even on a terminal.")
    var noProgress = false

    func validate() throws {
        if parsedRate == nil { throw ValidationError("--rate: give frames per second (e.g. 100000, 500k, 1.5M) or max") }
        if !["on", "off", "both"].contains(netfilter) { throw ValidationError("--netfilter must be on, off or both") }
        if RxHookPolicy(rawValue: tracerRxHook) == nil { throw ValidationError("--tracer-rx-hook must be auto, xdp or tc") }
        if let dutCPU, DUTPlacement(rawValue: dutCPU) == nil { throw ValidationError("--dut-cpu must be shared or own") }
        if GeneratorPacing(rawValue: pacing) == nil { throw ValidationError("--pacing must be spin or sleep") }
        if GeneratorChoice(rawValue: generator) == nil {
            let names = GeneratorChoice.allCases.map(\.rawValue)
            throw ValidationError("--generator must be \(names.dropLast().joined(separator: ", ")) or \(names.last!)")
        }
        for tracer in tracers where TracerMode.parse(tracer) == nil {
            throw ValidationError("--with-tracer \(tracer): use none, floor, counters, full, tcpdump or all")
        }
        for dut in duts where DUTKind(rawValue: dut) == nil {
            throw ValidationError("--dut \(dut): use \(DUTKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// nil: unparsable; .some(nil): max.
    var parsedRate: Double?? {
        if rate == "max" { return .some(nil) }
        var text = rate.lowercased()
        var scale = 1.0
        if text.hasSuffix("k") { scale = 1e3; text.removeLast() } else if text.hasSuffix("m") { scale = 1e6; text.removeLast() }
        guard let value = Double(text), value > 0 else { return nil }
        return .some(value * scale)
    }

    var plan: BenchPlan {
        var selections: [DUTSelection] = []
        for dut in duts {
            switch DUTKind(rawValue: dut)! {
            case .linuxBridge:
                if netfilter != "off" { selections.append(.linuxBridge(netfilter: true)) }
                if netfilter != "on" { selections.append(.linuxBridge(netfilter: false)) }
            case .direct: selections.append(.direct)
            case .xdpSwitch: selections.append(.afxdpSwitch(fastPath: true))
            case .afxdpSwitch: selections.append(.afxdpSwitch(fastPath: false))
            case .ovsAFXDP: selections.append(.ovsAFXDP)
            }
        }
        let sizes = frameSizes.isEmpty ? (rfc2544 ? RFC2544Settings.standardFrameSizes : [64]) : frameSizes
        var plan = BenchPlan(duts: selections, frameSizes: sizes, duration: duration ?? (rfc2544 ? 1 : 2), trials: trials)
        plan.flows = flows
        plan.vlan = vlan
        plan.ratePPS = parsedRate ?? nil
        plan.count = count
        var modes: [TracerMode] = []
        for tracer in tracers { for mode in TracerMode.parse(tracer) ?? [] where !modes.contains(mode) { modes.append(mode) } }
        if !modes.isEmpty && !modes.contains(.none) { modes.insert(.none, at: 0) }
        plan.tracers = modes.isEmpty ? [.none] : modes
        if rfc2544 { plan.rfc2544 = RFC2544Settings(trialDuration: duration ?? 1, repetitions: trials) }
        plan.generator = GeneratorChoice(rawValue: generator) ?? .auto
        plan.batch = batch
        plan.pacing = GeneratorPacing(rawValue: pacing) ?? .spin
        plan.holdFile = holdFile
        plan.dutCPU = dutCPU.flatMap(DUTPlacement.init(rawValue:))
        plan.tracerRxHook = RxHookPolicy(rawValue: tracerRxHook) ?? .auto
        plan.compareWithTrafgen = versusTrafgen
        return plan
    }

    func run() throws {
        try Preflight.requirePrivileges()
        let plan = self.plan
        try plan.validate()
        if let report { try HTMLReport.prepare(directory: report) }
        StopSignals.install()
        let progress: BenchProgress = !noProgress && isatty(STDERR_FILENO) == 1 ? TerminalProgress() : SilentProgress()
        let runner = BenchRunner(plan: plan, progress: progress, shouldStop: { StopSignals.stopRequested })
        let result: BenchReport
        do {
            result = try runner.run()
        } catch is BenchInterrupted {
            progress.finish()
            writeNote("bench interrupted; its namespaces and programs were removed")
            throw ExitCode(130)
        }
        if json {
            _ = writeStandardOutput(String(decoding: try result.json(), as: UTF8.self) + "\n")
        } else {
            _ = writeStandardOutput(SummaryTable.render(result) + "\n")
        }
        if let report {
            let path = try HTMLReport.write(result, to: report)
            writeNote("report written to \(path)")
        }
    }
}

/// A one-line progress bar on stderr, redrawn in place.
final class TerminalProgress: BenchProgress {
    private var lastDraw = Date.distantPast
    private let width = 30

    func update(fraction: Double, label: String) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let columns = Self.terminalColumns()
        var line = String(format: "[%@] %3d%% ", bar, Int(fraction * 100)) + label
        if line.count > columns - 1 { line = String(line.prefix(columns - 1)) }
        FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
    }

    func log(_ line: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + "\n").utf8))
        lastDraw = .distantPast
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func terminalColumns() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 20 { return Int(size.ws_col) }
        return 100
    }
}
