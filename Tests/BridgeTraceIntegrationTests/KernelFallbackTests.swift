import Foundation
import Testing

/// Fallbacks for kernels without a feature, run on kernels that have it: BRIDGETRACE_WITHOUT
/// makes bridgetrace treat the feature as missing, so the fallback's results can be compared
/// with the preferred way's on the same traffic. (The kernel matrix runs the fallbacks where
/// the feature is really missing: clsact on 6.1, in-band switch metadata on the 6.18 build.)
@Suite(.serialized) struct KernelFallbackTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// A bridge in its own namespace with a tap port (fed by tap_send.py, as a VM would feed
    /// it) and a veth port; removed on every exit path.
    static func withTapBridge(_ body: (String) throws -> Void) throws {
        let namespace = "btfb\(getpid())"
        try run(["ip", "netns", "add", namespace])
        defer { _ = try? run(["ip", "netns", "del", namespace]) }
        for command in [["link", "add", "fbbr", "type", "bridge"], ["tuntap", "add", "dev", "fbtap", "mode", "tap"],
                        ["link", "add", "fbv0", "type", "veth", "peer", "name", "fbv1"],
                        ["link", "set", "fbtap", "master", "fbbr"], ["link", "set", "fbv0", "master", "fbbr"],
                        ["link", "set", "fbbr", "up"], ["link", "set", "fbtap", "up"], ["link", "set", "fbv0", "up"],
                        ["link", "set", "fbv1", "up"]] {
            try run(["ip", "-n", namespace] + command)
        }
        try body(namespace)
    }

    /// Events of ARP requests the tap sends: rx at the tap, tx at the veth.
    func traceTapTraffic(environment: [String: String]) throws -> (rx: [[String: Any]], tx: [[String: Any]], stderr: String) {
        var result: (rx: [[String: Any]], tx: [[String: Any]], stderr: String) = ([], [], "")
        try Self.withTapBridge { namespace in
            let tracer = try BackgroundBridgetrace(["trace", "fbbr", "--netns", namespace, "--json", "arp"], environment: environment)
            try tracer.waitUntilReady()
            let sent = try exec(inNetns: namespace, ["python3", Self.fixtures + "/tap_send.py", "fbtap", "5"])
            #expect(sent.trimmingCharacters(in: .whitespacesAndNewlines) == "5")
            usleep(300_000)
            #expect(try tracer.stop() == 0)
            let lines = try tracer.jsonLines()
            result = (lines.filter { $0["port"] as? String == "fbtap" && $0["dir"] as? String == "rx" },
                      lines.filter { $0["port"] as? String == "fbv0" && $0["dir"] as? String == "tx" },
                      tracer.stderr)
        }
        return result
    }

    /// Without bpf_xdp_load_bytes (before 5.18), events of received frames come from tc
    /// ingress: the same frames, the same bytes, and a line that says so.
    @Test func traceWithoutXDPLoadBytesGivesTheSameEventsFromTcIngress() throws {
        try requireRoot()
        let preferred = try traceTapTraffic(environment: [:])
        let fallback = try traceTapTraffic(environment: ["BRIDGETRACE_WITHOUT": "xdp_load_bytes"])
        for run in [preferred, fallback] {
            #expect(run.rx.count == 5)
            #expect(run.tx.count == 5)
        }
        let targets = { (events: [[String: Any]]) in events.compactMap { ($0["arp"] as? [String: Any])?["target_ip"] as? String } }
        #expect(targets(preferred.rx) == (200..<205).map { "198.18.0.\($0)" })
        #expect(targets(fallback.rx) == targets(preferred.rx))
        #expect(fallback.rx.map { $0["len"] as? Int } == preferred.rx.map { $0["len"] as? Int })
        #expect(!preferred.stderr.contains("bpf_xdp_load_bytes"))
        #expect(fallback.stderr.contains("fbtap: rx counted at tc ingress: this kernel does not offer bpf_xdp_load_bytes"))
    }

    @Test func explicitXDPRxWithoutLoadBytesIsRefusedWithTheReason() throws {
        try requireRoot()
        try Self.withTapBridge { namespace in
            let result = try BridgeTraceBinary.runWithEnvironment(["BRIDGETRACE_WITHOUT": "xdp_load_bytes"],
                                                                  ["trace", "fbbr", "--netns", namespace, "--rx-hook", "xdp", "-c", "1"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("--rx-hook xdp with events needs bpf_xdp_load_bytes"))
            #expect(try BridgetracePrograms.attached(netns: namespace).isEmpty)
        }
    }

    /// doctor says what the knob turned off, and the commands that lose it.
    @Test func doctorReportsTurnedOffFeatures() throws {
        try requireRoot()
        let result = try BridgeTraceBinary.runWithEnvironment(["BRIDGETRACE_WITHOUT": "tcx,xdp_adjust_meta"], ["doctor", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let features = object["features"] as? [[String: Any]] ?? []
        for name in ["tcx", "xdp_adjust_meta"] {
            let feature = try #require(features.first { $0["name"] as? String == name })
            #expect(feature["state"] as? String == "missing")
            #expect(feature["detail"] as? String == "turned off by BRIDGETRACE_WITHOUT")
        }
        let commands = object["commands"] as? [[String: Any]] ?? []
        #expect(commands.first { $0["command"] as? String == "counters" }?["status"] as? String == "degraded")
        #expect(commands.first { $0["command"] as? String == "switch" }?["status"] as? String == "degraded")
    }
}
