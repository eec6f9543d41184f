import BridgeTraceCore
import BridgeTraceProcess
import Foundation

/// `--host-port NAME`: the hypervisor's own interface on the switch, as br0 is on a Linux
/// bridge or an internal port on Open vSwitch. A veth pair the switch owns, in the
/// switch's namespace: NAME is the host's end (its address goes there), NAME-sw the
/// switch's port. GRO on NAME gives it NAPI, so the fast path redirects into it.
///
/// Both ends go when the switch stops. A SIGKILLed switch cannot remove them: the pair
/// stays (the host's end keeps its address but reaches nothing) until the next start of
/// a switch with that host port, or `bridgetrace cleanup`, removes it. They know it by
/// the alias written on both ends.
public enum SwitchHostPort {
    /// The switch's end of host port `name`.
    public static func switchEnd(_ name: String) -> String { name + "-sw" }

    /// Names that leave room for "-sw" within the kernel's 15 characters.
    public static let nameMax = 12

    static func alias(switch switchName: String) -> String { "bridgetrace switch \(switchName) host port" }

    public static func validate(_ name: String) throws {
        let forbidden = Set("/: \t\n")
        guard !name.isEmpty, name.count <= nameMax, !name.contains(where: forbidden.contains), name != ".", name != ".." else {
            throw UserError("--host-port \(name): give an interface name of at most \(nameMax) characters (the switch's end is NAME-sw)")
        }
    }

    /// Makes the pair in the current namespace, first removing one that a killed switch
    /// left. Refuses an interface of that name that is not a host port of ours.
    static func create(_ name: String, switch switchName: String, log: (String) -> Void) throws {
        let runner = CommandRunner()
        let links = try aliases()
        for candidate in [name, switchEnd(name)] {
            guard let alias = links[candidate] else { continue }
            guard let owner = owner(alias) else {
                throw UserError("--host-port \(name): an interface \(candidate) exists and is not a switch's host port; pick another name or remove it (ip link del \(candidate))")
            }
            _ = try? runner.result(["ip", "link", "del", candidate])
            log("removed host port \(name) that switch \(owner) left (killed?)")
        }
        let end = switchEnd(name)
        do {
            try runner.run(["ip", "link", "add", name, "type", "veth", "peer", "name", end])
            for link in [name, end] {
                try runner.run(["ip", "link", "set", "dev", link, "alias", alias(switch: switchName)])
            }
            // NAPI on the host's end: the fast path may redirect into the switch's end.
            try runner.run(["ethtool", "-K", name, "gro", "on"])
            try runner.run(["ip", "link", "set", "dev", end, "up"])
            try runner.run(["ip", "link", "set", "dev", name, "up"])
        } catch {
            remove(name)
            throw UserError("--host-port \(name): cannot make its veth pair: \(error)")
        }
    }

    /// Deletes the pair (deleting one end takes the other). Quiet when it is gone.
    static func remove(_ name: String) {
        _ = try? CommandRunner().result(["ip", "link", "del", name])
    }

    /// Host ports in the current namespace whose switch no longer runs: removed, one line
    /// each (for `bridgetrace cleanup`).
    public static func removeStale() -> [String] {
        guard let links = try? aliases() else { return [] }
        var removed: [String] = []
        for (link, alias) in links.sorted(by: { $0.key < $1.key }) {
            guard let owner = owner(alias), !link.hasSuffix("-sw"), SwitchPins.livePID(owner) == nil else { continue }
            remove(link)
            removed.append("\(link): host port of switch \(owner), which is not running")
        }
        return removed
    }

    /// The switch named in a host port's alias; nil for any other alias.
    static func owner(_ alias: String) -> String? {
        let words = alias.split(separator: " ")
        guard words.count == 5, words[0] == "bridgetrace", words[1] == "switch", words[3] == "host", words[4] == "port" else {
            return nil
        }
        return String(words[2])
    }

    /// Interface name -> alias ("" when it has none), from `ip -j link show`.
    private static func aliases() throws -> [String: String] {
        let output = try CommandRunner().run(["ip", "-j", "link", "show"])
        let links = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        var result: [String: String] = [:]
        for link in links {
            guard let name = link["ifname"] as? String else { continue }
            result[name] = link["ifalias"] as? String ?? ""
        }
        return result
    }
}
