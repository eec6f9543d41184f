import BridgeTraceCore
import CBridgeTraceABI
import Foundation

/// Reads and resets the per-port counters of the counters object (bridgetrace.h's
/// bt_counters, bt_counters_big, bt_vlan_slots and bt_vlan_frames), summing the per-CPU
/// copies.
public struct CounterMaps {
    let direct: BPFMap
    let big: BPFMap
    let vlan: BPFMap
    /// The inline per-port VID slots (nil for an object built before them).
    let vlanSlots: BPFMap?

    public init(object: BPFObject) throws {
        direct = try object.map("bt_counters")
        big = try object.map("bt_counters_big")
        vlan = try object.map("bt_vlan_frames")
        vlanSlots = try? object.map("bt_vlan_slots")
        precondition(direct.valueSize == MemoryLayout<bt_counters>.size, "bt_counters layout drifted")
        if let vlanSlots {
            precondition(vlanSlots.valueSize == MemoryLayout<bt_vlan_slots>.size, "bt_vlan_slots layout drifted")
        }
    }

    static var directLimit: Int32 { Int32(BT_DIRECT_IFINDEX_MAX) }

    /// Zeroes a port's counters, so that they count from attach (ifindexes are reused).
    public func reset(ifindex: Int32) throws {
        for direction in Direction.allCases {
            let zero = [UInt8](repeating: 0, count: direct.lookupSize)
            if ifindex < CounterMaps.directLimit {
                try direct.update(UInt32(ifindex) * 2 + direction.abiValue, bytes: zero)
                if let vlanSlots {
                    try vlanSlots.update(UInt32(ifindex) * 2 + direction.abiValue,
                                         bytes: [UInt8](repeating: 0, count: vlanSlots.lookupSize))
                }
            } else {
                big.delete(bt_port_key(ifindex: UInt32(ifindex), dir: direction.abiValue))
            }
        }
        for key in vlan.keys(as: bt_vlan_key.self) where key.ifindex == UInt32(ifindex) {
            vlan.delete(key)
        }
    }

    /// Both directions of one port, VLAN counts included.
    public func read(ifindex: Int32) throws -> (rx: DirectionCounters, tx: DirectionCounters) {
        var result: [Direction: DirectionCounters] = [:]
        for direction in Direction.allCases {
            let raw: [UInt8]?
            if ifindex < CounterMaps.directLimit {
                raw = try direct.lookup(UInt32(ifindex) * 2 + direction.abiValue)
            } else {
                raw = try big.lookup(bt_port_key(ifindex: UInt32(ifindex), dir: direction.abiValue))
            }
            var counters = DirectionCounters()
            if let raw { sumPerCPU(raw, stride: direct.perCPUStride, into: &counters) }
            if ifindex < CounterMaps.directLimit, let vlanSlots,
               let slots = try vlanSlots.lookup(UInt32(ifindex) * 2 + direction.abiValue) {
                Self.addSlots(slots, stride: vlanSlots.perCPUStride, into: &counters)
            }
            result[direction] = counters
        }
        for key in vlan.keys(as: bt_vlan_key.self) where key.ifindex == UInt32(ifindex) {
            guard let raw = try vlan.lookup(key) else { continue }
            let direction: Direction = UInt32(key.dir) == Direction.rx.abiValue ? .rx : .tx
            let frames = vlan.sum(raw)
            result[direction]!.vlanFrames[key.vlan_id, default: 0] &+= frames
        }
        return (result[.rx]!, result[.tx]!)
    }

    /// Adds every CPU's claimed VID slots to the per-VLAN counts.
    static func addSlots(_ raw: [UInt8], stride: Int, into counters: inout DirectionCounters) {
        let vidOffset = MemoryLayout<bt_vlan_slots>.offset(of: \.vid_plus1)!
        let framesOffset = MemoryLayout<bt_vlan_slots>.offset(of: \.frames)!
        raw.withUnsafeBytes { bytes in
            for cpu in 0..<BPFMap.possibleCPUs {
                let base = cpu * stride
                for slot in 0..<Int(BT_VLAN_SLOTS) {
                    let tag = bytes.loadUnaligned(fromByteOffset: base + vidOffset + 2 * slot, as: UInt16.self)
                    if tag == 0 { break }
                    let frames = bytes.loadUnaligned(fromByteOffset: base + framesOffset + 8 * slot, as: UInt64.self)
                    counters.vlanFrames[tag - 1, default: 0] &+= frames
                }
            }
        }
    }

    private func sumPerCPU(_ raw: [UInt8], stride: Int, into counters: inout DirectionCounters) {
        raw.withUnsafeBytes { bytes in
            for cpu in 0..<BPFMap.possibleCPUs {
                let base = bytes.baseAddress!.advanced(by: cpu * stride).assumingMemoryBound(to: UInt64.self)
                counters.add(cpuSlots: UnsafeBufferPointer(start: base, count: CounterKind.slotCount))
            }
        }
    }
}
