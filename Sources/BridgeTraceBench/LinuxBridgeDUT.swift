import BridgeTraceCore
import Foundation

/// The kernel bridge: br0 in a namespace of its own with two veth ports, "p-gen" towards
/// the generator and "p-sink" towards the sink.
///
/// - The sink's MAC is a static FDB entry on p-sink, so frames are forwarded, never
///   flooded, from the first one on; the generator's source MACs are learnt as usual.
/// - p-gen has GRO on. Frames redirected into a veth are queued for the peer's NAPI
///   poll, and a veth has NAPI only with GRO on or an XDP program attached; without
///   either, every frame is silently lost. GRO is what a NIC port has anyway, and it
///   leaves the port's XDP hook to a tracer under test.
/// - p-sink has VLAN tag insertion offload off. The stack moves a received tag into skb
///   metadata; a veth that passes such an skb to its peer's XDP program hands it a
///   mangled frame (here, 6.18: starting 4 bytes early, cut 14 bytes short), so every
///   tagged frame would look lost. With the offload off the bridge writes the tag back
///   into the frame on the way out, as a NIC without tag offload makes the kernel do.
/// - `netfilter` sets the bridge-nf-call-{iptables,ip6tables,arptables} sysctls of the
///   bridge's namespace (per namespace on this kernel): on, bridged IPv4 frames go
///   through the (empty) iptables hooks, as on most hypervisors with br_netfilter loaded.
public final class LinuxBridgeDUT: DeviceUnderTest {
    public let netfilter: Bool
    public var name: String { "linux-bridge nf-\(netfilter ? "on" : "off")" }
    public var summary: String {
        "Linux bridge br0, bridge-nf-call-iptables=\(netfilter ? 1 : 0), STP off, static FDB entry for the sink"
    }

    public static let bridge = "br0"

    public init(netfilter: Bool) {
        self.netfilter = netfilter
    }

    public func setUp(in network: BenchNetwork, links: LinkSettings) throws -> DUTWiring {
        let topology = try network.addTwoPortDUT(links: links)
        let (dut, gen, sink) = (topology.dutNamespace, topology.generator, topology.sink)
        let (genPort, sinkPort) = (topology.generatorPort, topology.sinkPort)
        try network.ip("-n", dut, "link", "add", Self.bridge, "mtu", String(links.mtu), "type", "bridge",
                       "stp_state", "0", "mcast_snooping", "0")
        for port in [genPort, sinkPort] {
            try network.ip("-n", dut, "link", "set", port.interface, "master", Self.bridge)
        }
        try network.ip("-n", dut, "link", "set", Self.bridge, "up")
        try network.runner.run(["bridge", "-n", dut, "fdb", "replace", links.sinkMAC, "dev", sinkPort.interface,
                                "master", "static"])
        try enableNAPI(on: genPort, network: network)
        try network.exec(dut, ["ethtool", "-K", sinkPort.interface, "txvlan", "off", "tx-vlan-stag-hw-insert", "off"])
        var notes: [String] = []
        if let note = try setNetfilter(in: dut, network: network) { notes.append(note) }
        return DUTWiring(generator: gen, sink: sink, bridge: Endpoint(namespace: dut, interface: Self.bridge),
                         ports: [genPort, sinkPort], sinkFacingPort: sinkPort, receivePort: genPort, notes: notes)
    }

    private func enableNAPI(on port: Endpoint, network: BenchNetwork) throws {
        let result = try network.runner.result(["ip", "netns", "exec", port.namespace, "ethtool", "-K", port.interface, "gro", "on"])
        guard result.succeeded else {
            throw UserError("cannot turn GRO on for \(port.interface) (`ethtool -K \(port.interface) gro on`: "
                + "\(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); frames sent into a veth "
                + "without NAPI are lost. Install ethtool (apt-get install ethtool)")
        }
    }

    static let netfilterSysctls = ["bridge-nf-call-iptables", "bridge-nf-call-ip6tables", "bridge-nf-call-arptables"]

    /// Sets the sysctls in the bridge's namespace; returns a note when that is not possible.
    private func setNetfilter(in namespace: String, network: BenchNetwork) throws -> String? {
        let value = netfilter ? "1" : "0"
        let assignments = Self.netfilterSysctls.map { "net.bridge.\($0)=\(value)" }
        let result = try network.runner.result(["ip", "netns", "exec", namespace, "sysctl", "-q", "-w"] + assignments)
        if result.succeeded { return nil }
        if netfilter {
            throw UserError("cannot turn bridge-nf-call-iptables on in the bridge's namespace: br_netfilter is not "
                + "loaded (run `modprobe br_netfilter`, or benchmark with --netfilter off)")
        }
        // Without br_netfilter, bridged frames never see iptables: "off" is what there is.
        return "br_netfilter is not loaded: the bridge-nf-call sysctls do not exist, frames skip iptables"
    }
}
