import BridgeTraceCore
import Foundation
import Testing

@testable import BridgeTraceKernel

/// What a non-root run needs, without being one: the capability check names each missing
/// capability, and the lock lives where systemd's RuntimeDirectory= puts it.
struct LeastPrivilegeTests {
    static func mask(_ caps: Int...) -> UInt64 { caps.reduce(0) { $0 | (1 << UInt64($1)) } }

    @Test func missingCapabilitiesAreNamed() {
        let needed = Self.mask(Preflight.capBPF, Preflight.capNetAdmin, Preflight.capPerfmon)
        #expect(Preflight.missingCapabilities(effective: needed, enteringNamespaces: false).isEmpty)
        #expect(Preflight.missingCapabilities(effective: needed, enteringNamespaces: true).map(\.name) == ["CAP_SYS_ADMIN"])
        #expect(Preflight.missingCapabilities(effective: Self.mask(Preflight.capBPF, Preflight.capNetAdmin), enteringNamespaces: false)
            .map(\.name) == ["CAP_PERFMON"])
        #expect(Preflight.missingCapabilities(effective: 0, enteringNamespaces: false).map(\.name)
            == ["CAP_BPF", "CAP_NET_ADMIN", "CAP_PERFMON"])
        // CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, as in the kernel; not for CAP_NET_ADMIN.
        #expect(Preflight.missingCapabilities(effective: Self.mask(Preflight.capSysAdmin), enteringNamespaces: true)
            .map(\.name) == ["CAP_NET_ADMIN"])
    }

    @Test func withoutSysAdminRxIsCountedAtTcAndXDPIsRefusedWithTheReason() throws {
        #expect(try Preflight.rxHook(.auto, hasSysAdmin: true) == .auto)
        #expect(try Preflight.rxHook(.xdp, hasSysAdmin: true) == .xdp)
        #expect(try Preflight.rxHook(.auto, hasSysAdmin: false) == .tc)
        #expect(try Preflight.rxHook(.tc, hasSysAdmin: false) == .tc)
        #expect(throws: UserError.self) { try Preflight.rxHook(.xdp, hasSysAdmin: false) }
    }

    @Test func lockDirectoryIsSystemdsRuntimeDirectory() {
        #expect(InstanceLock.directory(environment: [:]) == "/run/bridgetrace")
        #expect(InstanceLock.directory(environment: ["RUNTIME_DIRECTORY": "/run/bridgetrace"]) == "/run/bridgetrace")
        #expect(InstanceLock.directory(environment: ["RUNTIME_DIRECTORY": "/tmp/x/bridgetrace:/run/other"]) == "/tmp/x/bridgetrace")
        // Another unit's runtime directory is not ours: the locks must be the ones every run shares.
        #expect(InstanceLock.directory(environment: ["RUNTIME_DIRECTORY": "/run/foo"]) == "/run/bridgetrace")
    }

    @Test func oneHolderPerNamespaceAndTheErrorSaysWhatToDo() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bt-lock-\(UUID().uuidString.prefix(8))/bridgetrace").path
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path) }
        let first = try InstanceLock(netnsInode: 42, directory: directory)
        #expect(throws: UserError.self) { try InstanceLock(netnsInode: 42, directory: directory) }
        let other = try InstanceLock(netnsInode: 43, directory: directory)
        withExtendedLifetime((first, other)) {}
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/netns-42.lock")
        #expect((attributes[.posixPermissions] as? Int) == 0o644, "readable by the service user and root alike")
        #expect(InstanceLock.hint(directory: "/run/bridgetrace", errno: EACCES).contains("RuntimeDirectory=bridgetrace"))
    }

    /// A holder that has detached gives the namespace up at once, whenever its object dies:
    /// the bench attaches the next tracer as soon as the last one has stopped.
    @Test func releaseFreesTheNamespaceWhileTheHolderStillLives() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bt-lock-\(UUID().uuidString.prefix(8))/bridgetrace").path
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path) }
        let first = try InstanceLock(netnsInode: 42, directory: directory)
        #expect(throws: UserError.self) { try InstanceLock(netnsInode: 42, directory: directory) }
        first.release()
        first.release()  // idempotent
        let second = try InstanceLock(netnsInode: 42, directory: directory)
        #expect(throws: UserError.self) { try InstanceLock(netnsInode: 42, directory: directory) }
        withExtendedLifetime((first, second)) {}
    }
}
