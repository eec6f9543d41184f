import BridgeTraceCore
import CBridgeTraceABI

/// How a switch port carries VLANs (DESIGN.md, "The switch").
public enum SwitchPortMode: String, Sendable, Equatable {
    /// Untagged on the wire; every frame is in the port's one VLAN.
    case access
    /// Tagged with the allowed VIDs; a native VID, if any, goes untagged.
    case trunk
}

/// How frames reach a port from the kernel's fast path.
public enum SwitchEgressPath: String, Sendable, Equatable {
    /// Redirected by XDP through the devmap: needs NAPI on a veth's peer.
    case redirect
    /// Sent by the switch process with AF_XDP TX.
    case xsk
}

/// One port as configured: `--port IF`, `--access IF=VID`, `--trunk IF=VID,..` (+ `--native`).
public struct SwitchPortSpec: Sendable, Equatable {
    public var name: String
    public var mode: SwitchPortMode
    /// The VIDs the port carries, sorted; for an access port just its VID.
    public var vlans: [UInt16]
    /// A trunk's untagged VID.
    public var native: UInt16?
    /// Forces the fast path's way into this port; nil picks by device kind.
    public var path: SwitchEgressPath?

    public init(name: String, mode: SwitchPortMode = .access, vlans: [UInt16] = [1], native: UInt16? = nil,
                path: SwitchEgressPath? = nil) {
        self.name = name
        self.mode = mode
        self.vlans = vlans.sorted()
        self.native = native
        self.path = path
    }

    /// The VID of untagged frames, nil when the port refuses them (a trunk without native).
    public var pvid: UInt16? { mode == .access ? vlans.first : native }

    public func carries(_ vid: UInt16) -> Bool { vlans.contains(vid) }

    /// Whether frames of `vid` leave this port tagged.
    public func sendsTagged(_ vid: UInt16) -> Bool { mode == .trunk && vid != native }
}

/// Everything `bridgetrace switch` runs with. Build it with `SwitchConfig.parse` from CLI
/// words, or directly (the bench does).
public struct SwitchConfig: Sendable, Equatable {
    public var name: String
    public var netns: String?
    public var ports: [SwitchPortSpec]
    /// Interfaces matching these shell globs join (access, VLAN 1) when they appear.
    public var portGlobs: [String]
    public var fastPath: Bool
    public var agingSeconds: UInt32
    public var fdbMax: UInt32
    /// FDB entries that never age and never move (`--static IF=MAC[@VID]`).
    public var staticEntries: [StaticFDBEntry] = []
    /// `--host-port NAME`: the host's own interface on the switch (SwitchHostPort), a
    /// port in VLAN 1 whose switch end is NAME-sw.
    public var hostPort: String?
    /// `--cpus LIST`: a forwarding thread per CPU, pinned there; empty: one thread, not pinned.
    public var cpus: [Int] = []

    /// The ports, the host port's switch end included.
    public var allPorts: [SwitchPortSpec] {
        ports + (hostPort.map { [SwitchPortSpec(name: SwitchHostPort.switchEnd($0), path: .redirect)] } ?? [])
    }

    public static let defaultAging: UInt32 = 300
    public static let defaultFDBMax: UInt32 = 8192

    public init(name: String, netns: String? = nil, ports: [SwitchPortSpec], portGlobs: [String] = [],
                fastPath: Bool = true, agingSeconds: UInt32 = SwitchConfig.defaultAging,
                fdbMax: UInt32 = SwitchConfig.defaultFDBMax) {
        self.name = name
        self.netns = netns
        self.ports = ports
        self.portGlobs = portGlobs
        self.fastPath = fastPath
        self.agingSeconds = agingSeconds
        self.fdbMax = fdbMax
    }

    /// Checks what the kernel side cannot: names, limits, a port named twice.
    public func validate() throws {
        try SwitchConfig.validateName(name)
        if let hostPort {
            try SwitchHostPort.validate(hostPort)
            if ports.contains(where: { $0.name == hostPort || $0.name == SwitchHostPort.switchEnd(hostPort) }) {
                throw UserError("--host-port \(hostPort): the switch makes that interface itself; do not give it as a port too")
            }
        }
        if ports.isEmpty && portGlobs.isEmpty && hostPort == nil {
            throw UserError("a switch needs ports: give --port IF (or --access/--trunk, or --port-glob)")
        }
        if ports.count > Int(BT_SW_PORTS_MAX) {
            throw UserError("\(ports.count) ports: a switch takes at most \(BT_SW_PORTS_MAX)")
        }
        var seen = Set<String>()
        for port in ports where !seen.insert(port.name).inserted {
            throw UserError("\(port.name) is given twice; name each port once (--port, --access or --trunk)")
        }
        if fdbMax < 1 { throw UserError("--fdb-max must be at least 1") }
        for entry in staticEntries {
            guard let port = ports.first(where: { $0.name == entry.port }) else {
                throw UserError("--static \(entry.port)=...: \(entry.port) is not a port of this switch")
            }
            guard let vid = entry.vlan ?? port.pvid, port.carries(vid) else {
                throw UserError("--static \(entry.port)=\(entry.macText): \(entry.port) does not carry VLAN \(entry.vlan.map(String.init) ?? "(none untagged)"); add @VID")
            }
        }
        if agingSeconds < 1 { throw UserError("--aging must be at least 1 second") }
        if Set(cpus).count != cpus.count { throw UserError("--cpus names a CPU twice; give each once") }
    }

