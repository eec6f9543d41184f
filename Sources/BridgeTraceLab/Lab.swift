import BridgeTraceCore
import BridgeTraceProcess
import Foundation

/// Brings labs up, takes them down and reports on them. A lab is identified by its name alone:
/// everything it owns is a namespace called "<name>-br", "<name>-lan" or "<name>-vm<i>".
public enum Lab {
    /// Builds the lab. Fails, without touching anything, when any namespace of that name exists;
    /// `up` is not idempotent because an existing lab may have another VM count or options, and
    /// silently keeping it would hide that. On a failure midway it removes what it created.
    /// `isCancelled` is polled while a QEMU guest boots (seconds to a minute): when it turns
    /// true, `up` stops the guest, removes what it built and throws.
    public static func up(
        _ topology: LabTopology, options: LabOptions = LabOptions(),
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws {
        try up(topology, options: options, runner: CommandRunner(), isCancelled: isCancelled)
    }

    static func up(
        _ topology: LabTopology, options: LabOptions, runner: any CommandRunning,
        isCancelled: @escaping @Sendable () -> Bool = { false }
    ) throws {
        try requireRoot("lab up")
        let existing = LabNamespaces.owned(by: topology.name)
        guard existing.isEmpty else {
            throw UserError(
                "lab \(topology.name) already exists (netns \(existing.joined(separator: ", "))); "
                    + "run `bridgetrace lab down --name \(topology.name)` first")
        }
        try LabBuilder(topology: topology, options: options, runner: runner, isCancelled: isCancelled).build()
    }

    /// Deletes every namespace of lab `name` and returns their names; empty when there was
    /// nothing to remove, which is not an error, so `down` can always be run to be sure.
    @discardableResult
    public static func down(name: String) throws -> [String] {
        try LabTopology.validate(name: name)
        try requireRoot("lab down")
        // QEMU first: a namespace whose tap it holds open would outlive `ip netns del`.
        QEMUGuest.stopAll(lab: name)
        LabFaults.stopBackground(lab: name)  // fault senders would keep their namespaces alive
        let runner = CommandRunner()
        var removed: [String] = []
        var failures: [String] = []
        for namespace in LabNamespaces.owned(by: name) {
            let result = try runner.result(["ip", "netns", "del", namespace])
            if result.succeeded {
                removed.append(namespace)
            } else {
                failures.append("\(namespace): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        guard failures.isEmpty else {
            throw UserError(
                "could not remove \(failures.joined(separator: "; ")); "
                    + "check `ip netns pids NAME` for processes still inside")
        }
        return removed
    }

    /// The lab's namespaces and interfaces, or nil when none of its namespaces exist.
    public static func status(name: String) throws -> LabStatus? {
        try LabTopology.validate(name: name)
        try requireRoot("lab status")
        return try LabStatus.read(name: name, runner: CommandRunner())
    }

    /// Whether any namespace of lab `name` exists.
    public static func exists(name: String) -> Bool {
        !LabNamespaces.owned(by: name).isEmpty
    }

    /// The namespaces of lab `name` that exist now, bridge first.
    public static func namespaces(name: String) -> [String] {
        LabNamespaces.owned(by: name)
    }

    /// Creating and entering network namespaces needs CAP_SYS_ADMIN; say so before `ip` does.
    private static func requireRoot(_ command: String) throws {
        guard geteuid() == 0 else {
            throw UserError("\(command) needs root (it creates and enters network namespaces); run it with sudo")
        }
    }
}
