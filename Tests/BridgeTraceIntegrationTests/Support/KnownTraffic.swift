import BridgeTraceLab

/// The traffic the exact-count tests send from vm1: 22 broadcasts (5 ARP requests, 3 and 2
/// ARP requests tagged VLAN 100 and 200, 4 DHCPDISCOVERs, 6 frames of ethertype 0x88b5,
/// 2 QinQ ARP requests 300/100), then 4 pings to vm2 (4 echo requests, 4 replies).
enum KnownTraffic {
    @discardableResult
    static func send(_ lab: LabTopology) throws -> InjectionReport {
        let sent = try Injector.send(
            in: lab.vmNamespace(1), arpRequests: 5, arpTarget: "198.18.0.250",
            vlanARP: [(vid: 100, count: 3), (vid: 200, count: 2)], dhcpDiscovers: 4,
            ethertypes: [(type: 0x88b5, count: 6)], qinq: [(outer: 300, inner: 100, count: 2)])
        try exec(inNetns: lab.vmNamespace(1), ["ping", "-c", "4", "-i", "0.2", "-W", "2", lab.vmIP(2)])
        return sent
    }
}