    public static func validateName(_ name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
        guard !name.isEmpty, name.count <= 64, name != ".", name != "..", name.allSatisfy(allowed.contains) else {
            throw UserError("invalid switch name \"\(name)\": use letters, digits, '-', '_' or '.' (at most 64)")
        }
    }

    /// Builds the port list from the CLI's words. `--port IF` is access VLAN 1;
    /// `--access IF=VID`; `--trunk IF=VID,VID..`; `--native IF=VID` names a trunk's
    /// untagged VID (and adds it to the trunk's VLANs); `--redirect IF` / `--xsk IF`
    /// force the fast path's way into a port.
    public static func ports(plain: [String], access: [String], trunk: [String], native: [String],
                             redirect: [String] = [], xsk: [String] = []) throws -> [SwitchPortSpec] {
        var specs: [SwitchPortSpec] = plain.map { SwitchPortSpec(name: $0) }
        for word in access {
            let (name, vids) = try splitAssignment(word, option: "--access")
            guard vids.count == 1 else {
                throw UserError("--access \(word): an access port has one VID (use --trunk IF=VID,VID for several)")
            }
            specs.append(SwitchPortSpec(name: name, mode: .access, vlans: vids))
        }
        for word in trunk {
            let (name, vids) = try splitAssignment(word, option: "--trunk")
            specs.append(SwitchPortSpec(name: name, mode: .trunk, vlans: Array(Set(vids))))
        }
        for word in native {
            let (name, vids) = try splitAssignment(word, option: "--native")
            guard vids.count == 1 else { throw UserError("--native \(word): give one VID") }
            guard let index = specs.firstIndex(where: { $0.name == name && $0.mode == .trunk }) else {
                throw UserError("--native \(word): \(name) is not a trunk; give --trunk \(name)=VID,.. too")
            }
            specs[index].native = vids[0]
            if !specs[index].vlans.contains(vids[0]) { specs[index].vlans = (specs[index].vlans + vids).sorted() }
        }
        for (names, path) in [(redirect, SwitchEgressPath.redirect), (xsk, .xsk)] {
            for name in names {
                guard let index = specs.firstIndex(where: { $0.name == name }) else {
                    throw UserError("--\(path.rawValue) \(name): not a port of this switch; add it with --port")
                }
                specs[index].path = path
            }
        }
        return specs
    }

    /// `--cpus 0,2-3` -> [0, 2, 3].
    public static func cpuList(_ text: String) throws -> [Int] {
        var cpus: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                  low >= 0, low <= high else {
                throw UserError("--cpus \(text): expected CPUs like 0,2-3")
            }
            cpus += Array(low...high)
        }
        return cpus
    }

    static func splitAssignment(_ word: String, option: String) throws -> (String, [UInt16]) {
        let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw UserError("\(option) \(word): expected IF=VID\(option == "--trunk" ? ",VID.." : "")")
        }
        var vids: [UInt16] = []
        for text in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
            guard let vid = UInt16(text), (1...4094).contains(vid) else {
                throw UserError("\(option) \(word): \"\(text)\" is not a VLAN ID (1-4094)")
            }
            vids.append(vid)
        }
        return (String(parts[0]), vids)
    }
}

/// `--static IF=MAC[@VID]`: the MAC sits on IF in VID (default: the port's untagged VLAN).
public struct StaticFDBEntry: Sendable, Equatable {
    public var port: String
    public var mac: [UInt8]
    public var vlan: UInt16?

    public init(port: String, mac: [UInt8], vlan: UInt16? = nil) {
        self.port = port
        self.mac = mac
        self.vlan = vlan
    }

    var macText: String { FDBEntry(mac: mac, vlan: 0, ifindex: 0, lastSeen: 0).macText }

    public static func parse(_ word: String) throws -> StaticFDBEntry {
        let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { throw UserError("--static \(word): expected IF=MAC or IF=MAC@VID") }
        let macAndVID = parts[1].split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let octets = macAndVID[0].split(separator: ":", omittingEmptySubsequences: false)
        let mac = octets.compactMap { $0.count == 2 ? UInt8($0, radix: 16) : nil }
        guard octets.count == 6, mac.count == 6, mac[0] & 1 == 0 else {
            throw UserError("--static \(word): \"\(macAndVID[0])\" is not a unicast MAC (aa:bb:cc:dd:ee:ff)")
        }
        var vid: UInt16?
        if macAndVID.count == 2 {
            guard let value = UInt16(macAndVID[1]), (1...4094).contains(value) else {
                throw UserError("--static \(word): \"\(macAndVID[1])\" is not a VLAN ID (1-4094)")
            }
            vid = value
        }
        return StaticFDBEntry(port: String(parts[0]), mac: mac, vlan: vid)
    }
}
