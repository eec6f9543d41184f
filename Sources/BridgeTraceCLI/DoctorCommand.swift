import ArgumentParser
import BridgeTraceCore
import BridgeTraceExporter
import BridgeTraceKernel
import Foundation

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "What this kernel and these privileges offer bridgetrace, and what each command does with it.",
        discussion: """
        Probes every kernel feature bridgetrace uses by loading a tiny program or making a \
        tiny object (never by the kernel's version), then says for each command whether it \
        runs as designed, with a fallback (and which), or not at all. Nothing is attached to \
        any interface. Exit status 0, or 1 when a command cannot run here.
        """
    )

    @Flag(help: "One JSON object: features and commands.")
    var json = false

    func run() throws {
        let build = BuildInfo.current()
        var machine = utsname()
        uname(&machine)
        let arch = withUnsafeBytes(of: machine.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let report = DoctorReport(
            host: DoctorReport.Host(kernel: build.kernel, machine: arch, version: build.version, libbpf: build.libbpf,
                                    libxdp: build.libxdp),
            support: KernelProbe.all())
        if json {
            print(report.json.rendered())
        } else {
            print(report.text, terminator: "")
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }
}
