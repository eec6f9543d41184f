import BridgeTraceLab
import Foundation
import Testing
import BridgeTraceProcess

/// Every failure an operator can hit gives one line that says what to do, exit status 2,
/// and leaves nothing attached.
@Suite(.serialized) struct ErrorPathTests {
    func expectUserError(_ result: CommandResult, contains text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 2, "exit status", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line, got: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("bridgetrace: "), sourceLocation: sourceLocation)
        #expect(result.stderr.contains(text), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
    }

    @Test func unknownInterfaceListsTheBridges() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            let result = try BridgeTraceBinary.run(["counters", "eth9", "--netns", lab.bridgeNamespace])
            expectUserError(result, contains: "eth9: no such interface (bridges in netns \(lab.bridgeNamespace): br0)")
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }

    @Test func portIsNotABridgeSuggestsPort() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            let result = try BridgeTraceBinary.run(["counters", "vm1", "--netns", lab.bridgeNamespace])
            expectUserError(result, contains: "vm1 is not a bridge (it is a port of br0); to watch it alone use --port vm1")
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }

    @Test func unknownPortIsNamed() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            let result = try BridgeTraceBinary.run(["counters", "br0", "--port", "tap9", "--netns", lab.bridgeNamespace])
            expectUserError(result, contains: "tap9: no such interface in netns \(lab.bridgeNamespace)")
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }

    @Test func unknownNetns() throws {
        try requireRoot()
        let result = try BridgeTraceBinary.run(["counters", "br0", "--netns", "bt-no-such-ns"])
        expectUserError(result, contains: #"netns "bt-no-such-ns" not found"#)
    }

    @Test func notRoot() throws {
        try requireRoot()
        // Really unprivileged: uid nobody, no capabilities. The binary's directories must
        // be searchable by nobody; /tmp always is.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("bridgetrace-nobody-\(getpid())").path
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: try BridgeTraceBinary.path(), toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let result = try runResult(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                                    copy, "counters", "br0"])
        expectUserError(result, contains: "missing capabilities CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON (CAP_BPF to load BPF programs; CAP_NET_ADMIN to attach them to interfaces; CAP_PERFMON to trace kernel drops): run as root")
    }

    @Test func noBTF() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            // A private mount namespace where /sys/kernel/btf is an empty tmpfs: the kernel
            // as bridgetrace sees it has no BTF.
            let result = try runResult(["unshare", "-m", "sh", "-c",
                                        "mount -t tmpfs none /sys/kernel/btf && exec \"$0\" counters br0 --netns \"$1\"",
                                        try BridgeTraceBinary.path(), lab.bridgeNamespace])
            expectUserError(result, contains: "this kernel exposes no BTF (/sys/kernel/btf/vmlinux is missing)")
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }

    @Test func noBPFFS() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            let result = try runResult(["unshare", "-m", "sh", "-c",
                                        "while mountpoint -q /sys/fs/bpf; do umount -l /sys/fs/bpf || exit 9; done; exec \"$0\" counters br0 --netns \"$1\"",
                                        try BridgeTraceBinary.path(), lab.bridgeNamespace])
            expectUserError(result, contains: "no BPF filesystem at /sys/fs/bpf (libxdp needs it): mount it with `mount -t bpf bpf /sys/fs/bpf`")
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }

    @Test func secondTracerInTheSameNamespaceIsRefused() throws {
        try requireRoot()
        try TestLab.with(vms: 1) { lab in
            let first = try BackgroundBridgetrace(["counters", "br0", "--netns", lab.bridgeNamespace, "--json"])
            try first.waitUntilReady()
            let second = try BridgeTraceBinary.run(["counters", "br0", "--netns", lab.bridgeNamespace])
            expectUserError(second, contains: "another bridgetrace (pid \(first.pid)) is attached in this network namespace")
            // The first one's programs are untouched by the refused second run: 3 ports (the
            // bridge's own interface too) x (rx + tx), on links (tcx, XDP) or, without them,
            // legacy attachments.
            let links = HeldLink.held(by: first.pid).filter { $0.type == "tcx" || $0.type == "xdp" }
            let legacy = try BridgetracePrograms.attached(netns: lab.bridgeNamespace).count
            #expect(links.count + legacy == 6, "links \(links), legacy \(legacy)")
            #expect(try first.stop() == 0)
            #expect(try BridgetracePrograms.attached(netns: lab.bridgeNamespace).isEmpty)
        }
    }

    @Test func usageErrorsExitTwo() throws {
        let result = try BridgeTraceBinary.run(["counters"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("name a bridge"))
        let badInterval = try BridgeTraceBinary.run(["counters", "br0", "--interval", "0"])
        #expect(badInterval.status == 2)
        #expect(badInterval.stderr.contains("--interval must be a positive number of seconds"))
    }
}
