import BridgeTraceCore
import Foundation
import Testing

@testable import BridgeTraceBench
import BridgeTraceProcess

/// The userspace DUTs (bridgetrace's switch on both paths, Open vSwitch on AF_XDP) carry
/// exactly what is sent, and leave no process behind. Short paced trials: correctness,
/// not speed.
@Suite(.serialized) struct UserspaceDUTIntegrationTests {
    /// Sends `count` frames at a rate every DUT keeps up with, on the default CPU placement.
    /// `whileUp` runs before the bed is closed.
    func expectExactCount(_ dut: DeviceUnderTest, count: UInt64 = 10_000, whileUp: () throws -> Void = {}) throws {
        let bed = try TestBed(dut: dut)
        defer { bed.close() }
        let result = try bed.run(TrialSpec(frameSize: 64, ratePPS: 20_000, count: count, duration: 0.5))
        try whileUp()
        #expect(result.sent == count, "\(dut.name)")
        #expect(result.received == count, "\(dut.name)")
        #expect(result.lost == 0, "\(dut.name)")
        #expect(result.reordered == 0, "\(dut.name)")
        #expect(result.stale == 0, "\(dut.name)")
    }

    /// Running: it exists and is not a zombie (an orphan waits to be reaped by init).
    static func alive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno != ESRCH else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].hasPrefix(") Z")
    }

    @Test func exactCountThroughOVSAFXDP() throws {
        try requireRoot()
        if let reason = OVSAFXDPDUT.unavailableReason() {
            // CI's machine has Open vSwitch; elsewhere, say why and skip.
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("\(reason)") }
            return
        }
        let dut = OVSAFXDPDUT()
        try expectExactCount(dut)
        #expect(dut.daemonPIDs.count == 2)
        for pid in dut.daemonPIDs { #expect(!Self.alive(pid), "OVS daemon \(pid) still running after close") }
    }

    /// Open vSwitch that cannot open its AF_XDP ports (native XDP on a veth refuses a
    /// 9000-byte MTU) fails the set-up with a message that says why, and stops its daemons.
    @Test func ovsThatCannotRunSaysWhyAndLeavesNoProcess() throws {
        try requireRoot()
        guard OVSAFXDPDUT.unavailableReason() == nil else { return }
        let dut = OVSAFXDPDUT()
        #expect {
            _ = try TestBed(dut: dut, mtu: 9000)
        } throws: { error in
            let message = (error as? UserError)?.message ?? "\(error)"
            return message.contains("ovs-afxdp cannot run here") && message.contains("p-gen")
        }
        #expect(dut.daemonPIDs.count == 2)
        for pid in dut.daemonPIDs { #expect(!Self.alive(pid), "OVS daemon \(pid) still running after a failed set-up") }
    }
}

extension UserspaceDUTIntegrationTests {
    /// The fast path: the sink's MAC is learnt from its announcement, so every measured
    /// frame is known unicast, redirected in the kernel.
    @Test func exactCountThroughXDPSwitch() throws {
        try requireRoot()
        let dut = AFXDPSwitchDUT(fastPath: true)
        try expectExactCount(dut) {
            // The path check sends 1000 frames before the trial: all redirected in the
            // kernel too (the sink is a static entry); none went to userspace.
            let stats = dut.stats()
            #expect(stats["fast_path"] == 11_000, "\(stats)")
            #expect(stats["to_xsk"] == 0, "\(stats)")
        }
        let pid = try #require(dut.switchPID)
        #expect(!Self.alive(pid), "the switch is still running after close")
    }

    /// Every frame through AF_XDP and the switch's Swift code.
    @Test func exactCountThroughAFXDPSwitch() throws {
        try requireRoot()
        let dut = AFXDPSwitchDUT(fastPath: false)
        try expectExactCount(dut) {
            let stats = dut.stats()
            #expect(stats["fast_path"] == 0, "\(stats)")
            #expect((stats["to_xsk"] ?? 0) >= 11_000, "\(stats)")
        }
        let pid = try #require(dut.switchPID)
        #expect(!Self.alive(pid), "the switch is still running after close")
    }

    /// With --dut-cpu own every thread of the switch is on the DUT's CPU, and the trial
    /// still carries every frame.
    @Test func switchThreadsArePinnedToTheDUTCPU() throws {
        try requireRoot()
        let dut = AFXDPSwitchDUT(fastPath: false)
        let bed = try TestBed(dut: dut, placement: .own)
        defer { bed.close() }
        let pid = try #require(dut.switchPID)
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        #expect(!tasks.isEmpty)
        for task in tasks {
            let status = try String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8)
            let allowed = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
            #expect(allowed?.hasSuffix("\t\(NAPIThreads.dutCPU)") == true, "thread \(task): \(allowed ?? "")")
        }
        #expect(bed.notes.contains { $0.contains("bridgetrace switch") && $0.contains("CPU \(NAPIThreads.dutCPU)") })
        // An open loop (the generator on its own CPU): a stall of the shared machine can
        // overflow a ring, so this checks the path works, not that it is lossless.
        let result = try bed.run(TrialSpec(frameSize: 64, ratePPS: 20_000, count: 5_000, duration: 0.25))
        #expect(result.received >= 4_950, "\(result.received) of 5000")
        #expect(result.reordered == 0)
    }
}

extension UserspaceDUTIntegrationTests {
    /// A bench run killed with SIGKILL leaves ovs-vswitchd and ovsdb-server running in
    /// its namespaces; the next run's stale cleanup stops them and deletes the namespaces.
    @Test func daemonsOfASIGKILLedRunAreStoppedByTheNextRun() throws {
        try requireRoot()
        guard OVSAFXDPDUT.unavailableReason() == nil else { return }
        let bench = try ChildProcess([try AFXDPSwitchDUT.binary(), "bench", "--dut", "ovs-afxdp", "--duration", "30",
                                      "--trials", "1", "--no-progress"], stderr: .log, ownGroup: true)
        defer { bench.stop(signal: SIGKILL) }
        let namespace = "btb\(bench.pid)-1-dut"
        var daemons: [pid_t] = []
        let deadline = Date().addingTimeInterval(30)
        while daemons.count < 2 && Date() < deadline && !bench.hasExited {
            usleep(100_000)
            guard FileManager.default.fileExists(atPath: "/run/netns/\(namespace)") else { continue }
            daemons = (try? BenchNetwork.pids(in: namespace)) ?? []
        }
        try #require(daemons.count >= 2, "ovs-afxdp did not start in \(namespace): \(bench.log)")
        bench.stop(signal: SIGKILL)
        #expect(daemons.allSatisfy { Self.alive($0) }, "the daemons outlive a SIGKILLed run")
        let removed = BenchNetwork.removeStale()
        #expect(removed.contains(namespace))
        for pid in daemons { #expect(!Self.alive(pid), "daemon \(pid) survived the stale cleanup") }
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(namespace)"))
    }
}
