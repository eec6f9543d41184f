import BridgeTraceCore
import Testing

@testable import BridgeTraceKernel

/// `nft -j list ruleset` as nft 1.0.6 printed it (Debian 12) in a namespace with Docker's
/// `iptables -P FORWARD DROP` (iptables-nft), an iptables REJECT rule, an nft inet input
/// chain that drops echo requests, and a bridge-family chain that only accepts.
@Suite struct NetfilterRulesetTests {
    static let recorded = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "ip", "name": "filter", "handle": 1}}, {"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}, {"chain": {"family": "ip", "table": "filter", "name": "INPUT", "handle": 2, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 3, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "icmp"}}, {"counter": {"packets": 0, "bytes": 0}}, {"xt": {"type": "target", "name": "REJECT"}}]}}, {"table": {"family": "inet", "name": "hostfw", "handle": 2}}, {"chain": {"family": "inet", "table": "hostfw", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "hostfw", "chain": "input", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "icmp", "field": "type"}}, "right": "echo-request"}}, {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}}, {"table": {"family": "bridge", "name": "bt", "handle": 3}}, {"chain": {"family": "bridge", "table": "bt", "name": "forward", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}, {"rule": {"family": "bridge", "table": "bt", "chain": "forward", "handle": 2, "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}]}
        """#

    @Test func baseChainsThatCanDrop() {
        let chains = NetfilterStateReader.parseRuleset(Self.recorded)
        #expect(chains == [
            .init(family: "ip", table: "filter", name: "FORWARD", hook: "forward", policyDrop: true, dropRules: 0),
            .init(family: "ip", table: "filter", name: "INPUT", hook: "input", policyDrop: false, dropRules: 1),
            .init(family: "inet", table: "hostfw", name: "input", hook: "input", policyDrop: false, dropRules: 1),
        ])
        let state = NetfilterState(callIPTables: true, chains: chains)
        #expect(state.bridgeFamilyDroppers.isEmpty)
        #expect(state.brNetfilterDroppers(.ipv4).map(\.name) == ["FORWARD"])
        #expect(state.brNetfilterDroppers(.arp).isEmpty)
        #expect(state.inputDroppers(.ipv4).map(\.table) == ["filter", "hostfw"])
    }

    @Test func nothingOrGarbageIsNoChains() {
        #expect(NetfilterStateReader.parseRuleset(#"{"nftables": [{"metainfo": {"version": "1.0.6"}}]}"#).isEmpty)
        #expect(NetfilterStateReader.parseRuleset("not json").isEmpty)
    }
}

/// `iptables-legacy -S` as iptables 1.8.9 printed it after `iptables-legacy -P FORWARD DROP`
/// and one REJECT rule in INPUT.
@Suite struct LegacyIptablesTests {
    @Test func policiesAndDroppingRules() {
        let text = """
            -P INPUT ACCEPT
            -P FORWARD DROP
            -P OUTPUT ACCEPT
            -A INPUT -p icmp -j REJECT --reject-with icmp-port-unreachable
            -A OUTPUT -j ACCEPT
            """
        #expect(NetfilterStateReader.parseLegacy(text, family: "ip") == [
            .init(family: "ip", table: "filter (legacy)", name: "INPUT", hook: "input", policyDrop: false, dropRules: 1),
            .init(family: "ip", table: "filter (legacy)", name: "FORWARD", hook: "forward", policyDrop: true, dropRules: 0),
        ])
    }
}
