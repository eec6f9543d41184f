import ArgumentParser
import BridgeTraceCore

public struct BridgeTraceCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bridgetrace",
        abstract: "Shows where frames die between the ports of a Linux bridge.",
        subcommands: [CountersCommand.self, TraceCommand.self, DropsCommand.self, BenchCommand.self, CleanupCommand.self, LabCommand.self]
    )

    public init() {}
}
