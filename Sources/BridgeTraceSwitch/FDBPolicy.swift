import BridgeTraceCore

/// One FDB entry as `switch show` lists it.
public struct FDBEntry: Sendable, Equatable {
    public var mac: [UInt8]
    public var vlan: UInt16
    public var ifindex: Int32
    /// The switch clock (seconds) when the MAC was last seen as a source.
    public var lastSeen: UInt64
    public var isStatic: Bool
    /// Times the MAC turned up on another port (mac_flapping evidence).
    public var moves: UInt64

    public init(mac: [UInt8], vlan: UInt16, ifindex: Int32, lastSeen: UInt64, isStatic: Bool = false, moves: UInt64 = 0) {
        self.mac = mac
        self.vlan = vlan
        self.ifindex = ifindex
        self.lastSeen = lastSeen
        self.isStatic = isStatic
        self.moves = moves
    }

    public var macText: String { mac.map { hex2($0) }.joined(separator: ":") }
}

func hex2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}

/// Aging, as the kernel program applies it lazily (an entry older than the aging time
/// is a miss there) and as the switch's sweep applies it (so a full FDB frees itself).
public struct FDBPolicy: Sendable, Equatable {
    public var agingSeconds: UInt32

    public init(agingSeconds: UInt32) { self.agingSeconds = agingSeconds }

    public func age(of entry: FDBEntry, now: UInt64) -> UInt64 {
        now >= entry.lastSeen ? now - entry.lastSeen : 0
    }

    /// The kernel's test, `now - last_seen > aging`: an entry lives `aging` whole seconds.
    public func isExpired(_ entry: FDBEntry, now: UInt64) -> Bool {
        !entry.isStatic && age(of: entry, now: now) > UInt64(agingSeconds)
    }

    /// The entries the sweep removes now.
    public func expired(_ entries: [FDBEntry], now: UInt64) -> [FDBEntry] {
        entries.filter { isExpired($0, now: now) }
    }

    /// The live entries, ordered for display: by VLAN, then MAC.
    public func live(_ entries: [FDBEntry], now: UInt64) -> [FDBEntry] {
        entries.filter { !isExpired($0, now: now) }.sorted {
            ($0.vlan, $0.macText) < ($1.vlan, $1.macText)
        }
    }
}
