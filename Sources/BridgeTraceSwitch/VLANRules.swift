import BridgeTraceCore

/// The switch's VLAN rules, the same ones bpf/switch.bpf.c applies in the kernel: which
/// VLAN a received frame is in, how it leaves a port, and which ports a flood reaches.
public enum VLANRules {
    public enum Ingress: Equatable, Sendable {
        /// The frame is in `vid`; `tagged` when it carries the tag in-band.
        case vlan(UInt16, tagged: Bool)
        case drop(SwitchDropReason)
    }

    /// `tag` is the frame's 802.1Q VID, nil when untagged; VID 0 (a priority tag) counts
    /// as untagged. An access port refuses tagged frames, a trunk the VIDs it does not carry.
    public static func ingress(on port: SwitchPortSpec, tag: UInt16?) -> Ingress {
        if let tag, tag != 0 {
            guard port.mode == .trunk, port.carries(tag) else { return .drop(.vlanNotAllowed) }
            return .vlan(tag, tagged: true)
        }
        guard let pvid = port.pvid, port.carries(pvid) else { return .drop(.vlanNotAllowed) }
        return .vlan(pvid, tagged: false)
    }

    /// What to do to a frame of `vid` leaving `port`, nil when the port is not in that VLAN.
    public enum TagOperation: Int32, Sendable {
        case keep = 0, pop = 1, push = 2
    }

    public static func egress(on port: SwitchPortSpec, vid: UInt16, frameTagged: Bool) -> TagOperation? {
        guard port.carries(vid) else { return nil }
        let wantTagged = port.sendsTagged(vid)
        if wantTagged == frameTagged { return .keep }
        return wantTagged ? .push : .pop
    }

    /// Indexes into `ports` of every port of the VLAN but the ingress one: where a
    /// broadcast, multicast or unknown unicast of `vid` goes. Frames never reach a port
    /// outside their VLAN, and never go back out of the port they came in on.
    public static func floodSet(_ ports: [SwitchPortSpec], vid: UInt16, ingress: Int) -> [Int] {
        ports.indices.filter { $0 != ingress && ports[$0].carries(vid) }
    }
}
