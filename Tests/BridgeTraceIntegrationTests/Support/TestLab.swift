import BridgeTraceLab

/// Brings up a lab with a unique name for one test and always takes it down again.
///
///     try TestLab.with(vms: 2) { lab in
///         try exec(inNetns: lab.vmNamespace(1), ["ping", "-c", "1", "-W", "1", lab.gatewayIP])
///     }
///
/// Names are "bt" + 6 hex digits, so tests running in parallel (or another developer's labs)
/// never collide. The lab is built through the library, not the CLI binary, so these helpers
/// work without a built `bridgetrace`. A test process that crashes cannot clean up: remove
/// leftovers with `bridgetrace lab down --name btXXXXXX` (`ip netns list | grep ^bt`).
enum TestLab {
    static func with<T>(
        vms: Int = 2, options: LabOptions = LabOptions(), _ body: (LabTopology) throws -> T
    ) throws -> T {
        let topology = try up(vms: vms, options: options)
        let result: T
        do {
            result = try body(topology)
        } catch {
            _ = try? Lab.down(name: topology.name)
            throw error
        }
        try Lab.down(name: topology.name)
        return result
    }

    static func with<T>(
        vms: Int = 2, options: LabOptions = LabOptions(), _ body: (LabTopology) async throws -> T
    ) async throws -> T {
        let topology = try up(vms: vms, options: options)
        let result: T
        do {
            result = try await body(topology)
        } catch {
            _ = try? Lab.down(name: topology.name)
            throw error
        }
        try Lab.down(name: topology.name)
        return result
    }

    /// "bt" + 6 random hex digits that no existing namespace uses yet.
    static func uniqueName() -> String {
        while true {
            let name = "bt" + String(UInt32.random(in: 0x10_0000...0xff_ffff), radix: 16)
            if !Lab.exists(name: name) { return name }
        }
    }

    private static func up(vms: Int, options: LabOptions) throws -> LabTopology {
        let topology = try LabTopology(name: uniqueName(), vms: vms)
        try Lab.up(topology, options: options)
        return topology
    }
}

extension LabTopology {
    /// Static neighbours between vm1 and vm2 and a warm-up ping, before attaching: no ARP
    /// resolution and no flooding of unknown unicast while counting, so counts are exact.
    func pinVMNeighbours() throws {
        try exec(inNetns: vmNamespace(1), ["ip", "neigh", "replace", vmIP(2), "lladdr", vmMAC(2), "dev", "eth0", "nud", "permanent"])
        try exec(inNetns: vmNamespace(2), ["ip", "neigh", "replace", vmIP(1), "lladdr", vmMAC(1), "dev", "eth0", "nud", "permanent"])
        try exec(inNetns: vmNamespace(1), ["ping", "-c", "1", "-W", "2", vmIP(2)])
    }
}
