import BridgeTraceCore
import Foundation

/// Where the DUT's receive processing runs (`--dut-cpu`).
///
/// Frames the generator redirects into a veth are queued for the peer's NAPI poll, which
/// by default runs in softirq on the CPU that queued them: right after each generator
/// batch, on the generator's own CPU.
public enum DUTPlacement: String, CaseIterable, Codable, Sendable {
    /// Generator, DUT and sink take turns on one CPU: a closed loop. A slower DUT slows
    /// the generator down instead of losing frames, so the figure is the whole
    /// pipeline's rate, and it is steady. Loss shows only when the kernel defers
    /// softirq work. Good for comparing DUTs and tracers.
    case shared
    /// The DUT's receive queue is polled by a NAPI kernel thread pinned to a CPU of its
    /// own (threaded NAPI); the generator is pinned to another. An open loop, as with a
    /// hardware tester: offered more than it can forward, the DUT drops at its 256-frame
    /// veth queue. Needed for a meaningful NDR; noisy when other work shares the CPUs.
    case own
}

/// Moves a port's NAPI polling into a kernel thread pinned to one CPU.
enum NAPIThreads {
    static let generatorCPU: Int32 = 0
    static let dutCPU: Int32 = 1
    static let realtimePriority: Int32 = 50
    /// A userspace DUT's threads (the switch's, OVS's PMD): real-time like the NAPI thread,
    /// so that the machine's other work preempts neither, and one below it, so that the
    /// poll that feeds them preempts them, as softirq preempts any task.
    static let dutThreadPriority: Int32 = realtimePriority - 1
    /// A sleep-paced generator: real-time so that it wakes on time on a busy machine (a
    /// late wake-up is a burst, or frames not sent), below the DUT's threads so that a
    /// DUT sharing its CPU preempts it. Asleep most of the time, it starves nobody.
    static let sleepingGeneratorPriority: Int32 = dutThreadPriority - 1

    /// Thread ids whose name starts with "napi/" (kernel NAPI threads), all namespaces.
    static func napiThreads() -> Set<Int32> {
        var found: Set<Int32> = []
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in processes where pid.allSatisfy(\.isNumber) {
            // Kernel threads are their own single task.
            guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
                  comm.hasPrefix("napi/"), let tid = Int32(pid) else { continue }
            found.insert(tid)
        }
        return found
    }

    /// Turns threaded NAPI on for `port` and pins the thread it creates to `cpu`. The
    /// port must have NAPI already (GRO on, or an XDP program attached): the kernel
    /// refuses (EIO) to thread a device with none.
    static func place(_ port: Endpoint, network: BenchNetwork, cpu: Int32 = dutCPU) throws -> String {
        guard ProcessInfo.processInfo.activeProcessorCount >= 2 else {
            throw UserError("--dut-cpu own needs two CPUs (one for the generator, one for the DUT); this machine has one: use --dut-cpu shared")
        }
        let before = napiThreads()
        let result = try network.runner.result(["ip", "netns", "exec", port.namespace, "sh", "-c",
                                                "echo 1 > /sys/class/net/\(port.interface)/threaded"])
        guard result.succeeded else {
            throw UserError("cannot turn threaded NAPI on for \(port.interface): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)); use --dut-cpu shared")
        }
        let created = napiThreads().subtracting(before)
        guard !created.isEmpty else {
            throw UserError("threaded NAPI on \(port.interface) started no kernel thread; use --dut-cpu shared")
        }
        for tid in created {
            try ThreadPlacement.pin(tid, to: cpu, what: "NAPI thread \(tid) of \(port.interface)")
            // Softirq NAPI preempts any task; a NAPI thread does not. Real-time priority
            // gives it back that precedence over other work on a shared machine.
            try? ThreadPlacement.makeRealtime(tid, priority: realtimePriority, what: "NAPI thread \(tid)")
        }
        return "\(port.interface) is polled by a NAPI thread (SCHED_FIFO \(realtimePriority)) on CPU \(cpu); the generator runs on CPU \(generatorCPU)"
    }
}
