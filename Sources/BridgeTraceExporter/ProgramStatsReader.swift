import BridgeTraceKernel
import CLibBPF
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
            for name in object.programNames {
                guard let fd = try? object.programFD(name) else { continue }  // not loaded (the other drop hook)
                var info = bpf_prog_info()
                var length = UInt32(MemoryLayout<bpf_prog_info>.size)
                guard bpf_obj_get_info_by_fd(fd, &info, &length) == 0 else { continue }
                result.append(ProgramStats(program: name, runTimeNs: info.run_time_ns, runCount: info.run_cnt))
            }
        }
        return result.sorted { $0.program < $1.program }
    }
}
