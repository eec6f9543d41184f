import ArgumentParser
import BridgeTraceCore

public struct BridgeTraceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bridgetrace",
        abstract: "Shows where frames die between the ports of a Linux bridge.",
        subcommands: [
            DiagnoseCommand.self, TraceCommand.self, CountersCommand.self, DropsCommand.self, BenchCommand.self,
            ExporterCommand.self, SwitchCommand.self, LabCommand.self, CleanupCommand.self, DoctorCommand.self, DemoCommand.self,
        ]
    )

    public init() {}
}
