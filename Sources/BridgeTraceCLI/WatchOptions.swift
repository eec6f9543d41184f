import ArgumentParser
import BridgeTraceCore
import BridgeTraceKernel
import Foundation

/// Options shared by the commands that attach to a bridge.
struct WatchOptions: ParsableArguments {
    @Argument(help: "The bridge whose ports to watch, e.g. br0.")
    var bridge: String?

    @Option(name: .long, help: "Work inside this named network namespace (see `ip netns list`).")
    var netns: String?

    @Option(name: .customLong("port"), help: "Also watch this interface (repeatable); it need not be on a bridge.")
    var ports: [String] = []

    @Option(name: .long, help: "Write this file once every program is attached (for scripts and tests).")
    var readyFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "Where rx is counted: auto, xdp or tc.",
        discussion: "auto uses XDP, except on veth ports, where XDP makes the driver copy every frame and tc ingress sees the same frames for less."))
    var rxHook: RxHookPolicy = .auto

    func validate() throws {
        if bridge == nil && ports.isEmpty {
            throw ValidationError("name a bridge (e.g. `bridgetrace counters br0`) or at least one --port")
        }
    }

    var request: WatchRequest {
        WatchRequest(bridge: bridge, ports: ports, netns: netns, rxHook: (try? Preflight.rxHook(rxHook)) ?? .tc)
    }

    /// Privileges first, then the namespace (entered on this thread), then kernel
    /// features: the order in which a person would fix them.
    func prepare() throws {
        try Preflight.requirePrivileges(enteringNamespaces: netns != nil)
        _ = try Preflight.rxHook(rxHook)
        if let netns { try NetworkNamespace.enter(named: netns) }
        try Preflight.requireBTF()
        try Preflight.requireBPFFS()
    }

    /// What the operator should know about the attach: stale programs removed, where rx
    /// is counted when not where asked, drops that cannot be traced.
    func announce(_ session: WatchSession) {
        for line in session.removedStale {
            writeNote("removed a stale program left by a killed run: \(line)")
        }
        for port in session.ports {
            if let note = port.rxHookNote { writeNote("\(port.name): rx counted at tc ingress: \(note)") }
        }
        let legacy = session.ports.filter { $0.tcAttachment == .clsact }.map(\.name)
        if !legacy.isEmpty {
            let why = AttachMethod.legacyForced ? "BRIDGETRACE_LEGACY_ATTACH=1" : "this kernel has no tcx"
            writeNote("tc programs on \(legacy.joined(separator: ", ")) are clsact filters (\(why)): if this run is killed, the next run or `bridgetrace cleanup` removes them")
        }
        if let note = session.dropNote { writeNote("\(note)") }
    }

    func signalReady() throws {
        guard let readyFile else { return }
        if !FileManager.default.createFile(atPath: readyFile, contents: Data("ready\n".utf8)) {
            throw UserError("cannot write the ready file \(readyFile): check the directory exists and is writable")
        }
    }
}

extension RxHookPolicy: ExpressibleByArgument {}
