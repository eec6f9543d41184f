import BridgeTraceCore
import CBridgeTraceShim
import CLibBPF
import Glibc

/// A BPF object parsed from its ELF and not loaded yet: the blueprint (cilium/ebpf's
/// CollectionSpec). Opening, configuring (read-only globals, map sizes, which programs
/// load) and inspecting it need no privileges; `load()` does, and gives the live
/// `BPFObject`. A spec loads once: it is spent afterwards, whether the load succeeded or
/// not (libbpf cannot retry a failed load; open a new spec instead).
public final class BPFObjectSpec {
    public let name: String
    private var opened: OpenedObject?

    public init(embedded object: EmbeddedObject) throws {
        let opened = try OpenedObject(embedded: object)
        name = opened.name
        self.opened = opened
    }

    /// Sets a map's size before load (e.g. a smaller ring buffer in tests).
    public func setMaxEntries(map: String, _ entries: UInt32) throws {
        try current().setMaxEntries(map: map, entries)
    }

    /// Sets a `const volatile` global before load; the verifier then prunes by its value.
    /// Throws when the object has no such global or its size is not `Value`'s.
    public func setReadOnly<Value: BitwiseCopyable>(_ variable: String, to value: Value) throws {
        try current().setReadOnly(variable, to: value)
    }

    /// Whether `load()` loads `program` (all do by default). A program the kernel would
    /// refuse (a hook it lacks) must be left out, or it fails the whole object.
    public func setAutoload(program: String, _ load: Bool) throws {
        let opened = try current()
        bpf_program__set_autoload(try opened.program(program), load)
    }

    /// Every program in the object, by name.
    public var programNames: [String] { opened?.programNames ?? [] }

    /// A map's declared shape (type, key and value sizes, entries), as compiled.
    public func mapLayout(_ map: String) throws -> BPFMapLayout {
        BPFMapLayout(try current().map(map))
    }

    /// Size of a struct as the object's BTF records it (what the kernel side compiled),
    /// or nil when the BTF has no such struct.
    public func btfStructSize(_ structName: String) -> Int? {
        opened?.btfStructSize(structName)
    }

    /// Probes and fallbacks that shaped this load ("no bpf_xdp_adjust_meta: in-band
    /// variant"): a load failure names them, so the operator sees what was tried.
    public private(set) var choices: [String] = []

    public func noteChoice(_ choice: String) {
        choices.append(choice)
    }

    /// Loads every program and map into the kernel (CAP_BPF). A verifier rejection names
    /// the program and carries the last lines of its log (the verdict).
    public func load() throws -> BPFObject {
        let opened = try current()
        self.opened = nil
        try opened.load(choices: choices)
        return BPFObject(loaded: opened)
    }

    private func current() throws -> OpenedObject {
        guard let opened else { throw UserError("internal: the BPF object \(name) is already loaded") }
        return opened
    }
}

/// A map's shape as declared in the object (before or after load).
public struct BPFMapLayout: Equatable, Sendable {
    public var keySize: Int
    public var valueSize: Int
    public var maxEntries: UInt32
    public var isPerCPU: Bool

    init(_ map: OpaquePointer) {
        keySize = Int(bpf_map__key_size(map))
        valueSize = Int(bpf_map__value_size(map))
        maxEntries = bpf_map__max_entries(map)
        isPerCPU = BPFMapLayout.perCPUTypes.contains(bpf_map__type(map).rawValue)
    }

    static let perCPUTypes: Set<UInt32> = [
        BPF_MAP_TYPE_PERCPU_ARRAY.rawValue, BPF_MAP_TYPE_PERCPU_HASH.rawValue, BPF_MAP_TYPE_LRU_PERCPU_HASH.rawValue,
    ]
}

/// The libbpf `bpf_object` behind a spec and, once loaded, a BPFObject: one owner, which
/// closes it (unloading its programs and maps, detaching nothing held by a link).
final class OpenedObject {
    let name: String
    let handle: OpaquePointer

