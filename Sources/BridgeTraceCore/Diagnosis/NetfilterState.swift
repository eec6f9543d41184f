/// What netfilter can do to the bridge's traffic in its namespace, read before and after a
/// watch: br_netfilter's switches (bridged frames through iptables, ip6tables, arptables)
/// and the base chains that can drop (an nft rule or iptables-nft: `nft -j list ruleset`).
/// The drop rules use it to tell a bridge-family rule from iptables reached through
/// br_netfilter, and to name the chain to look at.
public struct NetfilterState: Sendable, Equatable {
    /// One base chain (a chain on a hook) that can drop: its policy is drop, or it has
    /// rules whose verdict is drop or reject.
    public struct Chain: Sendable, Equatable {
        /// nft family: bridge, ip, ip6, inet, arp, netdev.
        public var family: String
        public var table: String
        public var name: String
        /// prerouting, input, forward, output, postrouting, ingress.
        public var hook: String
        public var policyDrop: Bool
        public var dropRules: Int

        public init(family: String, table: String, name: String, hook: String, policyDrop: Bool, dropRules: Int) {
            self.family = family
            self.table = table
            self.name = name
            self.hook = hook
            self.policyDrop = policyDrop
            self.dropRules = dropRules
        }

        /// "table ip filter, chain FORWARD (hook forward): policy drop, 2 rules that drop".
        public var description: String {
            var what: [String] = []
            if policyDrop { what.append("policy drop") }
            if dropRules > 0 { what.append("\(dropRules) rule\(dropRules == 1 ? "" : "s") that drop\(dropRules == 1 ? "s" : "")") }
            return "table \(family) \(table), chain \(name) (hook \(hook)): " + what.joined(separator: ", ")
        }
    }

    /// net.bridge.bridge-nf-call-iptables, -ip6tables, -arptables; nil when br_netfilter is
    /// not loaded (no such sysctl).
    public var callIPTables: Bool?
    public var callIP6Tables: Bool?
    public var callARPTables: Bool?
    /// Base chains that can drop; empty when none (or when nft could not be asked).
    public var chains: [Chain]
    /// Whether `chains` comes from nft: false when nft is not installed or failed.
    public var rulesetRead: Bool

    public init(callIPTables: Bool? = nil, callIP6Tables: Bool? = nil, callARPTables: Bool? = nil,
                chains: [Chain] = [], rulesetRead: Bool = true) {
        self.callIPTables = callIPTables
        self.callIP6Tables = callIP6Tables
        self.callARPTables = callARPTables
        self.chains = chains
        self.rulesetRead = rulesetRead
    }

    /// Which protocol family a dropped frame belongs to, for br_netfilter's switches.
    public enum Family: String, Sendable {
        case ipv4, ipv6, arp

        /// The sysctl that sends bridged frames of this family through its tables.
        public var sysctl: String {
            switch self {
            case .ipv4: "net.bridge.bridge-nf-call-iptables"
            case .ipv6: "net.bridge.bridge-nf-call-ip6tables"
            case .arp: "net.bridge.bridge-nf-call-arptables"
            }
        }

        /// The nft families whose chains see this traffic at the ip layer.
        var nftFamilies: Set<String> {
            switch self {
            case .ipv4: ["ip", "inet"]
            case .ipv6: ["ip6", "inet"]
            case .arp: ["arp"]
            }
        }

        /// "IPv4", "IPv6", "ARP".
        public var displayName: String {
            switch self {
            case .ipv4: "IPv4"
            case .ipv6: "IPv6"
            case .arp: "ARP"
            }
        }

        /// The iptables-style tool for it.
        public var tool: String {
            switch self {
            case .ipv4: "iptables"
            case .ipv6: "ip6tables"
            case .arp: "arptables"
            }
        }
    }

    public func brNetfilterCalls(_ proto: Family) -> Bool? {
        switch proto {
        case .ipv4: callIPTables
        case .ipv6: callIP6Tables
        case .arp: callARPTables
        }
    }

    /// Chains of the bridge family that can drop forwarded frames.
    public var bridgeFamilyDroppers: [Chain] {
        chains.filter { $0.family == "bridge" && ["prerouting", "forward", "postrouting"].contains($0.hook) }
    }

    /// Chains that br_netfilter sends bridged frames of `proto` through and that can drop.
    public func brNetfilterDroppers(_ proto: Family) -> [Chain] {
        chains.filter { proto.nftFamilies.contains($0.family) && ["prerouting", "forward", "postrouting"].contains($0.hook) }
    }

    /// Chains of the host's input path that can drop `proto`.
    public func inputDroppers(_ proto: Family?) -> [Chain] {
        let families = proto?.nftFamilies ?? ["ip", "ip6", "inet", "arp"]
        return chains.filter { families.contains($0.family) && ["prerouting", "input"].contains($0.hook) }
    }
}
