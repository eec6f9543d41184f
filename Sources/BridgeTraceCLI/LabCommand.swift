import ArgumentParser
import BridgeTraceCore
import BridgeTraceLab

struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "A reproducible lab: a bridge, VMs and a gateway in network namespaces.",
        discussion: """
            The bridge br0 lives in netns NAME-br, VM i in NAME-vmI (port vmI), the gateway in \
            NAME-lan (port uplink). Addresses are from 198.18.0.0/24 and exist only in the lab. \
            Nothing is created in the root namespace.
            """,
        subcommands: [Up.self, Down.self, Status.self, Fault.self]
    )
}

/// `--name`, shared by every lab subcommand.
struct LabNameOption: ParsableArguments {
    @Option(help: "The lab's name; its namespaces are NAME-br, NAME-vmI and NAME-lan.")
    var name: String = LabTopology.defaultName
}

extension LabCommand {
    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the lab. Fails if a lab of that name exists; a failed build removes what it made.")

        @OptionGroup var lab: LabNameOption

        @Option(help: "Number of VMs, 1 to \(LabTopology.maxVMCount).")
        var vms: Int = LabTopology.defaultVMCount

        @Flag(help: "Keep IPv6 on. It is off so that counters see only the frames you send.")
        var ipv6 = false

        @Option(
            help: ArgumentHelp(
                "veth: every VM is a namespace. qemu: VM 1 is a real QEMU guest (TCG) on tap port vm1.",
                discussion: "qemu needs Debian's linux-image-amd64, busybox-static and qemu-system-x86; "
                    + "the guest boots in seconds to a minute, and `lab up` waits until it answers ping."))
        var vmKind: LabOptions.VMKind = .veth

        func run() throws {
            let topology = try LabTopology(name: lab.name, vms: vms)
            // A guest boots for seconds to a minute: Ctrl-C then removes the half-built lab
            // and its QEMU instead of leaving them behind.
            if vmKind == .qemu { StopSignals.install() }
            try Lab.up(topology, options: LabOptions(ipv6: ipv6, vmKind: vmKind)) { StopSignals.stopRequested }
            print(topology.summary)
            for i in LabOptions(vmKind: vmKind).qemuVMs(in: topology) {
                let pid = QEMUGuest.runningPid(lab: topology.name, vm: i).map { "pid \($0)" } ?? "not running"
                print("vm\(i) is a QEMU guest (\(pid)) on tap port \(topology.vmPort(i)), not a netns; "
                    + "serial console: \(QEMUGuest.serialLog(lab: topology.name, vm: i))")
            }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the lab's namespaces. Exits 0 when there is nothing to remove.")

        @OptionGroup var lab: LabNameOption

        func run() throws {
            let removed = try Lab.down(name: lab.name)
            if removed.isEmpty {
                print("lab \(lab.name): nothing to remove")
            } else {
                print("lab \(lab.name) is down: removed netns \(removed.joined(separator: ", "))")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the lab's namespaces, ports, states and addresses.",
            discussion: "Exits 0 when the lab is up, 1 when it is not up or some namespaces are missing.")

        @OptionGroup var lab: LabNameOption

        func run() throws {
            guard let status = try Lab.status(name: lab.name) else {
                print("lab \(lab.name) is not up; start it with `bridgetrace lab up --name \(lab.name)`")
                throw ExitCode(1)
            }
            print(status.text)
            if !status.isComplete { throw ExitCode(1) }
        }
    }
}

extension LabOptions.VMKind: ExpressibleByArgument {}
