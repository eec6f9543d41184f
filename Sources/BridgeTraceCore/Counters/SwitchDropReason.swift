/// The switch's own drop reasons (bridgetrace.h enum bt_sw_drop), named upper case like
/// the kernel's skb drop reasons so that `drops` shows them side by side.
public enum SwitchDropReason: UInt32, CaseIterable, Sendable {
    case vlanNotAllowed = 1
    /// The source could not be learned (FDB full); the frame itself was still forwarded.
    case fdbFull = 2
    case mtuExceeded = 3
    case portDown = 4
    case xskRxRingFull = 5
    case xskTxRingFull = 6
    case noPort = 7
    /// The destination was learned on the port the frame came in on.
    case hairpin = 8
    /// Longer than the port's AF_XDP sockets take (or can send): a jumbo frame on a kernel
    /// without multi-buffer AF_XDP.
    case frameTooBig = 9
    /// The kernel failed the devmap transmit after the program had redirected the frame
    /// (xdp:xdp_devmap_xmit, xdp:xdp_redirect_err): counted at the egress port.
    case redirectFailed = 10

    public var name: String {
        switch self {
        case .vlanNotAllowed: return "VLAN_NOT_ALLOWED"
        case .fdbFull: return "FDB_FULL"
        case .mtuExceeded: return "MTU_EXCEEDED"
        case .portDown: return "PORT_DOWN"
        case .xskRxRingFull: return "XSK_RX_RING_FULL"
        case .xskTxRingFull: return "XSK_TX_RING_FULL"
        case .noPort: return "NO_PORT"
        case .hairpin: return "HAIRPIN"
        case .frameTooBig: return "FRAME_TOO_BIG"
        case .redirectFailed: return "REDIRECT_FAILED"
        }
    }

    /// The reason with this name ("VLAN_NOT_ALLOWED"), if it is one of the switch's.
    public static func named(_ name: String) -> SwitchDropReason? {
        allCases.first { $0.name == name }
    }

    /// Where a drop happened, for `drops`' location column: the switch, not a kernel symbol.
    public var location: String {
        switch self {
        case .xskTxRingFull: return "bridgetrace switch (AF_XDP TX)"
        case .xskRxRingFull: return "AF_XDP socket (rx ring)"
        case .redirectFailed: return "xdp_devmap_xmit"
        default: return "bt_sw_xdp"
        }
    }
}
