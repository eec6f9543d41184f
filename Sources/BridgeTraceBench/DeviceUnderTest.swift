import BridgeTraceCore
import Foundation

/// A forwarding device between the generator and the sink. Every DUT gets the same
/// generator and the same sink, so their figures compare, and the same CPU budget: with
/// `--dut-cpu own` everything the DUT does (its NAPI polls and its own threads) runs on
/// one CPU the generator does not use; with `shared`, on the generator's CPU.
public protocol DeviceUnderTest: AnyObject {
    /// Name in tables, JSON and the report: "linux-bridge nf-off", "direct".
    var name: String { get }
    /// One sentence on what is measured.
    var summary: String { get }
    /// Builds the DUT and wires the generator and the sink to it, in namespaces of
    /// `network` (whose teardown removes everything, also after a failure here).
    func setUp(in network: BenchNetwork, links: LinkSettings) throws -> DUTWiring
    /// Moves the DUT's own threads (a userspace switch's) onto `cpu`. Returns a note that
    /// says where they run, or nil for a DUT without threads of its own: the kernel
    /// bridge runs in the NAPI poll of its receive port, which `NAPIThreads` places.
    func pin(to cpu: Int32, network: BenchNetwork) throws -> String?
    /// Stops what `setUp` started (daemons), before the namespaces are deleted. Runs
    /// after a failed `setUp` too, and may run twice. Returns what could not be cleaned.
    func tearDown() -> [String]
}

extension DeviceUnderTest {
    public func pin(to cpu: Int32, network: BenchNetwork) throws -> String? { nil }
    public func tearDown() -> [String] { [] }
}

/// What every link of a benchmark topology needs to know.
public struct LinkSettings: Sendable {
    public var mtu: Int
    /// The 802.1Q tag the generator's frames carry (`--vlan`), for DUTs that learn per VLAN.
    public var vlan: UInt16?
    public var generatorMAC: String
    public var sinkMAC: String

    public static let generatorMACBytes: [UInt8] = [0x52, 0x54, 0x00, 0xbe, 0x00, 0x00]
    public static let sinkMACBytes: [UInt8] = [0x52, 0x54, 0x00, 0xbf, 0x00, 0x01]

    public init(mtu: Int, vlan: UInt16? = nil) {
        self.mtu = mtu
        self.vlan = vlan
        generatorMAC = Self.generatorMACBytes.map { String(format: "%02x", $0) }.joined(separator: ":")
        sinkMAC = Self.sinkMACBytes.map { String(format: "%02x", $0) }.joined(separator: ":")
    }
}

/// Where the generator and the sink sit once a DUT is up, and where a tracer attaches.
public struct DUTWiring: Sendable {
    public var generator: Endpoint
    public var sink: Endpoint
    /// The bridge device, for `--with-tracer`; nil for a DUT without one (direct).
    public var bridge: Endpoint?
    /// Every port of the DUT (tcpdump listens on each).
    public var ports: [Endpoint]
    /// The DUT's port towards the sink, where an egress qdisc (tbf) shapes its output.
    public var sinkFacingPort: Endpoint?
    /// The port whose NAPI poll receives the generator's frames: the DUT's input queue
    /// (`--dut-cpu own` moves it to a CPU of its own).
    public var receivePort: Endpoint
    /// Things the reader of the results should know about this setup.
    public var notes: [String]
}

/// Which DUTs `--dut` names.
public enum DUTKind: String, CaseIterable, Sendable, Codable {
    case linuxBridge = "linux-bridge"
    case direct
    /// bridgetrace's switch with its XDP fast path: known unicast redirected in the kernel.
    case xdpSwitch = "xdp-switch"
    /// bridgetrace's switch with every frame through AF_XDP and Swift (`--no-fast-path`).
    case afxdpSwitch = "afxdp-switch"
    /// Open vSwitch's userspace datapath on AF_XDP ports: the peer to beat.
    case ovsAFXDP = "ovs-afxdp"
}
