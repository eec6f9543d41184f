import ArgumentParser
import BridgeTraceCore
import BridgeTraceKernel
import BridgeTraceLab
import BridgeTraceProcess
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "A lab bridge, broken three ways, diagnosed each time; then torn down.",
        discussion: """
        Builds a lab (a bridge in a network namespace, two VMs, a gateway), starts pings, \
        runs `diagnose` on the healthy bridge, then injects faults one after another and \
        shows each diagnosis. Everything is removed at the end, on Ctrl-C too. About a minute.
        """
    )

    @Option(help: "Lab name (namespaces NAME-br, NAME-vm1, ...).")
    var name = "btdemo"

    @Option(help: "Seconds each diagnosis watches.")
    var duration: Double = 4

    static let faults: [LabFault] = [.netfilterDrop, .stpNotForwarding, .portIsolated]

    func run() throws {
        try Preflight.requirePrivilegesForDemo()
        let topology = try LabTopology(name: name, vms: 2)
        if Lab.exists(name: name) { _ = try Lab.down(name: name) }
        StopSignals.install()
        say("== 1. A lab: bridge br0 in network namespace \(topology.bridgeNamespace), two VMs and a gateway")
        try Lab.up(topology)
        defer {
            _ = try? Lab.down(name: name)
            say("\n== Done: the lab is gone (bridgetrace lab down --name \(name)).")
        }
        say(topology.summary)
        say("\nTraffic: vm1 pings the gateway \(topology.gatewayIP), vm2 pings vm1, all the time.")
        let traffic = [
            try BackgroundProcess.inNetns(topology.vmNamespace(1), ["ping", "-i", "0.3", "-W", "1", topology.gatewayIP]),
            try BackgroundProcess.inNetns(topology.vmNamespace(2), ["ping", "-i", "0.5", "-W", "1", topology.vmIP(1)]),
        ]
        defer { traffic.forEach { $0.stop() } }

        say("\n== 2. The healthy bridge")
        try diagnose(topology)
        for (index, fault) in Self.faults.enumerated() where !StopSignals.stopRequested {
            say("\n== \(index + 3). Fault: \(fault.summary.replacingOccurrences(of: "PORT", with: fault.defaultPort(in: topology) ?? "the port"))")
            say("   (injected with: bridgetrace lab fault \(fault.rawValue) --name \(name))")
            _ = try LabFaults.inject(fault, lab: name)
            try diagnose(topology)
            _ = try LabFaults.clear(lab: name)
        }
    }

    /// Runs `bridgetrace diagnose` as a child, so it enters the lab's namespace on its own.
    private func diagnose(_ topology: LabTopology) throws {
        let command = ["diagnose", topology.bridgeName, "--netns", topology.bridgeNamespace, "--duration", String(duration)]
        say("$ bridgetrace \(command.joined(separator: " "))")
        let process = try ChildProcess([CommandLine.executablePath] + command, stdout: .inherit, stderr: .inherit)
        if process.wait() == 2 { throw UserError("diagnose failed; see the message above") }
    }

    private func say(_ text: String) {
        _ = writeStandardOutput(text + "\n")
    }
}

extension CommandLine {
    /// This binary, wherever it was started from.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
