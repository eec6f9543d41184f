import Foundation
import Testing

@testable import BridgeTraceKernel

@Suite struct DropReasonNamesTests {
    /// As `bpftool btf dump file /sys/kernel/btf/vmlinux format c` prints it (shortened).
    static let fixture = """
        struct audit_sig_info {
        \tuid_t uid;
        };

        enum skb_drop_reason {
        \tSKB_NOT_DROPPED_YET = 0,
        \tSKB_CONSUMED = 1,
        \tSKB_DROP_REASON_NOT_SPECIFIED = 2,
        \tSKB_DROP_REASON_NO_SOCKET = 3,
        \tSKB_DROP_REASON_NETFILTER_DROP = 12,
        \tSKB_DROP_REASON_NO_TX_TARGET = 113,
        \tSKB_DROP_REASON_BRIDGE_INGRESS_STP_STATE = 119,
        \tSKB_DROP_REASON_MAX = 128,
        \tSKB_DROP_REASON_SUBSYS_MASK = 4294901760,
        };

        enum skb_drop_reason_subsys {
        \tSKB_DROP_REASON_SUBSYS_CORE = 0,
        };
        """

    @Test func namesWithoutThePrefix() throws {
        let names = try #require(DropReasonNames.parseC(Self.fixture))
        #expect(names.name(of: 12) == "NETFILTER_DROP")
        #expect(names.name(of: 113) == "NO_TX_TARGET")
        #expect(names.name(of: 119) == "BRIDGE_INGRESS_STP_STATE")
        #expect(names.name(of: 2) == "NOT_SPECIFIED")
        #expect(names.name(of: 1) == "CONSUMED")
        #expect(names.name(of: 0) == "NOT_DROPPED_YET")
    }

    @Test func normalFreesAreTheIgnoredValues() throws {
        let names = try #require(DropReasonNames.parseC(Self.fixture))
        #expect(names.ignored == [0, 1])
    }

    @Test func markersAreNotReasons() throws {
        let names = try #require(DropReasonNames.parseC(Self.fixture))
        #expect(names.names[128] == nil)
        #expect(!names.names.values.contains("SUBSYS_MASK"))
        #expect(names.names.count == 7)
    }

    @Test func unknownValuesAreStillShown() throws {
        let names = try #require(DropReasonNames.parseC(Self.fixture))
        #expect(names.name(of: 200) == "REASON_200")
        #expect(names.name(of: 0x0002_0003) == "SUBSYS_2_REASON_3")
    }

    @Test func numbersAreNeverAssumed() {
        // Another kernel, other numbers: the table follows the enum, not a list in the code.
        let names = DropReasonNames(members: [("SKB_CONSUMED", 0), ("SKB_NOT_DROPPED_YET", 5),
                                              ("SKB_DROP_REASON_NETFILTER_DROP", 40)])
        #expect(names.name(of: 40) == "NETFILTER_DROP")
        #expect(names.ignored == [0, 5])
    }

    @Test func noEnumNoTable() {
        #expect(DropReasonNames.parseC("enum other { A = 1, };") == nil)
    }

    /// The running kernel's BTF. Without it the test cannot check anything, so it fails as
    /// root or under CI (where BTF is a requirement) and is skipped only elsewhere.
    @Test func runningKernelHasTheReasonsTheRulesNeed() throws {
        guard FileManager.default.isReadableFile(atPath: "/sys/kernel/btf/vmlinux") else {
            try requireEvidence("/sys/kernel/btf/vmlinux is not readable: the kernel has no BTF")
            return
        }
        let names = try DropReasonNames.loadFromKernel()
        let all = Set(names.names.values)
        for needed in ["NETFILTER_DROP", "NO_TX_TARGET", "NOT_SPECIFIED"] {
            #expect(all.contains(needed), "\(needed) missing from the kernel's enum skb_drop_reason")
        }
        #expect(names.ignored.count == 2)
        #expect(names.ignored.count <= 4)  // BT_DROP_IGNORED_MAX
    }
}
