import ArgumentParser

struct CountersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "counters")
    func run() throws {}
}

struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cleanup")
    func run() throws {}
}
