import BridgeTraceLab
import Foundation
import Testing

/// `bridgetrace exporter` scraped by a real Prometheus server, on a lab bridge with known
/// traffic: the query API returns the exact counts (and the kernel's `ip -s link` agrees),
/// promtool accepts the exposition and the alert rules, a lab fault becomes a
/// bridgetrace_finding series and goes away after `lab fault clear`, a hot-plugged port
/// appears and a removed one disappears, and it runs as an unprivileged user.
@Suite(.serialized) struct ExporterIntegrationTests {
    static let packageRoot = BridgeTraceBinary.packageRoot

    /// The URL the exporter wrote into its ready file.
    func metricsURL(_ exporter: BackgroundBridgetrace) throws -> String {
        try String(contentsOfFile: exporter.readyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// "PORT/DIRECTION" -> value of the samples.
    func byPortAndDirection(_ samples: [PrometheusServer.Sample]) -> [String: Int] {
        Dictionary(samples.map { ("\($0.labels["port"] ?? "?")/\($0.labels["direction"] ?? "?")", Int($0.value)) },
                   uniquingKeysWith: +)
    }

    @Test func prometheusGetsExactCountsFindingsAndPortChanges() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try lab.pinVMNeighbours()
            let ns = lab.bridgeNamespace
            // The finding must hold long enough for a scrape to see it: under TCG the first
            // drop's symbol lookup alone takes seconds, so the window grows with TestTime.
            let exporter = try BackgroundBridgetrace(["exporter", lab.bridgeName, "--netns", ns, "--listen", "127.0.0.1:0",
                                                      "--window", "\(TestTime.scaled(4))"])
            try exporter.waitUntilReady()
            let url = try metricsURL(exporter)
            let target = String(url.dropFirst("http://".count).prefix { $0 != "/" })
            let prometheus = try PrometheusServer(target: target)
            defer { prometheus.stop() }

            // One exporter per namespace, as for every other command.
            let second = try runResult(["timeout", "20", try BridgeTraceBinary.path(), "exporter", "--netns", ns, "--listen", "127.0.0.1:0"])
            #expect(second.status == 2)
            #expect(second.stderr.contains("another bridgetrace"), "\(second.stderr)")

            let ports = lab.bridgePorts
            let before = try Dictionary(uniqueKeysWithValues: ports.map { ($0, try LinkCounters.read($0, inNetns: ns)) })
            let sent = try KnownTraffic.send(lab)
            #expect(sent.total == 22)
            let after = try Dictionary(uniqueKeysWithValues: ports.map { ($0, try LinkCounters.read($0, inNetns: ns)) })
            var kernel: [String: Int] = [:]
            for port in ports {
                let delta = after[port]!.since(before[port]!)
                kernel["\(port)/rx"] = delta.rxPackets
                kernel["\(port)/tx"] = delta.txPackets
            }
            #expect(kernel["vm1/rx"] == 26)

            // The kinds partition the frames: their sum per port and direction is what the
            // kernel's own device counters say went through.
            let sums = try prometheus.wait(for: #"sum by (port, direction) (bridgetrace_frames_total{bridge="br0"})"#) {
                byPortAndDirection($0) == kernel
            }
            #expect(byPortAndDirection(sums) == kernel)

            func value(_ expression: String) throws -> Int? {
                let samples = try prometheus.query(expression)
                return samples.count == 1 ? Int(samples[0].value) : nil
            }
            let vm1 = #"netns="\#(ns)",bridge="br0",port="vm1""#
            #expect(try value(#"bridgetrace_frames_total{\#(vm1),direction="rx",kind="arp_request"}"#) == 12)
            #expect(try value(#"bridgetrace_frames_total{\#(vm1),direction="rx",kind="dhcp"}"#) == 4)
            #expect(try value(#"bridgetrace_frames_total{\#(vm1),direction="rx",kind="other"}"#) == 6)
            #expect(try value(#"bridgetrace_frames_total{\#(vm1),direction="rx",kind="icmp_echo_request"}"#) == 4)
            #expect(try value(#"bridgetrace_frames_total{\#(vm1),direction="tx",kind="icmp_echo_reply"}"#) == 4)
            #expect(try value(#"bridgetrace_frames_total{netns="\#(ns)",port="vm2",direction="tx",kind="icmp_echo_request"}"#) == 4)
            let vlans = try prometheus.query(#"bridgetrace_vlan_frames_total{\#(vm1),direction="rx"}"#)
            #expect(Dictionary(vlans.map { ($0.labels["vlan"] ?? "?", Int($0.value)) }, uniquingKeysWith: +) == ["100": 3, "200": 2, "300": 2])
            // Bytes of untagged traffic equal the kernel's. (At tc ingress the kernel has
            // already taken the outer 802.1Q tag off the skb, so tagged frames count 4 bytes
            // short there: the counting programs' business, not the exporter's.)
            #expect(try value(#"bridgetrace_bytes_total{\#(vm1),direction="tx"}"#) == after["vm1"]!.since(before["vm1"]!).txBytes)
            #expect(try value(#"bridgetrace_bytes_total{netns="\#(ns)",port="vm2",direction="rx"}"#) == after["vm2"]!.since(before["vm2"]!).rxBytes)
            #expect(try value(#"bridgetrace_port_up{\#(vm1)}"#) == 1)
            #expect(try value(#"bridgetrace_port_stp_state{\#(vm1)}"#) == 3)
            #expect(try value(#"bridgetrace_port_mtu_bytes{\#(vm1)}"#) == 1500)
            #expect(try value(#"bridgetrace_lost_events_total{netns="\#(ns)"}"#) == 0)
            #expect(try value(#"count(bridgetrace_build_info{version!="",libbpf!="",kernel!=""})"#) == 1)

            // promtool, not our code, judges the exposition.
            let lint = try runResult(["sh", "-c", "curl -sf \(url) | promtool check metrics"])
            #expect(lint.status == 0, "\(lint.stdout) \(lint.stderr)")

            // A fault becomes a finding series, and goes away once it is cleared and its
            // evidence has left the window (4 s on the host).
            #expect(try prometheus.query(#"bridgetrace_finding{cause="netfilter_drop"}"#).isEmpty)
            let fault = try BridgeTraceBinary.run(["lab", "fault", "netfilter_drop", "--name", lab.name])
            #expect(fault.status == 0, "\(fault.stderr)")
            let dropsBefore = try value(#"sum(bridgetrace_drops_total{netns="\#(ns)",reason="NETFILTER_DROP"})"#) ?? 0
            _ = try runResult(["ip", "netns", "exec", lab.vmNamespace(1), "ping", "-c", "5", "-i", "0.2", "-W", "1", lab.gatewayIP])
            let findings = try prometheus.wait(for: #"bridgetrace_finding{cause="netfilter_drop"}"#) { $0.count == 1 }
            #expect(findings.count == 1, "\(findings)")
            #expect(findings.first?.labels["port"] == "uplink")
            #expect(findings.first?.labels["severity"] == "error")
            #expect(findings.first?.labels["netns"] == ns)
            #expect(findings.first?.labels["bridge"] == "br0")
            #expect(findings.first?.value == 1)
            let drops = try prometheus.wait(for: #"sum(bridgetrace_drops_total{netns="\#(ns)",port="uplink",reason="NETFILTER_DROP",location="nft_do_chain"})"#) {
                $0.first.map { Int($0.value) - dropsBefore == 5 } ?? false
            }
            #expect(drops.first.map { Int($0.value) - dropsBefore } == 5, "5 echo requests dropped by the nft rule")

            let clear = try BridgeTraceBinary.run(["lab", "fault", "clear", "--name", lab.name])
            #expect(clear.status == 0, "\(clear.stderr)")
            let gone = try prometheus.wait(for: #"bridgetrace_finding{cause="netfilter_drop"}"#, timeout: 20) { $0.isEmpty }
            #expect(gone.isEmpty, "\(gone)")
            #expect(!(try run(["curl", "-sf", url])).contains("netfilter_drop"))

            // A port plugged in while the exporter runs is picked up; unplugged, it is gone.
            try exec(inNetns: ns, ["ip", "link", "add", "hot1", "type", "veth", "peer", "name", "hot1p"])
            try exec(inNetns: ns, ["ip", "link", "set", "hot1", "master", lab.bridgeName, "up"])
            try exec(inNetns: ns, ["ip", "link", "set", "hot1p", "up"])
            let hot = try prometheus.wait(for: #"bridgetrace_port_up{netns="\#(ns)",port="hot1"}"#) { $0.first?.value == 1 }
            #expect(hot.first?.value == 1, "\(hot)")
            #expect(try prometheus.wait(for: #"count(bridgetrace_frames_total{port="hot1"})"#) { $0.first?.value == 24 }.first?.value == 24)
            try exec(inNetns: ns, ["ip", "link", "del", "hot1"])
            let unplugged = try prometheus.wait(for: #"bridgetrace_port_up{port="hot1"}"#) { $0.isEmpty }
            #expect(unplugged.isEmpty)
            #expect(!(try run(["curl", "-sf", url])).contains("hot1"))

            // SIGTERM: a clean exit with nothing left attached.
            #expect(try exporter.stop(signal: SIGTERM) == 0, "\(exporter.stderr)")
            #expect(try BridgetracePrograms.attached(netns: ns).isEmpty)
            #expect(exporter.stderr.contains("hot1: new port, now watched"))
        }
    }

    @Test func alertRulesPassPromtool() throws {
        let result = try runResult(["promtool", "check", "rules", Self.packageRoot + "/contrib/bridgetrace-alerts.yml"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("SUCCESS"))
    }

    /// As the systemd unit runs it: a uid of its own, CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON
    /// only, the lock in $RUNTIME_DIRECTORY. nsenter moves into the lab's network namespace
    /// as root before setpriv drops everything, so the exporter itself needs no CAP_SYS_ADMIN.
    @Test func runsAsAnUnprivilegedUserWithOnlyItsCapabilities() throws {
        try requireRoot()
        try TestLab.with(vms: 2) { lab in
            try lab.pinVMNeighbours()
            let ns = lab.bridgeNamespace
            let runtime = FileManager.default.temporaryDirectory.appendingPathComponent("bt-rt-\(UUID().uuidString.prefix(8))").path
            defer { try? FileManager.default.removeItem(atPath: runtime) }
            try FileManager.default.createDirectory(atPath: runtime + "/bridgetrace", withIntermediateDirectories: true)
            try run(["chown", "65534:65534", runtime + "/bridgetrace"])
            func unprivileged(_ caps: String, runtimeDirectory: String? = runtime + "/bridgetrace") -> [String] {
                ["nsenter", "--net=/run/netns/\(ns)", "env"] + (runtimeDirectory.map { ["RUNTIME_DIRECTORY=\($0)"] } ?? [])
                    + ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=\(caps)", "--ambient-caps=\(caps)"]
            }
            let exporter = try BackgroundBridgetrace(["exporter", lab.bridgeName, "--listen", "127.0.0.1:0"],
                                                     prefix: unprivileged("+bpf,+net_admin,+perfmon"))
            try exporter.waitUntilReady()
            let status = try String(contentsOfFile: "/proc/\(exporter.pid)/status", encoding: .utf8)
            #expect(status.split(separator: "\n").contains { $0.hasPrefix("Uid:") && $0.contains("65534") })
            // CAP_NET_ADMIN (12), CAP_PERFMON (38), CAP_BPF (39), nothing else.
            #expect(status.split(separator: "\n").contains { $0 == "CapEff:\t000000c000001000" }, "\(status)")
            let url = try metricsURL(exporter)
            try exec(inNetns: lab.vmNamespace(1), ["ping", "-c", "3", "-i", "0.2", "-W", "2", lab.vmIP(2)])
            var text = ""
            let deadline = Date().addingTimeInterval(TestTime.scaled(10))
            let series = #"bridgetrace_frames_total{netns="",bridge="br0",port="vm1",vm="",direction="rx",kind="icmp_echo_request"} "#
            repeat {
                usleep(300_000)
                text = try exec(inNetns: ns, ["curl", "-sf", url])
            } while !text.contains(series + "3") && Date() < deadline
            #expect(text.contains(series + "3"), "\(text.prefix(2000))")
            #expect(try exporter.stop(signal: SIGTERM) == 0, "\(exporter.stderr)")
            #expect(try BridgetracePrograms.attached(netns: ns).isEmpty)

            // Without CAP_PERFMON the error names it; without a writable lock directory it
            // says how to get one.
            let binary = try BridgeTraceBinary.path()
            let noPerfmon = try runResult(["timeout", "20"] + unprivileged("+bpf,+net_admin") + [binary, "exporter", lab.bridgeName, "--listen", "127.0.0.1:0"])
            #expect(noPerfmon.status == 2)
            #expect(noPerfmon.stderr.contains("missing capability CAP_PERFMON"), "\(noPerfmon.stderr)")
            let xdp = try runResult(["timeout", "20"] + unprivileged("+bpf,+net_admin,+perfmon") + [binary, "exporter", "--rx-hook", "xdp", "--listen", "127.0.0.1:0"])
            #expect(xdp.status == 2)
            #expect(xdp.stderr.contains("--rx-hook xdp needs CAP_SYS_ADMIN"), "\(xdp.stderr)")
            // (A directory this user cannot enter: /run/bridgetrace itself may already hold a
            // readable lock file for a reused namespace inode, which the user may then share.)
            try FileManager.default.createDirectory(atPath: runtime + "/root-only/bridgetrace", withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: runtime + "/root-only")
            let noLock = try runResult(["timeout", "20"] + unprivileged("+bpf,+net_admin,+perfmon", runtimeDirectory: runtime + "/root-only/bridgetrace")
                + [binary, "exporter", lab.bridgeName, "--listen", "127.0.0.1:0"])
            #expect(noLock.status == 2)
            #expect(noLock.stderr.contains("RuntimeDirectory=bridgetrace"), "\(noLock.stderr)")
            #expect(try BridgetracePrograms.attached(netns: ns).isEmpty)
        }
    }
}
