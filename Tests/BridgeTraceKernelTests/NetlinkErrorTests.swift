import BridgeTraceCore
import BridgeTraceKernel
import Testing

/// A failed netlink dump reads like every other system error, and is still its own type
/// (collectors skip a raced dump by catching NetlinkError).
@Suite struct NetlinkErrorTests {
    @Test func wordedLikeASystemError() {
        let error = NetlinkError(operation: "RTM_GETLINK dump", errno: -16)
        #expect(error.errno == .resourceBusy)
        #expect(error == NetlinkError(operation: "RTM_GETLINK dump", errno: 16))
        #expect(error.message == "netlink RTM_GETLINK dump failed: Device or resource busy (EBUSY)")
        #expect((error as any OperatorError).line == "bridgetrace: " + error.message)
    }
}
