import ArgumentParser
import BridgeTraceCore
import BridgeTraceLab

extension LabCommand {
    /// `bridgetrace lab fault NAME [--port P]`, `lab fault clear`, `lab fault list`.
    struct Fault: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inject a fault into the lab (NAME), remove them all (clear), or list them (list).",
            discussion: """
                NAME is a cause code of `diagnose`: \(LabFault.allCases.map(\.rawValue).joined(separator: ", ")). \
                Injecting is idempotent, prints the commands it ran and how to undo them. \
                `clear` removes every fault, including background senders; `lab down` stops those too.
                """)

        @OptionGroup var lab: LabNameOption

        @Argument(help: "A fault name, `clear` or `list`.")
        var name: String

        @Option(help: "The bridge port the fault lands on (vmI or uplink); each fault has a default (see list).")
        var port: String?

        func validate() throws {
            if name == "list" || name == "clear" {
                if port != nil { throw ValidationError("--port applies to a fault, not to `\(name)`") }
                return
            }
            guard LabFault(rawValue: name) != nil else {
                throw ValidationError(
                    "unknown fault '\(name)'; use one of: \(LabFault.allCases.map(\.rawValue).joined(separator: ", ")),"
                        + " or `clear`, or `list`")
            }
        }

        func run() throws {
            switch name {
            case "list":
                print(LabFault.listText)
            case "clear":
                print(try LabFaults.clear(lab: lab.name).text)
            default:
                let fault = try LabFault.named(name)
                print(try LabFaults.inject(fault, lab: lab.name, port: port).text)
            }
        }
    }
}