    init(embedded object: EmbeddedObject) throws {
        LibBPFLog.install()
        name = "bridgetrace_\(object.rawValue)"
        let bytes = object.bytes
        guard let opened = bt_object_open_mem(bytes.baseAddress, bytes.count, name) else {
            throw SystemError.fromErrno("cannot parse the embedded BPF object", subject: name,
                                        hint: "the binary is damaged; rebuild it")
        }
        handle = opened
    }

    func program(_ programName: String) throws -> OpaquePointer {
        guard let program = bpf_object__find_program_by_name(handle, programName) else {
            throw UserError("internal: no program \(programName) in \(name)")
        }
        return program
    }

    func map(_ mapName: String) throws -> OpaquePointer {
        guard let map = bpf_object__find_map_by_name(handle, mapName) else {
            throw UserError("internal: no map \(mapName) in \(name)")
        }
        return map
    }

    func setMaxEntries(map mapName: String, _ entries: UInt32) throws {
        let rc = bpf_map__set_max_entries(try map(mapName), entries)
        if rc != 0 { throw SystemError("cannot size map", subject: "\(mapName) of \(name)", code: rc) }
    }

    func setReadOnly<Value: BitwiseCopyable>(_ variable: String, to value: Value) throws {
        var value = value
        let rc = bt_object_set_rodata(handle, variable, &value, MemoryLayout<Value>.size)
        if rc != 0 {
            throw SystemError("internal: cannot set", subject: "\(variable) (\(MemoryLayout<Value>.size) bytes) in \(name)", code: rc)
        }
    }

    func load(choices: [String]) throws {
        LibBPFLog.clear()
        let rc = bpf_object__load(handle)
        guard rc != 0 else { return }
        let failure = LibBPFLog.lastLoadFailure()
        throw SystemError("cannot load BPF object", subject: name, code: rc,
                          hint: Self.loadHint(errno: -rc, program: failure.program, verdict: failure.verdict, choices: choices,
                                              privileged: Preflight.missingCapabilities(
                                                  effective: Preflight.effectiveCapabilities(), enteringNamespaces: false).isEmpty,
                                              kernel: KernelRelease.current))
    }

    /// What a failed load says after the errno: which program the kernel refused, on which
    /// kernel, what was tried, and the verifier's verdict. Pure, for tests.
    static func loadHint(errno: Int32, program: String?, verdict: [String], choices: [String], privileged: Bool,
                         kernel: String) -> String {
        if errno == EPERM && !privileged && verdict.isEmpty {
            return "run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON"
        }
        var hint = program.map { "the kernel (\(kernel)) refused program \($0)" } ?? "the kernel (\(kernel)) refused it"
        if errno == EPERM && verdict.isEmpty { hint += " although this process has CAP_BPF (a lockdown or LSM policy?)" }
        if !choices.isEmpty { hint += "; tried: " + choices.joined(separator: "; ") }
        if verdict.isEmpty {
            hint += "; BRIDGETRACE_DEBUG=1 prints libbpf's messages"
        } else {
            hint += "; the verifier's last words (BRIDGETRACE_DEBUG=1 prints the whole log):\n  "
                + verdict.joined(separator: "\n  ")
        }
        return hint
    }

    var programNames: [String] {
        var names: [String] = []
        var program = bpf_object__next_program(handle, nil)
        while let current = program {
            names.append(String(cString: bpf_program__name(current)))
            program = bpf_object__next_program(handle, current)
        }
        return names
    }

    func btfStructSize(_ structName: String) -> Int? {
        guard let btf = bpf_object__btf(handle) else { return nil }
        let id = btf__find_by_name_kind(btf, structName, UInt32(BTF_KIND_STRUCT))
        guard id > 0, let type = btf__type_by_id(btf, UInt32(id)) else { return nil }
        return Int(type.pointee.size)
    }

    deinit {
        bpf_object__close(handle)
    }
}
