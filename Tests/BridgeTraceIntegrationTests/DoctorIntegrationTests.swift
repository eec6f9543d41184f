import Foundation
import Testing

/// `bridgetrace doctor --json` checked against the kernel it runs on, feature by feature,
/// with tools we did not write: bpftool (maps, BTF, loading real programs), iproute2's tc,
/// findmnt, xdp-loader (libxdp's dispatcher) and raw bpf(2) from Python. Runs in the kernel
/// matrix too, so each kernel's answers are checked where they are given.
@Suite(.serialized) struct DoctorIntegrationTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    struct Report {
        var object: [String: Any]
        var features: [String: [String: Any]]

        func available(_ name: String) -> Bool? { features[name]?["available"] as? Bool }
        func state(_ name: String) -> String? { features[name]?["state"] as? String }
        func command(_ name: String) -> [String: Any]? {
            (object["commands"] as? [[String: Any]])?.first { $0["command"] as? String == name }
        }
    }

    static func doctor() throws -> Report {
        let result = try BridgeTraceBinary.run(["doctor", "--json"])
        guard result.status == 0 || result.status == 1,
              let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let list = object["features"] as? [[String: Any]] else {
            throw BackgroundFailure("doctor --json: status \(result.status), \(result.stdout) \(result.stderr)")
        }
        return Report(object: object,
                      features: Dictionary(list.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Compiles the fixture with `define` and loads it with bpftool: whether the kernel took it.
    static func bpftoolLoads(define: String?) throws -> Bool {
        let object = try compileProbe(define: define)
        defer { unlink(object) }
        let pin = "/sys/fs/bpf/bt-doctor-test-\(getpid())"
        defer { unlink(pin) }
        return try runResult(["bpftool", "prog", "load", object, pin, "type", "xdp"]).succeeded
    }

    static func compileProbe(define: String?) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bt-doctor-\(getpid())-\(define ?? "drop").o").path
        let clang = FileManager.default.isExecutableFile(atPath: "/opt/swift/usr/bin/clang") ? "/opt/swift/usr/bin/clang" : "clang"
        var arguments = [clang, "-O2", "-g", "-target", "bpf", "-I/usr/include/\(machine)-linux-gnu", "-c",
                         fixtures + "/doctor_probe.bpf.c", "-o", output]
        if let define { arguments.append("-D\(define)") }
        try run(arguments)
        return output
    }

    static var machine: String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    @Test func everyFeatureIsProbedAndEveryCommandJudged() throws {
        try requireRoot()
        let report = try Self.doctor()
        #expect(Set(report.features.keys) == ["capabilities", "btf", "bpffs", "tracefs", "ringbuf", "xdp_link", "tcx",
                                              "xdp_load_bytes", "tp_btf_kfree_skb", "kfree_skb_reasons", "xdp_adjust_meta",
                                              "xdp_live_frames", "af_xdp", "xdp_frags", "af_xdp_sg", "bpf_stats",
                                              "xdp_dispatcher"])
        // As root every probe can tell: none may answer "unknown".
        for (name, feature) in report.features {
            #expect(feature["state"] as? String != "unknown", "\(name): \(feature["detail"] ?? "")")
        }
        let commands = (report.object["commands"] as? [[String: Any]] ?? []).compactMap { $0["command"] as? String }
        #expect(commands == ["counters", "trace", "drops", "diagnose", "exporter", "switch", "bench"])
        #expect(report.object["kernel"] as? String == (try run(["uname", "-r"])).trimmingCharacters(in: .whitespacesAndNewlines))
        // The commands the project's kernels must run: nothing may be unavailable there.
        for command in commands {
            #expect(report.command(command)?["status"] as? String != "unavailable", "\(command): \(report.command(command) ?? [:])")
        }
    }

    @Test func environmentAndBTFAnswersMatchTheSystem() throws {
        try requireRoot()
        let report = try Self.doctor()
        #expect(report.available("capabilities") == true)
        #expect(report.available("btf") == FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux"))
        #expect(report.available("bpffs") == (try runResult(["findmnt", "-n", "-t", "bpf", "/sys/fs/bpf"])).succeeded)
        #expect(report.available("tracefs") == (try runResult(["findmnt", "-n", "-t", "tracefs", "/sys/kernel/tracing"])).succeeded)
        #expect(report.available("bpf_stats") == FileManager.default.fileExists(atPath: "/proc/sys/kernel/bpf_stats_enabled"))

        let btf = try run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"])
        #expect(report.available("xdp_link") == btf.contains("STRUCT 'bpf_xdp_link'"))
        #expect(report.available("kfree_skb_reasons") == btf.contains("ENUM 'skb_drop_reason'"))
        #expect(report.available("tp_btf_kfree_skb") == btf.contains("TYPEDEF 'btf_trace_kfree_skb'"))

        let probe = try JSONSerialization.jsonObject(with: Data(try run(["bpftool", "-j", "feature", "probe", "kernel"]).utf8))
        let maps = (probe as? [String: Any])?["map_types"] as? [String: Bool] ?? [:]
        #expect(report.available("ringbuf") == maps["have_ringbuf_map_type"])
        #expect(report.available("af_xdp") == maps["have_xskmap_map_type"])
    }

    /// bpftool's own helper probe calls bpf_xdp_adjust_meta available on a build whose
    /// verifier refuses it ("program of this type cannot use helper"): only loading a real
    /// program that calls it tells.
    @Test func helperAnswersMatchWhatTheVerifierLoads() throws {
        try requireRoot()
        let report = try Self.doctor()
        #expect(report.available("xdp_adjust_meta") == (try Self.bpftoolLoads(define: "ADJUST_META")))
        #expect(report.available("xdp_load_bytes") == (try Self.bpftoolLoads(define: "LOAD_BYTES")))
    }

    @Test func liveFramesAnswerMatchesARawTestRun() throws {
        try requireRoot()
        let report = try Self.doctor()
        let object = try Self.compileProbe(define: nil)
        defer { unlink(object) }
        let pin = "/sys/fs/bpf/bt-doctor-live-\(getpid())"
        try run(["bpftool", "prog", "load", object, pin, "type", "xdp"])
        defer { unlink(pin) }
        let runResult = try runResult(["python3", Self.fixtures + "/live_frames_run.py", pin])
        #expect(runResult.status == 0 || runResult.status == 1, "\(runResult.stdout) \(runResult.stderr)")
        #expect(report.available("xdp_live_frames") == (runResult.status == 0), "\(runResult.stdout)")
    }

    /// tcx as bridgetrace attaches it: with tcx, no clsact filter appears on the port.
    @Test func tcxAnswerMatchesHowTcProgramsAttach() throws {
        try requireRoot()
        let report = try Self.doctor()
        let namespace = "btdoc\(getpid())"
        try run(["ip", "netns", "add", namespace])
        defer { _ = try? run(["ip", "netns", "del", namespace]) }
        try run(["ip", "-n", namespace, "link", "add", "doc0", "type", "veth", "peer", "name", "doc1"])
        try run(["ip", "-n", namespace, "link", "set", "doc0", "up"])
        let counters = try BackgroundBridgetrace(["counters", "--netns", namespace, "--port", "doc0", "--json", "--no-drops"])
        try counters.waitUntilReady()
        let filters = try run(["tc", "-n", namespace, "filter", "show", "dev", "doc0", "egress"])
        #expect(try counters.stop() == 0)
        #expect(report.available("tcx") == !filters.contains("bt_tc_tx"), "tc filter show: \(filters)")
    }

    /// libxdp's dispatcher, as xdp-loader uses it: a second program joins the port only
    /// where freplace works.
    @Test func dispatcherAnswerMatchesXDPLoader() throws {
        try requireRoot()
        let report = try Self.doctor()
        let object = try Self.compileProbe(define: nil)
        defer { unlink(object) }
        let namespace = "btdocx\(getpid())"
        try run(["ip", "netns", "add", namespace])
        defer { _ = try? run(["ip", "netns", "del", namespace]) }
        try run(["ip", "-n", namespace, "link", "add", "docx0", "type", "veth", "peer", "name", "docx1"])
        // ip netns exec mounts a fresh /sys, without bpffs: libxdp needs one for its dispatcher.
        let script = "mount -t bpf bpf /sys/fs/bpf && xdp-loader load -m skb docx0 \(object) && xdp-loader load -m skb docx0 \(object); "
            + "status=$?; xdp-loader unload -a docx0 >/dev/null 2>&1; exit $status"
        let second = try runResult(["ip", "netns", "exec", namespace, "sh", "-c", script])
        #expect(report.available("xdp_dispatcher") == second.succeeded, "\(second.stderr)")
    }
}
