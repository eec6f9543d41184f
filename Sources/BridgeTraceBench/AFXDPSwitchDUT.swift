import BridgeTraceCore

/// The AF_XDP userspace bridge (`bridgetrace switch`) and its XDP fast path. A
/// placeholder until the switch exists: it will start the switch on two veths between the
/// generator and the sink, like `LinuxBridgeDUT` builds br0.
public final class AFXDPSwitchDUT: DeviceUnderTest {
    public let fastPath: Bool
    public var name: String { fastPath ? "afxdp-switch fast-path" : "afxdp-switch" }
    public let summary = "bridgetrace's AF_XDP userspace bridge"

    public init(fastPath: Bool = false) {
        self.fastPath = fastPath
    }

    public func setUp(in network: BenchNetwork, links: LinkSettings) throws -> DUTWiring {
        throw UserError("--dut afxdp-switch: the AF_XDP userspace bridge is not implemented yet; benchmark linux-bridge or direct for now")
    }
}
