import BridgeTraceCore
extension LabTopology {
    /// The address plan that `lab up` and `lab status` print: one line per host, then a command
    /// to try. Every value comes from the topology, so it is what the lab was built with.
    public var summary: String {
        var rows = vms.map(Self.row)
        rows.append(Self.row(gateway))
        rows.append([bridgeName, hostIP, bridgeMAC, "netns \(bridgeNamespace)", "(bridge)"])
        return (["lab \(name) is up: bridge \(bridgeName) in netns \(bridgeNamespace)"]
            + TextTable.render(rows, indent: "  ")
            + ["try: bridgetrace counters \(bridgeName) --netns \(bridgeNamespace)"])
            .joined(separator: "\n")
    }

    private static func row(_ host: Host) -> [String] {
        [host.label, host.ip, host.mac, "netns \(host.namespace)", "(port \(host.port))"]
    }
}
