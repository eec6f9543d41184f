import BridgeTraceCore
import BridgeTraceProcess
import Foundation

/// Reads `NetfilterState` in the calling thread's network namespace: br_netfilter's
/// sysctls from /proc/sys (resolved in the reader's namespace) and the base chains that
/// can drop from `nft -j list ruleset`, which shows nft tables and iptables-nft's alike,
/// and from `iptables-legacy -S` (and ip6tables', arptables') where legacy tables exist in
/// the namespace (/proc/net/ip_tables_names). Children inherit the thread's namespace.
public enum NetfilterStateReader {
    public static func read() -> NetfilterState {
        var state = NetfilterState(callIPTables: sysctl("bridge-nf-call-iptables"),
                                   callIP6Tables: sysctl("bridge-nf-call-ip6tables"),
                                   callARPTables: sysctl("bridge-nf-call-arptables"),
                                   rulesetRead: false)
        state.chains = legacyChains()
        guard let nft = Executable.find("nft"),
              let result = try? CommandRunner().result([nft, "-j", "list", "ruleset"]), result.succeeded else { return state }
        state.chains = parseRuleset(result.stdout) + state.chains
        state.rulesetRead = true
        return state
    }

    /// The filter tables of iptables-legacy and friends, where the namespace has any.
    static func legacyChains() -> [NetfilterState.Chain] {
        let tools: [(proc: String, tool: String, family: String)] = [
            ("ip_tables_names", "iptables-legacy", "ip"), ("ip6_tables_names", "ip6tables-legacy", "ip6"),
            ("arp_tables_names", "arptables-legacy", "arp"),
        ]
        var chains: [NetfilterState.Chain] = []
        for entry in tools {
            guard let names = try? String(contentsOfFile: "/proc/net/\(entry.proc)", encoding: .utf8),
                  names.split(separator: "\n").contains("filter"), let tool = Executable.find(entry.tool),
                  let result = try? CommandRunner().result([tool, "-S"]), result.succeeded else { continue }
            chains += parseLegacy(result.stdout, family: entry.family)
        }
        return chains
    }

    /// `iptables-legacy -S` (filter table): built-in chains whose policy drops or that have
    /// rules jumping to DROP or REJECT. Pure.
    public static func parseLegacy(_ text: String, family: String) -> [NetfilterState.Chain] {
        var policies: [String: Bool] = [:]
        var order: [String] = []
        var drops: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 3 else { continue }
            if words[0] == "-P" {
                policies[words[1]] = words[2] == "DROP"
                order.append(words[1])
            } else if words[0] == "-A", let jump = words.firstIndex(of: "-j"), jump + 1 < words.count,
                      ["DROP", "REJECT"].contains(words[jump + 1]) {
                drops[words[1], default: 0] += 1
            }
        }
        return order.compactMap { name in
            let chain = NetfilterState.Chain(family: family, table: "filter (legacy)", name: name, hook: name.lowercased(),
                                             policyDrop: policies[name] ?? false, dropRules: drops[name] ?? 0)
            return chain.policyDrop || chain.dropRules > 0 ? chain : nil
        }
    }

    static func sysctl(_ name: String) -> Bool? {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/bridge/\(name)", encoding: .utf8) else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines) != "0"
    }

    /// The base chains of an `nft -j list ruleset` that can drop: policy drop, or rules
    /// whose verdict is drop or reject. Pure.
    public static func parseRuleset(_ json: String) -> [NetfilterState.Chain] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let items = root["nftables"] as? [[String: Any]] else { return [] }
        struct Key: Hashable { var family, table, chain: String }
        var chains: [Key: NetfilterState.Chain] = [:]
        var order: [Key] = []
        var drops: [Key: Int] = [:]
        for item in items {
            if let chain = item["chain"] as? [String: Any], let hook = chain["hook"] as? String,
               let family = chain["family"] as? String, let table = chain["table"] as? String,
               let name = chain["name"] as? String {
                let key = Key(family: family, table: table, chain: name)
                chains[key] = NetfilterState.Chain(family: family, table: table, name: name, hook: hook,
                                                   policyDrop: chain["policy"] as? String == "drop", dropRules: 0)
                order.append(key)
            } else if let rule = item["rule"] as? [String: Any], let family = rule["family"] as? String,
                      let table = rule["table"] as? String, let chain = rule["chain"] as? String,
                      let expressions = rule["expr"] as? [[String: Any]], expressions.contains(where: dropsOrRejects) {
                drops[Key(family: family, table: table, chain: chain), default: 0] += 1
            }
        }
        // iptables-nft writes -j REJECT as an xtables target.
        func dropsOrRejects(_ expression: [String: Any]) -> Bool {
            if expression.keys.contains("drop") || expression.keys.contains("reject") { return true }
            guard let xt = expression["xt"] as? [String: Any], xt["type"] as? String == "target" else { return false }
            return ["REJECT", "DROP"].contains(xt["name"] as? String ?? "")
        }
        return order.compactMap { key in
            guard var chain = chains[key] else { return nil }
            chain.dropRules = drops[key] ?? 0
            return chain.policyDrop || chain.dropRules > 0 ? chain : nil
        }
    }
}
