import BridgeTraceCore
import CLibBPF
import Foundation

/// Names of the kernel's drop reasons, read from the running kernel's BTF
/// (`enum skb_drop_reason`): reason numbers change between kernels, so none is written
/// down here. "SKB_DROP_REASON_NETFILTER_DROP" becomes "NETFILTER_DROP", and the two
/// values that are not drops keep their short names "NOT_DROPPED_YET" and "CONSUMED".
public struct DropReasonNames: Sendable, Equatable {
    public static let enumName = "skb_drop_reason"
    static let prefix = "SKB_DROP_REASON_"
    /// Frees that are not drops (consume_skb paths, and a reason never set).
    static let normalFrees = ["SKB_NOT_DROPPED_YET", "SKB_CONSUMED"]

    /// value -> short name.
    public let names: [UInt32: String]
    /// Values of the reasons that are normal frees; the kernel program ignores them.
    public let ignored: [UInt32]

    /// From the enum's members as BTF lists them (name, value).
    public init(members: [(name: String, value: Int64)]) {
        var names: [UInt32: String] = [:]
        var ignored: [UInt32] = []
        for member in members {
            guard member.value >= 0, member.value <= Int64(UInt32.max) else { continue }
            let value = UInt32(member.value)
            // Markers, not reasons: the count of reasons and the subsystem mask.
            if member.name == Self.prefix + "MAX" || member.name.hasPrefix(Self.prefix + "SUBSYS_") { continue }
            if Self.normalFrees.contains(member.name) { ignored.append(value) }
            if names[value] == nil { names[value] = Self.shortName(member.name) }
        }
        self.names = names
        self.ignored = ignored.sorted()
    }

    static func shortName(_ name: String) -> String {
        if name.hasPrefix(prefix) { return String(name.dropFirst(prefix.count)) }
        if name.hasPrefix("SKB_") { return String(name.dropFirst(4)) }
        return name
    }

    /// The name of `value`; a number the table lacks (a subsystem's reason, e.g.
    /// openvswitch's, whose enum lives in a module) reads "REASON_<value>" with the
    /// subsystem in the high 16 bits shown in hex.
    public func name(of value: UInt32) -> String {
        if let name = names[value] { return name }
        if value >> 16 != 0 { return "SUBSYS_\(value >> 16)_REASON_\(value & 0xffff)" }
        return "REASON_\(value)"
    }

    /// Parses the enum from C text as `bpftool btf dump file ... format c` prints it
    /// (for fixtures): the first `enum skb_drop_reason { ... }` block.
    public static func parseC(_ text: String) -> DropReasonNames? {
        guard let start = text.range(of: "enum \(enumName) {") else { return nil }
        guard let end = text.range(of: "}", range: start.upperBound..<text.endIndex) else { return nil }
        var members: [(name: String, value: Int64)] = []
        for rawLine in text[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: ","))
            let parts = line.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let value = Int64(parts[1]) else { continue }
            members.append((parts[0], value))
        }
        return members.isEmpty ? nil : DropReasonNames(members: members)
    }

    /// From the running kernel's BTF (/sys/kernel/btf/vmlinux). Needs no privileges.
    public static func loadFromKernel() throws -> DropReasonNames {
        guard let btf = btf__load_vmlinux_btf() else {
            throw UserError("cannot read the kernel's BTF (/sys/kernel/btf/vmlinux), so drop reasons cannot be named: bridgetrace needs CONFIG_DEBUG_INFO_BTF=y")
        }
        defer { btf__free(btf) }
        let members = enumMembers(btf: btf, named: enumName)
        guard !members.isEmpty else {
            throw UserError("the kernel's BTF has no enum \(enumName): this kernel (before 5.17) gives no drop reasons")
        }
        return DropReasonNames(members: members)
    }

    /// Members of the first ENUM or ENUM64 called `name` in `btf`.
    static func enumMembers(btf: OpaquePointer, named name: String) -> [(name: String, value: Int64)] {
        let count = btf__type_cnt(btf)
        for id in 1..<count {
            guard let type = btf__type_by_id(btf, id) else { continue }
            let isEnum32 = btf_is_enum(type)
            guard isEnum32 || btf_is_enum64(type) else { continue }
            guard let typeName = btf__name_by_offset(btf, type.pointee.name_off), String(cString: typeName) == name else { continue }
            let vlen = Int(btf_vlen(type))
            let unsigned = (type.pointee.info >> 31) & 1 == 1  // kflag: unsigned enum
            var members: [(name: String, value: Int64)] = []
            let after = UnsafeRawPointer(type).advanced(by: MemoryLayout<btf_type>.size)
            for index in 0..<vlen {
                let memberName: String
                let value: Int64
                if isEnum32 {
                    let member = after.advanced(by: index * MemoryLayout<btf_enum>.size).assumingMemoryBound(to: btf_enum.self).pointee
                    memberName = btf__name_by_offset(btf, member.name_off).map { String(cString: $0) } ?? ""
                    value = unsigned ? Int64(UInt32(bitPattern: member.val)) : Int64(member.val)
                } else {
                    let member = after.advanced(by: index * MemoryLayout<btf_enum64>.size).assumingMemoryBound(to: btf_enum64.self).pointee
                    memberName = btf__name_by_offset(btf, member.name_off).map { String(cString: $0) } ?? ""
                    value = Int64(bitPattern: UInt64(member.val_hi32) << 32 | UInt64(member.val_lo32))
                }
                members.append((memberName, value))
            }
            return members
        }
        return []
    }
}
