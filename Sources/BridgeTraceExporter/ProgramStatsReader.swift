import BridgeTraceKernel
import Foundation

/// The kernel's own accounting of bridgetrace's programs (bpf_prog_info run_time_ns and
/// run_cnt), which it keeps only while the sysctl kernel.bpf_stats_enabled is 1.
enum ProgramStatsReader {
    static let sysctl = "/proc/sys/kernel/bpf_stats_enabled"

    static var enabled: Bool {
        (try? String(contentsOfFile: sysctl, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    /// Every loaded program of `objects`, by name; empty when stats are off. A program
    /// attached to several ports is one program: its figures cover them all.
    static func read(_ objects: [BPFObject]) -> [ProgramStats] {
        guard enabled else { return [] }
        var result: [ProgramStats] = []
        for object in objects {
            // Loaded programs only: the drop hook not taken is not counted.
            for program in object.programs {
                guard let info = program.info() else { continue }
                result.append(ProgramStats(program: program.name, runTimeNs: info.runTimeNs, runCount: info.runCount))
            }
        }
        return result.sorted { $0.program < $1.program }
    }
}
