import BridgeTraceCore
import CLibBPF
import Foundation

/// Maps pinned in bpffs by another process (a running `bridgetrace switch`), opened by
/// path. The fd is this process's own: `close()` it when done.
extension BPFMap {
    public static func pinned(at path: String, name: String) throws -> BPFMap {
        let fd = bpf_obj_get(path)
        if fd < 0 {
            throw SystemError.fromErrno("cannot open the pinned map", subject: path,
                                        hint: errno == ENOENT ? "the switch is not running" : nil)
        }
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        if bpf_obj_get_info_by_fd(fd, &info, &length) != 0 {
            let code = errno
            Glibc.close(fd)
            throw SystemError("cannot inspect the pinned map", subject: path, code: code)
        }
        let perCPU = BPFMapLayout.perCPUTypes.contains(info.type)
        return BPFMap(name: name, fd: fd, keySize: Int(info.key_size), valueSize: Int(info.value_size), isPerCPU: perCPU)
    }

    /// Pins this map at `path` (the directory must exist on a bpffs).
    public func pin(at path: String) throws {
        if bpf_obj_pin(fd, path) != 0 {
            throw SystemError.fromErrno("cannot pin map \(name) at", subject: path)
        }
    }

    /// The map's size as the kernel has it (a pinned map's as its creator sized it); nil
    /// when the kernel will not say.
    public var maxEntries: UInt32? {
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        return bpf_obj_get_info_by_fd(fd, &info, &length) == 0 ? info.max_entries : nil
    }

    public func close() {
        Glibc.close(fd)
    }

    /// The value of a single-entry mmapable array (a `.data*` global section) mapped into
    /// this process: loads and stores reach the programs' copy without a syscall. (libbpf
    /// 1.1 maps it only for skeletons.) Undo with `unmapValue`.
    public func mapValue() throws -> UnsafeMutableRawPointer {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let length = (valueSize + page - 1) / page * page
        guard let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), address != MAP_FAILED else {
            throw SystemError.fromErrno("cannot map the value of", subject: name)
        }
        return address
    }

    public func unmapValue(_ address: UnsafeMutableRawPointer) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        munmap(address, (valueSize + page - 1) / page * page)
    }
}

extension CounterMaps {
    /// The counter maps a switch pinned in `directory` (bt_counters, bt_counters_big,
    /// bt_vlan_slots, bt_vlan_frames, as the counting code names them).
    public init(pinnedIn directory: String) throws {
        direct = try BPFMap.pinned(at: "\(directory)/bt_counters", name: "bt_counters")
        big = try BPFMap.pinned(at: "\(directory)/bt_counters_big", name: "bt_counters_big")
        vlan = try BPFMap.pinned(at: "\(directory)/bt_vlan_frames", name: "bt_vlan_frames")
        vlanSlots = try BPFMap.pinned(at: "\(directory)/bt_vlan_slots", name: "bt_vlan_slots")
    }

    public func close() {
        direct.close()
        big.close()
        vlan.close()
        vlanSlots?.close()
    }
}
