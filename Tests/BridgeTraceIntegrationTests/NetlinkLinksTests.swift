import BridgeTraceCore
import BridgeTraceKernel
import Foundation
import Testing
import BridgeTraceProcess

private let isRoot = geteuid() == 0
private let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// Link discovery against a real bridge built in a throwaway network namespace.
@Suite(.serialized)
struct NetlinkLinksTests {
    // Off for a non-root developer run; on in CI, where lacking root must fail loudly.
    @Test(.enabled(if: isRoot || inCI, "needs root to create network namespaces"))
    func dumpSeesBridgeAndPortsInsideNamespace() throws {
        guard isRoot else {
            Issue.record("CI=true but not root: netlink integration tests need root")
            return
        }
        let ns = uniqueNamespaceName()
        defer { try? ip("netns", "delete", ns) }
        try ip("netns", "add", ns)
        for command in [
            "link add br0 type bridge",
            "link add p1 type veth peer name p1-peer",
            "link add p2 type veth peer name p2-peer",
            "link set p1 address 02:b7:00:00:00:01 mtu 9000 master br0",
            "link set p2 master br0",
            "link set br0 up",
            "link set p1 up",
            "link set p1-peer up",
            "link set p2 down",
        ] {
            try ip(["-n", ns] + command.split(separator: " ").map(String.init))
        }

        let rootInode = NetworkNamespace.currentInode()
        let (inode, links) = try onDedicatedThread {
            try NetworkNamespace.enter(named: ns)
            // Carrier and operstate follow asynchronously (linkwatch); wait for p1's.
            let deadline = Date().addingTimeInterval(TestTime.scaled(5))
            var links = try NetlinkLinks.dump()
            while links.first(where: { $0.name == "p1" })?.operState != .up, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
                links = try NetlinkLinks.dump()
            }
            return (NetworkNamespace.currentInode(), links)
        }

        #expect(NetworkNamespace.available().contains(ns))
        #expect(inode == namespaceFileInode(ns))
        #expect(inode != rootInode)
        #expect(NetworkNamespace.currentInode() == rootInode, "the test thread must not move")

        #expect(links.map(\.name).sorted() == ["br0", "lo", "p1", "p1-peer", "p2", "p2-peer"])
        let byName = Dictionary(uniqueKeysWithValues: links.map { ($0.name, $0) })
        let lo = try #require(byName["lo"])
        let br0 = try #require(byName["br0"])
        let p1 = try #require(byName["p1"])
        let p2 = try #require(byName["p2"])

        #expect(lo.kind == nil && lo.ifindex == 1 && !lo.isBridge)
        #expect(br0.isBridge && br0.kind == "bridge" && br0.isUp && br0.masterIndex == nil)
        #expect(br0.mac.count == 6)

        #expect(p1.kind == "veth" && !p1.isBridge)
        #expect(p1.masterIndex == br0.ifindex)
        #expect(p1.mtu == 9000)
        #expect(p1.isUp)
        #expect(p1.operState == .up)
        #expect(p1.hasCarrier == true)
        #expect(p1.mac == [0x02, 0xb7, 0x00, 0x00, 0x00, 0x01])

        #expect(p2.kind == "veth")
        #expect(p2.masterIndex == br0.ifindex)
        #expect(p2.mtu == 1500)
        #expect(!p2.isUp)
        #expect(p2.operState == .down)
        #expect(p2.hasCarrier == false)

        for peer in ["p1-peer", "p2-peer"] {
            #expect(byName[peer]?.kind == "veth")
            #expect(byName[peer]?.masterIndex == nil)
        }
        #expect(
            NetlinkLinks.bridgePorts(ofBridgeIndex: br0.ifindex, in: links.reversed()).map(\.name)
                == ["p1", "p2"])
    }

    // 400 links take several 32 KiB reply parts: the dump must follow them to NLMSG_DONE.
    @Test(.enabled(if: isRoot || inCI, "needs root to create network namespaces"))
    func dumpFollowsMultipartReplies() throws {
        guard isRoot else {
            Issue.record("CI=true but not root: netlink integration tests need root")
            return
        }
        let ns = uniqueNamespaceName()
        defer { try? ip("netns", "delete", ns) }
        try ip("netns", "add", ns)
        let pairs = 200
        let batch = FileManager.default.temporaryDirectory.appendingPathComponent("\(ns).batch")
        defer { try? FileManager.default.removeItem(at: batch) }
        try (0..<pairs).map { "link add v\($0) type veth peer name v\($0)-peer\n" }.joined()
            .write(to: batch, atomically: true, encoding: .utf8)
        try ip("-n", ns, "-batch", batch.path)

        let links = try onDedicatedThread {
            try NetworkNamespace.enter(named: ns)
            return try NetlinkLinks.dump()
        }
        #expect(links.count == 2 * pairs + 1)  // and lo
        #expect(Set(links.map(\.ifindex)).count == links.count, "no link reported twice")
        #expect(links.filter { $0.kind == "veth" }.count == 2 * pairs)
    }

    @Test func enterUnknownNamespaceThrowsUserErrorNamingIt() throws {
        let name = uniqueNamespaceName() + "-missing"
        let error = try onDedicatedThread { () -> UserError? in
            do {
                try NetworkNamespace.enter(named: name)
                return nil
            } catch let error as UserError {
                return error
            }
        }
        let message = try #require(error, "entering a missing netns must throw").message
        #expect(message.contains("netns \"\(name)\" not found"))
        #expect(message.contains("ip netns list") || message.contains("no named network namespaces"))
    }

    @Test func enterRejectsNamesThatAreNotOnePathComponent() {
        for name in ["", "..", "../../proc/1/ns/net"] {
            #expect(throws: UserError.self) { try NetworkNamespace.enter(named: name) }
        }
    }
}

/// Unique per process and per call, so parallel test runs on one host never collide.
private func uniqueNamespaceName() -> String {
    "btnl-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
}

/// The inode of the `ip netns` bind mount, which is the namespace's own inode.
private func namespaceFileInode(_ name: String) -> UInt64? {
    var info = stat()
    guard stat("/run/netns/\(name)", &info) == 0 else { return nil }
    return UInt64(info.st_ino)
}

/// Runs `body` on a new thread and waits for it. setns moves only the calling thread, so
/// netns-bound work goes here, where it cannot leak into the test runner's threads; the
/// thread (and its namespace membership) ends with `body`.
private func onDedicatedThread<T>(_ body: @escaping @Sendable () throws -> T) throws -> T {
    let outcome = ThreadOutcome<T>()
    let finished = DispatchSemaphore(value: 0)
    Thread {
        outcome.result = Result { try body() }
        finished.signal()
    }.start()
    finished.wait()
    return try outcome.result!.get()
}

/// A result handed from the dedicated thread to its waiter; the semaphore orders access.
private final class ThreadOutcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

private func ip(_ arguments: String...) throws {
    try ip(arguments)
}

/// Runs ip(8) to build test topology (discovery itself never parses `ip`).
private func ip(_ arguments: [String]) throws {
    try CommandRunner().run(["ip"] + arguments)
}
