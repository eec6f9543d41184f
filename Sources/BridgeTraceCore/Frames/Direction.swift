import CBridgeTraceABI

/// Seen from the bridge: `rx` is a frame the bridge received on a port (the VM or the
/// wire sent it); `tx` is a frame the bridge sent out of a port.
public enum Direction: String, CaseIterable, Sendable, Codable {
    case rx, tx

    /// The `enum bt_dir` value the kernel side uses.
    public var abiValue: UInt32 {
        switch self {
        case .rx: return BT_DIR_RX.rawValue
        case .tx: return BT_DIR_TX.rawValue
        }
    }
}
