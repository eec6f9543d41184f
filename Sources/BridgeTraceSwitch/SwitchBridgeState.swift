import BridgeTraceCore
import BridgeTraceKernel

extension SwitchSnapshot {
    /// The switch as `diagnose` sees a bridge: its ports (carrier, MTU, MAC from netlink)
    /// and its FDB map in place of the kernel bridge's. Bridge-only facts have their
    /// neutral values so that the rules that need them stay silent: no STP (every port
    /// forwarding), no isolation, learning and flooding on.
    public func bridgeState(links: [NetLink]) -> BridgeState {
        let byIndex = Dictionary(links.map { ($0.ifindex, $0) }, uniquingKeysWith: { first, _ in first })
        let policy = FDBPolicy(agingSeconds: agingSeconds)
        let bridge = BridgeState.Bridge(name: name, ifindex: 0, isUp: true, mtu: ports.map(\.mtu).max() ?? 1500,
                                        mac: "", stpEnabled: false, vlanFiltering: true, ageingTime: Double(agingSeconds))
        let statePorts = ports.map { port in
            let link = byIndex[port.ifindex]
            return BridgeState.Port(name: port.name, ifindex: port.ifindex, kind: link?.kind,
                                    mac: link.map { $0.mac.map { hex2($0) }.joined(separator: ":") } ?? "",
                                    mtu: port.mtu, isUp: link?.isUp ?? port.up, hasCarrier: link?.hasCarrier ?? port.up,
                                    operState: port.up ? "up" : "down")
        }
        let entries = policy.live(fdb, now: now).map { entry in
            BridgeState.FDBEntry(mac: entry.macText, ifindex: entry.ifindex, port: portName(entry.ifindex),
                                 isStatic: entry.isStatic, vlan: entry.vlan)
        }
        return BridgeState(bridge: bridge, ports: statePorts, fdb: entries)
    }

    /// The switch's drop counts per (port, reason, location), as `drops` lists them.
    public var dropCounts: [DropCount] {
        ports.flatMap { port in
            (drops[port.ifindex] ?? [:]).sorted { $0.key < $1.key }.map { reason, count in
                DropCount(port: port.name, ifindex: port.ifindex, reason: reason,
                          location: SwitchDropReason.named(reason)?.location ?? "bridgetrace switch", count: count)
            }
        }
    }
}
