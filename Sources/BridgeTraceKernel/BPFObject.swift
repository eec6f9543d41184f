import BridgeTraceCore
import CBridgeTraceShim
import CLibBPF
import Foundation

/// The BPF objects compiled from bpf/ and embedded in the binary.
public enum EmbeddedObject: String, CaseIterable, Sendable {
    case counters
    /// An XDP program that only passes: the zero point for benchmarks.
    case baseline
    /// Kernel drops on watched ports (tp_btf/kfree_skb, raw_tp fallback).
    case drops
    /// `bench`: the traffic generator, run with BPF_PROG_TEST_RUN (live frames).
    case benchGen = "bench_gen"
    /// `bench`: the receiver on the sink port (counts, sequence, latency histogram).
    case benchSink = "bench_sink"
    /// `switch`: the XDP program of the AF_XDP switch's ports (FDB, fast path, XSKMAP).
    case `switch`

    var bytes: UnsafeRawBufferPointer {
        switch self {
        case .counters:
            return UnsafeRawBufferPointer(start: bt_obj_counters_bytes(), count: Int(bt_obj_counters_len()))
        case .baseline:
            return UnsafeRawBufferPointer(start: bt_obj_baseline_bytes(), count: Int(bt_obj_baseline_len()))
        case .drops:
            return UnsafeRawBufferPointer(start: bt_obj_drops_bytes(), count: Int(bt_obj_drops_len()))
        case .benchGen:
            return UnsafeRawBufferPointer(start: bt_obj_bench_gen_bytes(), count: Int(bt_obj_bench_gen_len()))
        case .benchSink:
            return UnsafeRawBufferPointer(start: bt_obj_bench_sink_bytes(), count: Int(bt_obj_bench_sink_len()))
        case .switch:
            return UnsafeRawBufferPointer(start: bt_obj_switch_bytes(), count: Int(bt_obj_switch_len()))
        }
    }
}

/// A loaded BPF object: its programs and maps live as long as this value. Opening needs
/// no privileges; `load()` does.
public final class BPFObject {
    public let name: String
    let handle: OpaquePointer

    public init(embedded object: EmbeddedObject) throws {
        LibBPFLog.install()
        name = "bridgetrace_\(object.rawValue)"
        let bytes = object.bytes
        guard let opened = bt_object_open_mem(bytes.baseAddress, bytes.count, name) else {
            throw UserError.kernel("cannot parse the embedded BPF object \(name)", errno: errno,
                                   hint: "the binary is damaged; rebuild it")
        }
        handle = opened
    }

    /// Sets a map's size before load (e.g. a smaller ring buffer in tests).
    public func setMaxEntries(map: String, _ entries: UInt32) throws {
        guard let map = bpf_object__find_map_by_name(handle, map) else {
            throw UserError("internal: no map \(map) in \(name)")
        }
        let rc = bpf_map__set_max_entries(map, entries)
        if rc != 0 { throw UserError.kernel("cannot size map \(name)", errno: rc) }
    }

    /// Sets a `const volatile` global before load; the verifier then prunes by its value.
    public func setReadOnly<Value>(_ variable: String, to value: Value) throws {
        var value = value
        let rc = bt_object_set_rodata(handle, variable, &value, MemoryLayout<Value>.size)
        if rc != 0 { throw UserError.kernel("internal: cannot set \(variable) in \(name)", errno: rc) }
    }

    public func load() throws {
        LibBPFLog.clear()
        let rc = bpf_object__load(handle)
        if rc != 0 {
            let log = LibBPFLog.recent(6).joined(separator: "\n  ")
            var hint = "run as root with CAP_BPF and CAP_NET_ADMIN"
            if -rc != EPERM { hint = "the kernel rejected the program" + (log.isEmpty ? "" : ":\n  " + log) }
            throw UserError.kernel("cannot load BPF object \(name)", errno: rc, hint: hint)
        }
    }

    public func programFD(_ programName: String) throws -> Int32 {
        guard let program = bpf_object__find_program_by_name(handle, programName) else {
            throw UserError("internal: no program \(programName) in \(name)")
        }
        let fd = bpf_program__fd(program)
        if fd < 0 { throw UserError("internal: program \(programName) is not loaded") }
        return fd
    }

    public func map(_ mapName: String) throws -> BPFMap {
        guard let map = bpf_object__find_map_by_name(handle, mapName) else {
            throw UserError("internal: no map \(mapName) in \(name)")
        }
        return BPFMap(
            name: mapName, fd: bpf_map__fd(map), keySize: Int(bpf_map__key_size(map)),
            valueSize: Int(bpf_map__value_size(map)),
            isPerCPU: [BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH]
                .contains(bpf_map__type(map)))
    }

    /// Every program in the object, by name.
    public var programNames: [String] {
        var names: [String] = []
        var program = bpf_object__next_program(handle, nil)
        while let current = program {
            names.append(String(cString: bpf_program__name(current)))
            program = bpf_object__next_program(handle, current)
        }
        return names
    }

    /// Size of a struct as the object's BTF records it (what the kernel side compiled),
    /// or nil when the BTF has no such struct. Needs no privileges.
    public func btfStructSize(_ structName: String) -> Int? {
        guard let btf = bpf_object__btf(handle) else { return nil }
        let id = btf__find_by_name_kind(btf, structName, UInt32(BTF_KIND_STRUCT))
        guard id > 0, let type = btf__type_by_id(btf, UInt32(id)) else { return nil }
        return Int(type.pointee.size)
    }

    deinit {
        bpf_object__close(handle)
    }
}
