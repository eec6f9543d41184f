import BridgeTraceCore

/// The lab as a pure description: every namespace, interface name, address and MAC, computed
/// from the lab's name and its number of VMs. Nothing here touches the system, so tests, the
/// CLI and other modules (faults, QEMU guests) ask this value instead of re-deriving strings.
///
/// Layout, for name `btlab` and two VMs:
/// ```
///  btlab-vm1: eth0 ──veth── vm1 ┐
///  btlab-vm2: eth0 ──veth── vm2 ├─ br0 (btlab-br)
///  btlab-lan: eth0 ──veth── uplink ┘
/// ```
/// Addresses come from 198.18.0.0/15 (RFC 2544's benchmarking range) and exist only inside
/// the lab's namespaces.
public struct LabTopology: Sendable, Equatable, CustomStringConvertible {
    public static let defaultName = "btlab"
    public static let defaultVMCount = 2
    /// VM addresses are 198.18.0.11 and up and MACs end in one byte; 16 keeps both simple.
    public static let maxVMCount = 16
    /// Namespace names get "-vm16" appended; short names keep `ip netns list` readable.
    public static let maxNameLength = 20

    /// One end host of the lab: a VM or the gateway.
    public struct Host: Sendable, Equatable {
        /// "vm1" ... or "gateway".
        public var label: String
        /// The network namespace the host lives in.
        public var namespace: String
        /// The host's interface inside its namespace (always "eth0").
        public var interface: String
        /// The bridge port (in the bridge namespace) that the host is plugged into.
        public var port: String
        /// Dotted IPv4 address, without prefix length.
        public var ip: String
        /// The host interface's MAC, lowercase colon form.
        public var mac: String
        /// The bridge-side port's own MAC. Fixed so the bridge's local FDB entries are too.
        public var portMAC: String
    }

    /// The lab's name; every namespace is "<name>-<suffix>".
    public let name: String
    /// Number of VMs, 1...maxVMCount. VMs are numbered from 1.
    public let vmCount: Int

    /// Validates `name` and `vms` and throws a UserError saying what is allowed.
    public init(name: String = LabTopology.defaultName, vms: Int = LabTopology.defaultVMCount) throws {
        try Self.validate(name: name)
        guard (1...Self.maxVMCount).contains(vms) else {
            throw UserError("--vms must be between 1 and \(Self.maxVMCount), not \(vms)")
        }
        self.name = name
        self.vmCount = vms
    }

    /// Throws a UserError unless `name` can name a lab (and prefix its namespaces).
    public static func validate(name: String) throws {
        let allowed = name.allSatisfy { $0.isASCIILowercaseLetter || $0.isASCIIDigit || $0 == "-" }
        guard allowed, let first = name.first, first.isASCIILowercaseLetter, !name.hasSuffix("-"),
            name.count <= maxNameLength
        else {
            throw UserError(
                "lab name '\(name)' is not allowed: use 1 to \(maxNameLength) lowercase letters, "
                    + "digits and '-', starting with a letter (for example --name btlab)")
        }
    }

    public var description: String { "lab \(name) (\(vmCount) VMs)" }

    // MARK: Subnet

    /// The lab subnet, 198.18.0.0/24. Every address below is inside it.
    public let subnet = "198.18.0.0/24"
    public let prefixLength = 24

    /// "198.18.0.11/24": the form `ip addr add` wants.
    public func cidr(_ ip: String) -> String { "\(ip)/\(prefixLength)" }

    // MARK: Bridge

    public var bridgeNamespace: String { "\(name)-br" }
    public let bridgeName = "br0"
    /// The bridge's own (host) address, on br0.
    public let hostIP = "198.18.0.2"
    /// Set before any port is enslaved, so the bridge MAC does not follow the lowest port MAC.
    public let bridgeMAC = "52:54:00:00:00:fd"

    /// Bridge ports in the bridge namespace, VMs first, then the uplink.
    public var bridgePorts: [String] { vmIndices.map(vmPort) + [uplinkPort] }

    // MARK: VMs

    public var vmIndices: ClosedRange<Int> { 1...vmCount }
    /// Name of the interface inside each VM and inside the lan namespace.
    public let guestInterface = "eth0"

    public func vm(_ i: Int) -> Host {
        checkVM(i)
        return Host(
            label: "vm\(i)", namespace: vmNamespace(i), interface: guestInterface,
            port: vmPort(i), ip: vmIP(i), mac: vmMAC(i), portMAC: vmPortMAC(i))
    }

    public var vms: [Host] { vmIndices.map(vm) }

    public func vmNamespace(_ i: Int) -> String { checkVM(i); return "\(name)-vm\(i)" }
    /// The bridge-side port of VM i, in the bridge namespace.
    public func vmPort(_ i: Int) -> String { checkVM(i); return "vm\(i)" }
    public func vmIP(_ i: Int) -> String { checkVM(i); return "198.18.0.\(10 + i)" }
    public func vmMAC(_ i: Int) -> String { checkVM(i); return Self.mac(0x00, i) }
    public func vmPortMAC(_ i: Int) -> String { checkVM(i); return Self.mac(0x01, i) }

    // MARK: Gateway (lan side)

    public var lanNamespace: String { "\(name)-lan" }
    /// The bridge port towards the lan namespace, in the bridge namespace.
    public let uplinkPort = "uplink"
    public let gatewayIP = "198.18.0.1"
    public let gatewayMAC = "52:54:00:00:00:fe"
    public let uplinkPortMAC = "52:54:00:00:01:fe"

    public var gateway: Host {
        Host(
            label: "gateway", namespace: lanNamespace, interface: guestInterface,
            port: uplinkPort, ip: gatewayIP, mac: gatewayMAC, portMAC: uplinkPortMAC)
    }

    // MARK: Namespaces

    /// Every namespace of the lab: bridge first, then VMs, then lan (the order `up` creates them).
    public var namespaces: [String] { [bridgeNamespace] + vmIndices.map(vmNamespace) + [lanNamespace] }

    /// Whether `namespace` belongs to the lab called `labName`: "<labName>-" followed by exactly
    /// "br", "lan" or "vm<number>". Exact suffixes keep lab "a" from claiming lab "a-b"'s
    /// namespaces ("a-b-br" has suffix "b-br").
    public static func owns(namespace: String, labName: String) -> Bool {
        vmIndex(ofNamespace: namespace, labName: labName) != nil
            || namespace == "\(labName)-br" || namespace == "\(labName)-lan"
    }

    /// The VM number in "<labName>-vm<number>", or nil when it is not a VM namespace of that lab.
    public static func vmIndex(ofNamespace namespace: String, labName: String) -> Int? {
        let prefix = "\(labName)-vm"
        guard namespace.hasPrefix(prefix) else { return nil }
        let digits = namespace.dropFirst(prefix.count)
        guard !digits.isEmpty, !digits.hasPrefix("0"), digits.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(digits)
    }

    // MARK: Private

    private func checkVM(_ i: Int) {
        precondition(vmIndices.contains(i), "VM \(i) is not in \(description)")
    }

    /// 52:54:00 is QEMU's prefix, what a bridged VM usually has; byte 5 tells VM-side from port-side.
    private static func mac(_ group: Int, _ host: Int) -> String {
        "52:54:00:00:" + hex(group) + ":" + hex(host)
    }

    private static func hex(_ byte: Int) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILowercaseLetter: Bool { isASCII && isLowercase }
}
