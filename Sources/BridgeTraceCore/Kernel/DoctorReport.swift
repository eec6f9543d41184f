/// `bridgetrace doctor`: the probed features and what each command does with them, as a
/// text report and as JSON. Pure: the probing is done before.
public struct DoctorReport: Sendable {
    public struct Host: Sendable {
        public var kernel: String
        public var machine: String
        public var version: String
        public var libbpf: String
        public var libxdp: String

        public init(kernel: String, machine: String, version: String, libbpf: String, libxdp: String) {
            self.kernel = kernel
            self.machine = machine
            self.version = version
            self.libbpf = libbpf
            self.libxdp = libxdp
        }
    }

    public var host: Host
    public var support: KernelSupport

    public init(host: Host, support: KernelSupport) {
        self.host = host
        self.support = support
    }

    /// Exit status: 1 when a command cannot run here, else 0.
    public var exitStatus: Int32 {
        support.commands.contains { $0.status == .unavailable } ? 1 : 0
    }

    public var json: JSONValue {
        .object([
            ("kernel", .string(host.kernel)),
            ("machine", .string(host.machine)),
            ("version", .string(host.version)),
            ("libbpf", .string(host.libbpf)),
            ("libxdp", .string(host.libxdp)),
            ("features", .array(support.features.map { status in
                .object([
                    ("name", .string(status.feature.rawValue)),
                    ("available", .bool(status.available)),
                    ("state", .string(status.state.rawValue)),
                    ("detail", .string(status.detail)),
                    ("title", .string(status.feature.title)),
                    ("since", status.feature.since.isEmpty ? .null : .string(status.feature.since)),
                    ("without", .string(status.feature.without)),
                ])
            })),
            ("commands", .array(support.commands.map { command in
                .object([
                    ("command", .string(command.command.rawValue)),
                    ("status", .string(command.status.rawValue)),
                    ("fallbacks", .array(command.fallbacks.map(JSONValue.string))),
                ])
            })),
        ])
    }

    public var text: String {
        var lines = ["bridgetrace \(host.version) on kernel \(host.kernel) (\(host.machine)), libbpf \(host.libbpf), libxdp \(host.libxdp)", ""]
        var rows = [["FEATURE", "STATE", "SINCE", "WHAT THE PROBE SAW"]]
        for status in support.features {
            rows.append([status.feature.rawValue, status.state.rawValue, status.feature.since.isEmpty ? "-" : status.feature.since,
                         Self.clip(status.detail)])
        }
        lines += TextTable.render(rows)
        let missing = support.features.filter { $0.state != .available }
        if !missing.isEmpty {
            lines.append("")
            for status in missing {
                lines.append("without \(status.feature.rawValue): \(status.feature.without)")
            }
        }
        lines.append("")
        var commandRows = [["COMMAND", "STATUS", "HOW"]]
        for command in support.commands {
            commandRows.append([command.command.rawValue, command.status.rawValue, command.fallbacks.first ?? "as designed"])
            commandRows += command.fallbacks.dropFirst().map { ["", "", $0] }
        }
        lines += TextTable.render(commandRows)
        return lines.joined(separator: "\n") + "\n"
    }

    /// A verifier verdict can be long; the table shows its start, --json all of it.
    static func clip(_ text: String, to width: Int = 90) -> String {
        text.count <= width ? text : String(text.prefix(width - 3)) + "..."
    }
}
