import BridgeTraceCore
import CLibBPF
import Glibc

/// A map of a loaded `BPFObject` (which owns the fd), or one opened by pin. Keys and
/// values are plain fixed-width structs from bridgetrace.h, passed by pointer; every call
/// checks the Swift type's size against the map's before the syscall, so a wrong type is
/// a `BPFMap.SizeMismatch`, never a kernel read past a Swift value. `typed(key:value:)`
/// checks once and then takes and returns the structs themselves.
public struct BPFMap: Sendable {
    public let name: String
    public let fd: Int32
    public let keySize: Int
    public let valueSize: Int
    public let isPerCPU: Bool

    public init(name: String, fd: Int32, keySize: Int, valueSize: Int, isPerCPU: Bool) {
        self.name = name
        self.fd = fd
        self.keySize = keySize
        self.valueSize = valueSize
        self.isPerCPU = isPerCPU
    }

    init(name: String, fd: Int32, layout: BPFMapLayout) {
        self.init(name: name, fd: fd, keySize: layout.keySize, valueSize: layout.valueSize, isPerCPU: layout.isPerCPU)
    }

    /// A key, value or value buffer whose size is not the map's.
    public struct SizeMismatch: OperatorError, Equatable, Sendable {
        public var map: String
        /// "key", "value" or "value buffer".
        public var part: String
        public var expected: Int
        public var got: Int
        /// The Swift type passed, when there is one.
        public var type: String?

        public var message: String {
            InternalError("map \(map) takes \(expected)-byte \(part)s, not \(got) bytes" + (type.map { " (\($0))" } ?? "")).message
        }

        public var description: String { message }

        public init(map: String, part: String, expected: Int, got: Int, type: String?) {
            self.map = map
            self.part = part
            self.expected = expected
            self.got = got
            self.type = type
        }
    }

    /// Number of per-CPU copies the kernel returns on lookup (possible CPUs, not online).
    public static let possibleCPUs: Int = Int(max(1, libbpf_num_possible_cpus()))

    /// Bytes a lookup fills: per-CPU maps return one 8-byte-aligned copy per CPU.
    public var lookupSize: Int {
        isPerCPU ? perCPUStride * BPFMap.possibleCPUs : valueSize
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
    public func lookupSum<Key: BitwiseCopyable>(_ key: Key, offset: Int = 0) throws -> UInt64 {
        guard let raw = try lookup(key) else { return 0 }
        return sum(raw, offset: offset)
    }

    /// The raw value for `key` (`lookupSize` bytes), or nil when the key is absent.
    public func lookup<Key: BitwiseCopyable>(_ key: Key) throws -> [UInt8]? {
        try checkKey(Key.self)
        var value = [UInt8](repeating: 0, count: lookupSize)
        let rc = withUnsafeBytes(of: key) { keyBytes in
            value.withUnsafeMutableBytes { bpf_map_lookup_elem(fd, keyBytes.baseAddress, $0.baseAddress) }
        }
        if rc == 0 { return value }
        if errno == ENOENT { return nil }
        throw SystemError.fromErrno("cannot read BPF map", subject: name)
    }

    /// Writes `bytes` (`lookupSize` long: one copy per CPU for per-CPU maps).
    public func update<Key: BitwiseCopyable>(_ key: Key, bytes: [UInt8]) throws {
        try checkKey(Key.self)
        guard bytes.count == lookupSize else {
            throw SizeMismatch(map: name, part: "value buffer", expected: lookupSize, got: bytes.count, type: nil)
        }
        let rc = withUnsafeBytes(of: key) { keyBytes in
            bytes.withUnsafeBytes { bpf_map_update_elem(fd, keyBytes.baseAddress, $0.baseAddress, UInt64(BPF_ANY)) }
        }
        if rc != 0 { throw SystemError.fromErrno("cannot write BPF map", subject: name) }
    }

    /// Removes `key`; an absent key (or a key of the wrong size) is no error.
    public func delete<Key: BitwiseCopyable>(_ key: Key) {
        guard MemoryLayout<Key>.size == keySize else { return }
        _ = withUnsafeBytes(of: key) { bpf_map_delete_elem(fd, $0.baseAddress) }
    }

    /// Every key, read with get_next_key. Hash maps only; keys are `Key`-sized structs
    /// (a `Key` of another size finds none).
    public func keys<Key: BitwiseCopyable>(as _: Key.Type) -> [Key] {
        guard MemoryLayout<Key>.size == keySize else { return [] }
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

    /// This map with `Key` and `Value` checked against its key and value sizes, once.
    public func typed<Key: BitwiseCopyable, Value: BitwiseCopyable>(key _: Key.Type, value _: Value.Type) throws
        -> TypedBPFMap<Key, Value>
    {
        try checkKey(Key.self)
        guard MemoryLayout<Value>.size == valueSize else {
            throw SizeMismatch(map: name, part: "value", expected: valueSize, got: MemoryLayout<Value>.size,
                               type: "\(Value.self)")
        }
        return TypedBPFMap(map: self)
    }

    func checkKey<Key>(_: Key.Type) throws {
        guard MemoryLayout<Key>.size == keySize else {
            throw SizeMismatch(map: name, part: "key", expected: keySize, got: MemoryLayout<Key>.size, type: "\(Key.self)")
        }
    }
}

/// A BPFMap whose key and value types were checked against the map: lookups return the
/// value struct (one per CPU for a per-CPU map), updates take it.
public struct TypedBPFMap<Key: BitwiseCopyable, Value: BitwiseCopyable>: Sendable {
    public let map: BPFMap

    fileprivate init(map: BPFMap) {
        self.map = map
    }

    /// The value at `key` (per-CPU maps: the copies, one per possible CPU); nil when absent.
    public func lookup(_ key: Key) throws -> [Value]? {
        guard let raw = try map.lookup(key) else { return nil }
        let copies = map.isPerCPU ? BPFMap.possibleCPUs : 1
        return raw.withUnsafeBytes { bytes in
            (0..<copies).map { bytes.loadUnaligned(fromByteOffset: $0 * map.perCPUStride, as: Value.self) }
        }
    }

    /// Writes `value` at `key` (to every CPU's copy of a per-CPU map).
    public func update(_ key: Key, _ value: Value) throws {
        var bytes = [UInt8](repeating: 0, count: map.lookupSize)
        let copies = map.isPerCPU ? BPFMap.possibleCPUs : 1
        bytes.withUnsafeMutableBytes { raw in
            for cpu in 0..<copies { raw.storeBytes(of: value, toByteOffset: cpu * map.perCPUStride, as: Value.self) }
        }
        try map.update(key, bytes: bytes)
    }

    /// The u64 at `offset` of the value at `key`, summed over CPUs; 0 when absent.
    public func sum(_ key: Key, offset: Int = 0) throws -> UInt64 {
        try map.lookupSum(key, offset: offset)
    }
}
