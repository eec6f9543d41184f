import BridgeTraceCore
import Testing

@testable import BridgeTraceKernel

/// The exporter's selection: ports of every (or of the named) bridges that exist now, each
/// bridge's own interface among them (the host's port); a named bridge that does not exist
/// is skipped, not an error.
struct WatchRequestBridgeSetTests {
    static let links = [
        NetLink(ifindex: 1, name: "br0", kind: "bridge", mtu: 1500, isUp: true, operState: .up),
        NetLink(ifindex: 2, name: "br1", kind: "bridge", mtu: 1500, isUp: true, operState: .up),
        NetLink(ifindex: 3, name: "vm1", kind: "veth", masterIndex: 1, mtu: 1500, isUp: true, operState: .up),
        NetLink(ifindex: 4, name: "tap0", kind: "tun", masterIndex: 2, mtu: 1500, isUp: true, operState: .up),
        NetLink(ifindex: 5, name: "eth9", mtu: 1500, isUp: true, operState: .up),
    ]

    @Test func everyBridgeOrTheNamedOnesThatExist() throws {
        let every = WatchRequest(bridge: nil, optionalBridges: .every)
        #expect(try every.resolve(in: Self.links).map(\.name).sorted() == ["br0", "br1", "tap0", "vm1"])
        let named = WatchRequest(bridge: nil, optionalBridges: .named(["br1", "virbr0"]))
        #expect(try named.resolve(in: Self.links).map(\.name) == ["tap0", "br1"])
        #expect(try WatchRequest(bridge: nil, optionalBridges: .named(["gone"])).resolve(in: Self.links).isEmpty)
        // With a required bridge too, its ports are not hooked twice.
        let both = WatchRequest(bridge: "br0", optionalBridges: .every)
        #expect(try both.resolve(in: Self.links).map(\.name).sorted() == ["br0", "br1", "tap0", "vm1"])
    }
}
