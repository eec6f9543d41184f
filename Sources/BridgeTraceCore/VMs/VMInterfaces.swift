/// A VM as its hypervisor describes it: its name and the host interfaces that are its NICs
/// (taps, macvtaps). Operators think in VM names (`virsh domifshow`), the kernel in taps.
public struct VMInterfaces: Sendable, Equatable {
    /// The libvirt domain name, or QEMU's `-name`.
    public var name: String
    /// The QEMU process, when known. Its taps live in its network namespace, so a tap of
    /// the same name in another namespace is not this VM's.
    public var pid: Int32?
    /// Host-side interface names, in the order the VM's NICs are defined.
    public var interfaces: [String]

    public init(name: String, pid: Int32? = nil, interfaces: [String]) {
        self.name = name
        self.pid = pid
        self.interfaces = interfaces
    }
}

/// Which VM each port belongs to: `vnet3 (web-01)` in tables, `"vm": "web-01"` in JSON and
/// the `vm` label of the exporter's port series. A port has at most one VM, so the label
/// adds no series.
public struct VMNames: Sendable, Equatable {
    public private(set) var byPort: [String: String]

    public init(byPort: [String: String] = [:]) {
        self.byPort = byPort
    }

    /// The first VM to claim an interface keeps it: list the more trusted source first.
    public init(_ vms: [VMInterfaces]) {
        var byPort: [String: String] = [:]
        for vm in vms {
            for interface in vm.interfaces where byPort[interface] == nil { byPort[interface] = vm.name }
        }
        self.byPort = byPort
    }

    public static let none = VMNames()

    public subscript(port: String) -> String? { byPort[port] }

    public var isEmpty: Bool { byPort.isEmpty }

    /// These names, and `other`'s for the ports these do not name.
    public func merging(_ other: VMNames) -> VMNames {
        VMNames(byPort: byPort.merging(other.byPort) { mine, _ in mine })
    }

    /// "vnet3 (web-01)", or the port alone when no VM owns it.
    public func label(_ port: String) -> String {
        byPort[port].map { "\(port) (\($0))" } ?? port
    }
}
