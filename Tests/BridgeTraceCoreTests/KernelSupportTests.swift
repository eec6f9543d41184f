import BridgeTraceCore
import Testing

/// The rules that turn probed features into what each command does, from feature sets
/// (no root, no kernel): the kernels of the matrix and the ones hypervisors run.
@Suite struct KernelSupportTests {
    static func kernel(missing: Set<KernelFeature> = [], unknown: Set<KernelFeature> = []) -> KernelSupport {
        KernelSupport(features: KernelFeature.allCases.map { feature in
            KernelFeatureStatus(feature, missing.contains(feature) ? .missing : unknown.contains(feature) ? .unknown : .available)
        })
    }

    func status(_ support: KernelSupport, _ command: KernelCommand) -> CommandSupport.Status {
        support.support(for: command).status
    }

    @Test func everythingOfferedIsFullEverywhere() {
        let support = Self.kernel()
        #expect(support.commands.map(\.status) == Array(repeating: .full, count: KernelCommand.allCases.count))
        #expect(support.commands.allSatisfy { $0.fallbacks.isEmpty })
    }

    /// This project's 6.18 build: no adjust_meta, no live frames, no freplace.
    @Test func theFC618BuildDegradesTheSwitchAndTheBenchOnly() {
        let support = Self.kernel(missing: [.xdpAdjustMeta, .xdpLiveFrames, .xdpDispatcher])
        #expect(status(support, .switchCommand) == .degraded)
        #expect(support.support(for: .switchCommand).fallbacks == ["no bpf_xdp_adjust_meta in XDP: " + KernelFeature.xdpAdjustMeta.without])
        #expect(status(support, .bench) == .degraded)
        for command in [KernelCommand.counters, .trace, .drops, .diagnose, .exporter] {
            #expect(status(support, command) == .full, "\(command)")
        }
    }

    /// Debian 12's 6.1: no tcx, no multi-buffer AF_XDP. Everything attaching tc programs says
    /// clsact; drops do not attach tc; the switch's sockets are single-buffer.
    @Test func debian61FallsBackToClsactAndSingleBufferSockets() {
        let support = Self.kernel(missing: [.tcx, .afXDPSG])
        for command in [KernelCommand.counters, .trace, .diagnose, .exporter] {
            #expect(status(support, command) == .degraded)
            #expect(support.support(for: command).fallbacks.count == 1)
            #expect(support.support(for: command).fallbacks[0].contains("clsact"))
        }
        #expect(status(support, .drops) == .full)
        #expect(status(support, .switchCommand) == .degraded)
        #expect(support.support(for: .switchCommand).fallbacks == [KernelSupport.line(.afXDPSG)])
        #expect(KernelSupport.line(.afXDPSG).contains("FRAME_TOO_BIG"))
    }

    /// Without xdp.frags (before 5.18) no port carries jumbo frames: that one line says it,
    /// not a second one about the sockets as well.
    @Test func withoutFragsTheSwitchSaysSoOnce() {
        let support = Self.kernel(missing: [.xdpFrags, .afXDPSG])
        #expect(support.support(for: .switchCommand).fallbacks == [KernelSupport.line(.xdpFrags)])
    }

    /// Before 5.17 (Ubuntu 22.04's 5.15, RHEL 9's 5.14): no drop reasons, no load_bytes.
    @Test func withoutDropReasonsDropsCannotRunAndDiagnoseSaysWhatItLoses() {
        let support = Self.kernel(missing: [.kfreeSkbReasons, .xdpLoadBytes, .tcx, .xdpLiveFrames])
        #expect(status(support, .drops) == .unavailable)
        #expect(status(support, .diagnose) == .degraded)
        #expect(support.support(for: .diagnose).fallbacks.contains { $0.contains("no drop causes") })
        #expect(status(support, .trace) == .degraded)
        #expect(support.support(for: .trace).fallbacks.contains { $0.contains("tc ingress") })
        #expect(status(support, .switchCommand) == .unavailable)
    }

    @Test func missingPrivilegesMakeEveryCommandUnavailable() {
        let support = Self.kernel(missing: [.capabilities])
        #expect(support.commands.allSatisfy { $0.status == .unavailable })
        #expect(support.commands.allSatisfy { $0.fallbacks.first?.contains("run as root") == true })
    }

    /// A probe that could not tell (no privilege to load) is not held against a command.
    @Test func unknownIsNotMissing() {
        let support = Self.kernel(unknown: Set(KernelFeature.allCases))
        #expect(support.commands.allSatisfy { $0.status == .full })
    }

    @Test func noRingBufferMeansNoCommandLoads() {
        let support = Self.kernel(missing: [.ringbuf])
        #expect(support.commands.allSatisfy { $0.status == .unavailable })
    }

    @Test func everyFeatureSaysWhatHappensWithoutIt() {
        for feature in KernelFeature.allCases {
            #expect(!feature.without.isEmpty)
            #expect(!feature.title.isEmpty)
        }
        #expect(KernelFeature.tcx.since == "6.6")
        #expect(KernelFeature.ringbuf.since == "5.8")
        #expect(KernelFeature.xdpLiveFrames.since == "5.18")
    }

    @Test func jsonShapeAndExitStatus() throws {
        let host = DoctorReport.Host(kernel: "6.1.0-57-amd64", machine: "x86_64", version: "0.1.0", libbpf: "1.1.2", libxdp: "1.3.0")
        let degraded = DoctorReport(host: host, support: Self.kernel(missing: [.tcx]))
        #expect(degraded.exitStatus == 0)
        let json = degraded.json.rendered()
        #expect(json.hasPrefix(#"{"kernel": "6.1.0-57-amd64", "machine": "x86_64", "version": "0.1.0", "libbpf": "1.1.2", "libxdp": "1.3.0", "features": [{"name": "capabilities", "available": true, "state": "available""#))
        #expect(json.contains(#"{"name": "tcx", "available": false, "state": "missing", "detail": "", "title": "tcx links for tc programs", "since": "6.6""#))
        #expect(json.contains(#"{"command": "counters", "status": "degraded", "fallbacks": ["no tcx links for tc programs: tc programs attach as clsact filters"#))
        #expect(json.contains(#"{"command": "drops", "status": "full", "fallbacks": []}"#))
        let broken = DoctorReport(host: host, support: Self.kernel(missing: [.afXDP]))
        #expect(broken.exitStatus == 1)
        #expect(broken.text.contains("switch    unavailable  no AF_XDP sockets and XSKMAP: the switch cannot run"))
    }
}
