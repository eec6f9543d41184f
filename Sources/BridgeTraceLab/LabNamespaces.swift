import Foundation

/// The named network namespaces on this host that belong to a lab. `ip netns` keeps one bind
/// mount per name in /var/run/netns, so listing that directory is the inventory; `down` and
/// `status` work from it rather than from a state file that could go stale.
enum LabNamespaces {
    static let directory = "/var/run/netns"

    /// All named namespaces on the host (empty when none were ever created).
    static func all() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }

    /// The namespaces of lab `name`, in the order `up` creates them: bridge, VMs by number, lan.
    static func owned(by name: String) -> [String] {
        all().filter { LabTopology.owns(namespace: $0, labName: name) }.sorted { rank($0, name) < rank($1, name) }
    }

    private static func rank(_ namespace: String, _ name: String) -> Int {
        if namespace == "\(name)-br" { return 0 }
        if let i = LabTopology.vmIndex(ofNamespace: namespace, labName: name) { return i }
        return Int.max
    }
}
