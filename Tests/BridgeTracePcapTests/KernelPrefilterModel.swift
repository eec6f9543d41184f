import BridgeTraceCore
import CBridgeTraceABI

/// A line-by-line Swift copy of the kernel's classification (bt_classify in
/// bpf/classify.bpf.h, bt_event_kind and bt_event_wanted in bpf/events.bpf.h), to check
/// TracePrefilter against what the kernel will really do with a frame.
struct KernelPrefilterModel {
    /// TPIDs the tag walk accepts: `ETH_P_8021Q`, `ETH_P_8021AD` (and 0x9100 for a kernel
    /// that also walks those).
    var tagTPIDs: Set<UInt16> = TracePrefilter.kernelTagTPIDs
    /// A kernel that takes what a runt has: a tag (and its VID when the TCI is there)
    /// before checking that the whole tag header fits, the IPv4 source when 16 bytes of
    /// the header are there, and each MAC address that is there. libpcap does the same,
    /// one load at a time. Today's kernel (false) needs whole headers.
    var runtTolerant = false

    struct Class {
        var kind: bt_kind = BT_KIND_OTHER
        var tagged = false
        var vlanID: UInt16 = 0
        /// Raw network-order words, as the BPF code loads them.
        var ipA: UInt32 = 0
        var ipB: UInt32 = 0
    }

    /// The frame as seen at tc with its outer tag offloaded (when `offload` and the frame
    /// has an 802.1Q/802.1ad tag to offload), or at XDP (the bytes as they are).
    func classify(_ frame: [UInt8], offload: Bool) -> Class {
        var data = frame
        var hasOffload = false
        var offloadedTCI: UInt16 = 0
        if offload, frame.count >= 18, [0x8100, 0x88A8].contains(be16(frame, 12)) {
            hasOffload = true
            offloadedTCI = be16(frame, 14)
            data = Array(frame[0..<12] + frame[16...])
        }
        var out = Class()
        out.tagged = hasOffload
        out.vlanID = offloadedTCI & 0x0fff
        func finish(_ kind: bt_kind) -> Class {
            var result = out
            result.kind = kind == BT_KIND_OTHER ? (out.tagged ? BT_KIND_VLAN : BT_KIND_OTHER) : kind
            return result
        }
        let end = data.count
        guard end >= 14 else { return finish(BT_KIND_OTHER) }
        var proto = be16(data, 12)
        var cursor = 14
        for _ in 0..<2 {
            guard tagTPIDs.contains(proto) else { break }
            if runtTolerant && !out.tagged {
                out.tagged = true
                if cursor + 2 <= end { out.vlanID = be16(data, cursor) & 0x0fff }
            }
            guard cursor + 4 <= end else { return finish(BT_KIND_OTHER) }
            if !out.tagged {
                out.tagged = true
                out.vlanID = be16(data, cursor) & 0x0fff
            }
            proto = be16(data, cursor + 2)
            cursor += 4
        }
        switch proto {
        case 0x0806:
            guard cursor + 8 <= end else { return finish(BT_KIND_ARP) }
            let ptype = be16(data, cursor + 2)
            let hlen = data[cursor + 4]
            let plen = data[cursor + 5]
            if ptype == 0x0800 && plen == 4 && hlen == 6 && cursor + 8 + 20 <= end {
                out.ipA = raw32(data, cursor + 8 + 6)
                out.ipB = raw32(data, cursor + 8 + 16)
            }
            return finish(BT_KIND_ARP)
        case 0x0800:
            if runtTolerant && cursor + 16 <= end { out.ipA = raw32(data, cursor + 12) }
            guard cursor + 20 <= end else { return finish(BT_KIND_OTHER) }
            out.ipA = raw32(data, cursor + 12)
            out.ipB = raw32(data, cursor + 16)
            if be16(data, cursor + 6) & 0x1fff != 0 { return finish(BT_KIND_OTHER) }
            let ihl = Int(data[cursor] & 0x0f) * 4
            if ihl < 20 { return finish(BT_KIND_OTHER) }
            let l4 = cursor + ihl
            switch data[cursor + 9] {
            case 1:
                return finish(BT_KIND_ICMP)
            case 17:
                guard l4 + 8 <= end else { return finish(BT_KIND_OTHER) }
                let sport = be16(data, l4)
                let dport = be16(data, l4 + 2)
                if (sport == 68 && dport == 67) || (sport == 67 && dport == 68) { return finish(BT_KIND_DHCP) }
                return finish(BT_KIND_OTHER)
            default:
                return finish(BT_KIND_OTHER)
            }
        case 0x86DD:
            guard cursor + 40 <= end else { return finish(BT_KIND_OTHER) }
            return finish(data[cursor + 6] == 58 ? BT_KIND_ICMP6 : BT_KIND_OTHER)
        default:
            return finish(BT_KIND_OTHER)
        }
    }

    /// bt_event_wanted: whether the kernel emits an event for the frame under `config`.
    func wanted(_ frame: [UInt8], offload: Bool, config: bt_trace_config) -> Bool {
        let cls = classify(frame, offload: offload)
        if config.kinds & (1 << cls.kind.rawValue) == 0 { return false }
        if config.host_ip != 0 && cls.ipA != config.host_ip && cls.ipB != config.host_ip { return false }
        if config.vlan_set != 0 && (!cls.tagged || cls.vlanID != config.vlan_id) { return false }
        if config.mac_set != 0 {
            let mac = withUnsafeBytes(of: config.mac) { Array($0) }
            if runtTolerant {
                let dst = frame.count >= 6 && Array(frame[0..<6]) == mac
                let src = frame.count >= 12 && Array(frame[6..<12]) == mac
                if !dst && !src { return false }
            } else {
                guard frame.count >= 14 else { return false }
                if Array(frame[0..<6]) != mac && Array(frame[6..<12]) != mac { return false }
            }
        }
        return true
    }

    private func be16(_ data: [UInt8], _ offset: Int) -> UInt16 {
        UInt16(data[offset]) << 8 | UInt16(data[offset + 1])
    }

    /// Four bytes loaded as the BPF program loads a __be32: memory order.
    private func raw32(_ data: [UInt8], _ offset: Int) -> UInt32 {
        data[offset..<(offset + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }
}
