import BridgeTraceCore
import CBridgeTraceABI
import Foundation

/// What the operator asked to watch: a bridge's ports, extra named interfaces, or both.
public struct WatchRequest: Sendable, Equatable {
    public var bridge: String?
    public var ports: [String]
    public var netns: String?
    public var rxHook: RxHookPolicy
    /// The exporter's selection: the ports of these bridges as well, whichever of them
    /// exist at each refresh. A bridge that is missing or vanishes is skipped, not an
    /// error: the exporter runs for months while bridges come and go.
    public var optionalBridges: BridgeSet?

    public init(bridge: String?, ports: [String] = [], netns: String? = nil, rxHook: RxHookPolicy = .auto,
                optionalBridges: BridgeSet? = nil) {
        self.bridge = bridge
        self.ports = ports
        self.netns = netns
        self.rxHook = rxHook
        self.optionalBridges = optionalBridges
    }

    /// The interfaces to hook right now, from a netlink dump. Pure: errors name what
    /// exists so the operator can correct the command.
    public func resolve(in links: [NetLink]) throws -> [NetLink] {
        var selected: [NetLink] = []
        if let bridge {
            guard let link = links.first(where: { $0.name == bridge }) else {
                if WatchRequest.isSwitch(bridge) {
                    throw UserError("\(bridge) is a running bridgetrace switch: `bridgetrace switch show \(bridge)`, `counters \(bridge)` and `drops \(bridge)` read it; trace and diagnose do not take a switch yet")
                }
                throw UserError("\(bridge): no such interface \(bridgeList(links))")
            }
            guard link.isBridge else {
                let role = link.masterIndex.flatMap { master in links.first { $0.ifindex == master } }
                    .map { " (it is a port of \($0.name))" } ?? (link.kind.map { " (it is a \($0))" } ?? "")
                throw UserError("\(bridge) is not a bridge\(role); to watch it alone use --port \(bridge) \(bridgeList(links))")
            }
            // The bridge's own interface is the host's port: what the host sends and gets.
            selected = NetlinkLinks.bridgePorts(ofBridgeIndex: link.ifindex, in: links) + [link]
        }
        if let optionalBridges {
            for link in links where link.isBridge && optionalBridges.contains(link.name) && link.name != bridge {
                selected += NetlinkLinks.bridgePorts(ofBridgeIndex: link.ifindex, in: links) + [link]
            }
        }
        for name in ports where !selected.contains(where: { $0.name == name }) {
            guard let link = links.first(where: { $0.name == name }) else {
                throw UserError("\(name): no such interface\(netnsSuffix); see `ip link`")
            }
            selected.append(link)
        }
        return selected
    }

    /// A `bridgetrace switch` of that name has pinned state (BT_SW_PIN_ROOT/NAME).
    static func isSwitch(_ name: String) -> Bool {
        !name.contains("/") && FileManager.default.fileExists(atPath: "\(BT_SW_PIN_ROOT)/\(name)/bt_sw_info")
    }

    private var netnsSuffix: String { netns.map { " in netns \($0)" } ?? "" }

    private func bridgeList(_ links: [NetLink]) -> String {
        let bridges = links.filter { $0.isBridge }.map { $0.name }.sorted()
        let place = netns.map { "in netns \($0)" } ?? "here"
        return bridges.isEmpty ? "(no bridges \(place))" : "(bridges \(place): \(bridges.joined(separator: ", ")))"
    }
}

/// Which bridges of a namespace a request covers beyond `bridge`.
public enum BridgeSet: Sendable, Equatable {
    /// Every bridge, including those created later.
    case every
    case named([String])

    public func contains(_ bridge: String) -> Bool {
        switch self {
        case .every: return true
        case .named(let names): return names.contains(bridge)
        }
    }
}
