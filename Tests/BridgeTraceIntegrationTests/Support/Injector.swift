import BridgeTraceLab
import Foundation

/// Sends known frames from inside a namespace with Fixtures/inject.py (scapy), so counter
/// tests can say "exactly N of each kind entered the bridge".
///
/// It always runs Debian's /usr/bin/python3, which has python3-scapy; the `python3` first in
/// PATH may be another interpreter without it. The script is found next to this file through
/// #filePath, because this test target declares no resources.
enum Injector {
    static let python = "/usr/bin/python3"

    static let script: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/inject.py").path

    /// Sends, on `interface` in `namespace`, in this order: untagged ARP requests for
    /// `arpTarget`, 802.1Q-tagged ARP requests per VLAN, DHCPDISCOVERs, frames of unknown
    /// ethertypes, and 802.1ad+802.1Q (QinQ) ARP requests. Source MAC is the interface's own;
    /// destination is broadcast unless `destination` is given (DHCP is always broadcast).
    @discardableResult
    static func send(
        in namespace: String,
        interface: String = "eth0",
        destination: String? = nil,
        arpRequests: Int = 0,
        arpTarget: String? = nil,
        vlanARP: [(vid: Int, count: Int)] = [],
        dhcpDiscovers: Int = 0,
        ethertypes: [(type: UInt16, count: Int)] = [],
        qinq: [(outer: Int, inner: Int, count: Int)] = []
    ) throws -> InjectionReport {
        var arguments = ["--iface", interface]
        if let destination { arguments += ["--dst", destination] }
        if arpRequests > 0 { arguments += ["--arp-request", String(arpRequests)] }
        if let arpTarget { arguments += ["--arp-target", arpTarget] }
        for (vid, count) in vlanARP { arguments += ["--vlan-arp", "\(vid):\(count)"] }
        if dhcpDiscovers > 0 { arguments += ["--dhcp-discover", String(dhcpDiscovers)] }
        for (type, count) in ethertypes { arguments += ["--ethertype", "0x\(String(type, radix: 16)):\(count)"] }
        for (outer, inner, count) in qinq { arguments += ["--qinq", "\(outer):\(inner):\(count)"] }

        let output = try exec(inNetns: namespace, [python, script] + arguments)
        do {
            return try JSONDecoder().decode(InjectionReport.self, from: Data(output.utf8))
        } catch {
            throw InjectorOutputError(output: output, underlying: error)
        }
    }
}

/// inject.py's JSON summary of what it sent.
struct InjectionReport: Decodable, Sendable {
    struct Batch: Decodable, Sendable {
        /// "arp_request", "vlan_arp", "dhcp_discover", "ethertype" or "qinq".
        var kind: String
        var count: Int
        /// VLAN IDs, outermost first ([100] for 802.1Q, [outer, inner] for QinQ).
        var vlan: [Int]?
        var target: String?
        /// "0x88b5" for kind "ethertype".
        var ethertype: String?
    }

    var interface: String
    var sourceMAC: String
    /// "0.0.0.0" when the interface had no IPv4 address.
    var sourceIP: String
    var sent: [Batch]
    /// Frames sent in all.
    var total: Int

    /// Frames sent of one kind, over all its batches.
    func count(of kind: String) -> Int {
        sent.filter { $0.kind == kind }.reduce(0) { $0 + $1.count }
    }

    enum CodingKeys: String, CodingKey {
        case interface = "iface", sourceMAC = "src_mac", sourceIP = "src_ip", sent, total
    }
}

struct InjectorOutputError: Error, CustomStringConvertible {
    var output: String
    var underlying: any Error
    var description: String { "inject.py printed no readable summary (\(underlying)): \(output)" }
}
