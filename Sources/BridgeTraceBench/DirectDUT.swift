import Foundation

/// No device at all: the generator's veth straight into the sink's. The ceiling of this
/// machine, which every other DUT is a fraction of.
public final class DirectDUT: DeviceUnderTest {
    public let name = "direct"
    public let summary = "generator veth wired straight to the sink veth: the machine's ceiling"

    public init() {}

    public func setUp(in network: BenchNetwork, links: LinkSettings) throws -> DUTWiring {
        let gen = Endpoint(namespace: try network.addNamespace("gen"), interface: "gen0")
        let sink = Endpoint(namespace: try network.addNamespace("sink"), interface: "sink0")
        try network.addVeth(gen, sink, aMAC: links.generatorMAC, bMAC: links.sinkMAC, mtu: links.mtu)
        return DUTWiring(generator: gen, sink: sink, bridge: nil, ports: [], sinkFacingPort: nil, receivePort: sink,
                         notes: [])
    }
}
