import BridgeTraceLab
import Foundation
import Testing

/// Ports named by their VM, with a real libvirt: a domain on a test bridge, and `counters`,
/// `drops`, `diagnose` and the exporter name the tap libvirt made for it by the domain.
/// The guest does not need to boot: the names come from libvirt's live domain file.
@Suite("libvirt VM names", .serialized)
struct LibvirtVMNameTests {
    @Test(.timeLimit(.minutes(5)))
    func countersDiagnoseAndTheExporterNameTheDomain() throws {
        try requireRoot()
        try requireLibvirt()
        try requireQEMU()
        try LibvirtHost.with { host in
            #expect(host.qemuPid != nil, "libvirt keeps the running domain's pid in /run/libvirt/qemu")
            let ports = try run(["ip", "-br", "link", "show", "master", host.bridge])
            #expect(ports.hasPrefix(host.tap + " "), "libvirt put the domain's tap on the bridge: \(ports)")

            // counters: the JSON port carries the domain, the table reads `tap (domain)`.
            let json = try BridgeTraceBinary.run(["counters", host.bridge, "--json", "--interval", "0.5", "--duration", "1"])
            #expect(json.status == 0, "\(json.stderr)")
            let last = try #require(json.stdout.split(separator: "\n").last)
            let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
            // The bridge's own interface is a port too (the host's), and no VM's.
            let named = (snapshot["ports"] as? [[String: Any]] ?? []).map { ($0["port"] as? String ?? "?", $0["vm"] as? String ?? "-") }
            #expect(Dictionary(uniqueKeysWithValues: named) == [host.tap: host.domain, host.bridge: "-"], "\(last)")
            let table = try BridgeTraceBinary.run(["counters", host.bridge, "--interval", "0.5", "--duration", "1"])
            #expect(table.status == 0, "\(table.stderr)")
            #expect(table.stdout.contains("\n\(host.tap) (\(host.domain))  rx "), "\(table.stdout)")

            // diagnose: the tap set down is a port_down finding at `tap (domain)`.
            try run(["ip", "link", "set", host.tap, "down"])
            let diagnosis = try BridgeTraceBinary.run(["diagnose", host.bridge, "--duration", "1", "--json"])
            #expect(diagnosis.status == 1, "\(diagnosis.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(diagnosis.stdout.utf8)) as? [String: Any])
            let findings = (report["findings"] as? [[String: Any]] ?? []).map {
                "\($0["cause"] ?? "?")@\($0["port"] ?? "?")/\($0["vm"] ?? "-")"
            }
            #expect(findings == ["port_down@\(host.tap)/\(host.domain)"], "\(diagnosis.stdout)")
            let text = try BridgeTraceBinary.run(["diagnose", host.bridge, "--duration", "1"])
            #expect(text.stdout.contains("\nERROR port_down at \(host.tap) (\(host.domain))\n"), "\(text.stdout)")

            // The exporter: a `vm` label on the tap's series.
            let exporter = try BackgroundBridgetrace(["exporter", host.bridge, "--listen", "127.0.0.1:0"])
            try exporter.waitUntilReady()
            defer { _ = try? exporter.stop(signal: SIGTERM) }
            let url = try String(contentsOfFile: exporter.readyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let metrics = try run(["curl", "-sf", url])
            let labels = #"netns="",bridge="\#(host.bridge)",port="\#(host.tap)",vm="\#(host.domain)""#
            #expect(metrics.contains("bridgetrace_port_up{\(labels)} 0"), "\(metrics.prefix(3000))")
            #expect(metrics.contains("bridgetrace_frames_total{\(labels),direction=\"rx\",kind=\"other\"}"))
        }
    }
}
