import BridgeTraceCore
import CLibBPF
import Foundation

/// A map of a loaded `BPFObject` (which owns the fd). Keys and values are plain
/// fixed-width structs from bridgetrace.h, passed by pointer.
public struct BPFMap: Sendable {
    public let name: String
    public let fd: Int32
    public let keySize: Int
    public let valueSize: Int
    public let isPerCPU: Bool

    /// Number of per-CPU copies the kernel returns on lookup (possible CPUs, not online).
    public static let possibleCPUs: Int = Int(max(1, libbpf_num_possible_cpus()))

    /// Bytes a lookup fills: per-CPU maps return one 8-byte-aligned copy per CPU.
    public var lookupSize: Int {
        isPerCPU ? ((valueSize + 7) & ~7) * BPFMap.possibleCPUs : valueSize
    }

    public var perCPUStride: Int { (valueSize + 7) & ~7 }

    /// The u64 at `offset` of a value this map's lookup returned, summed over the per-CPU
    /// copies (the value itself for a map that is not per CPU). The one per-CPU sum.
    public func sum(_ raw: [UInt8], offset: Int = 0) -> UInt64 {
        let copies = isPerCPU ? raw.count / perCPUStride : 1
        return raw.withUnsafeBytes { bytes in
            var total: UInt64 = 0
            for cpu in 0..<copies {
                total &+= bytes.loadUnaligned(fromByteOffset: cpu * perCPUStride + offset, as: UInt64.self)
            }
            return total
        }
    }

    /// `sum` of the value at `key`; 0 when the key is absent.
    public func lookupSum<Key>(_ key: Key, offset: Int = 0) throws -> UInt64 {
        guard let raw = try lookup(key) else { return 0 }
        return sum(raw, offset: offset)
    }

    /// The raw value for `key`, or nil when the key is absent.
    public func lookup<Key>(_ key: Key) throws -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: lookupSize)
        let rc = withUnsafeBytes(of: key) { keyBytes in
            value.withUnsafeMutableBytes { bpf_map_lookup_elem(fd, keyBytes.baseAddress, $0.baseAddress) }
        }
        if rc == 0 { return value }
        if errno == ENOENT { return nil }
        throw UserError.kernel("cannot read BPF map \(name)", errno: errno)
    }

    /// Writes `bytes` (already `lookupSize` long for per-CPU maps).
    public func update<Key>(_ key: Key, bytes: [UInt8]) throws {
        precondition(bytes.count == lookupSize)
        let rc = withUnsafeBytes(of: key) { keyBytes in
            bytes.withUnsafeBytes { bpf_map_update_elem(fd, keyBytes.baseAddress, $0.baseAddress, UInt64(BPF_ANY)) }
        }
        if rc != 0 { throw UserError.kernel("cannot write BPF map \(name)", errno: errno) }
    }

    public func delete<Key>(_ key: Key) {
        _ = withUnsafeBytes(of: key) { bpf_map_delete_elem(fd, $0.baseAddress) }
    }

    /// Every key, read with get_next_key. Hash maps only; keys are `Key`-sized structs.
    public func keys<Key>(as _: Key.Type) -> [Key] {
        precondition(MemoryLayout<Key>.size == keySize, "key type does not match map \(name)")
        var result: [Key] = []
        var current = [UInt8](repeating: 0, count: keySize)
        var next = [UInt8](repeating: 0, count: keySize)
        var first = true
        while true {
            let rc = current.withUnsafeBytes { cur in
                next.withUnsafeMutableBytes { nxt in
                    bpf_map_get_next_key(fd, first ? nil : cur.baseAddress, nxt.baseAddress)
                }
            }
            if rc != 0 { break }
            first = false
            result.append(next.withUnsafeBytes { $0.loadUnaligned(as: Key.self) })
            current = next
        }
        return result
    }
}
