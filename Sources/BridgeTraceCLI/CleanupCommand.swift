import ArgumentParser
import BridgeTraceBench
import BridgeTraceCore
import BridgeTraceKernel
import BridgeTraceSwitch
import Foundation

struct CleanupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove bridgetrace programs that a killed run left attached.",
        discussion: """
        Looks at every interface of the current network namespace and of every named one \
        (`ip netns list`), or only of --netns. Namespaces where a bridgetrace is still \
        running are left alone.
        """
    )

    @Option(help: "Only this named network namespace.")
    var netns: String?

    func run() throws {
        try Preflight.requirePrivileges()
        let namespaces: [String?] = netns.map { [$0] } ?? ([nil] + NetworkNamespace.available())
        if let netns, !NetworkNamespace.available().contains(netns) {
            try NetworkNamespace.enter(named: netns)  // throws the "not found" message
        }
        var removedCount = 0
        // A bench run killed with SIGKILL leaves its namespaces (btb<pid>-*), with its
        // generator and sink attached inside; deleting them takes both along.
        if netns == nil {
            for name in BenchNetwork.removeStale() {
                print("removed namespace \(name) of a benchmark run that is gone")
                removedCount += 1
            }
        }
        // A killed switch leaves its pins (its programs and maps stay loaded through them).
        for name in SwitchPins.names() where SwitchPins.livePID(name) == nil && SwitchPins.exists(name) {
            SwitchPins.remove(name)
            print("removed the pinned state of switch \(name), which is not running")
            removedCount += 1
        }
        for namespace in namespaces where namespace.map({ BenchNetwork.ownerPID(of: $0) == nil }) ?? true {
            let result = Result { try NamespaceThread.run(in: namespace) { () throws -> [String] in
                let lock = try InstanceLock(netnsInode: NetworkNamespace.currentInode())
                defer { withExtendedLifetime(lock) {} }
                let links = try NetlinkLinks.dump()
                return StaleProgramCleanup.run(links: links.map { ($0.name, $0.ifindex) }) + SwitchHostPort.removeStale()
            } }
            let place = namespace.map { "netns \($0)" } ?? "current netns"
            switch result {
            case .success(let removed):
                for line in removed { print("removed \(line) (\(place))") }
                removedCount += removed.count
            case .failure(let error):
                print("skipped \(place): \(error)")
            }
        }
        print(removedCount == 0 ? "no stale bridgetrace programs found" : "removed \(removedCount) stale program(s)")
    }
}
