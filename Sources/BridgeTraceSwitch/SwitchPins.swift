import BridgeTraceCore
import BridgeTraceKernel
import CBridgeTraceABI
import Foundation

/// Where a running switch keeps its state in bpffs, and how to tell a live switch from
/// the pins a SIGKILLed one left behind.
public enum SwitchPins {
    public static let root = BT_SW_PIN_ROOT

    /// The maps a switch pins, by their names in bpf/switch.bpf.c and classify.bpf.h.
    static let maps = [
        "bt_sw_ports", "bt_sw_fdb", "bt_sw_info", "bt_sw_drops", "bt_sw_stats", "bt_sw_utx", "bt_sw_uvlan",
        "bt_sw_udrops", "bt_counters", "bt_counters_big", "bt_vlan_slots", "bt_vlan_frames",
        "bt_events", "bt_lost", "bt_trace_stats",
    ]
    /// The trace config (.data.bt_sw_trace), pinned as BT_SW_TRACE_PIN: `trace NAME` writes it.
    static let traceMap = BT_SW_TRACE_MAP
    static let tracePin = BT_SW_TRACE_PIN
    static let program = "prog"

    public static func directory(_ name: String) -> String { "\(root)/\(name)" }

    /// Names of every switch with pinned state, running or stale.
    public static func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
    }

    public static func exists(_ name: String) -> Bool {
        (try? SwitchConfig.validateName(name)) != nil
            && FileManager.default.fileExists(atPath: "\(directory(name))/bt_sw_info")
    }

    /// The info record of a pinned switch; nil when there is none.
    static func info(_ name: String) -> bt_sw_info? {
        guard let map = try? BPFMap.pinned(at: "\(directory(name))/bt_sw_info", name: "bt_sw_info") else { return nil }
        defer { map.close() }
        return (try? map.typed(key: UInt32.self, value: bt_sw_info.self).lookup(0))?.first
    }

    /// The pid of the switch that pinned `name`, when that process still runs.
    public static func livePID(_ name: String) -> Int32? {
        guard let info = info(name), info.pid != 0 else { return nil }
        let pid = Int32(bitPattern: info.pid)
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }

    /// Removes a switch's pins (its own at stop, or a killed one's). Unpinning frees maps
    /// nothing else holds; attachments went with the process's bpf_links already.
    public static func remove(_ name: String) {
        let dir = directory(name)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            unlink("\(dir)/\(entry)")
        }
        rmdir(dir)
    }

    /// The switch whose pinned program has this id, if any (to name the holder of a port).
    static func owner(ofProgramID id: UInt32) -> String? {
        names().first { BPFProgramInfo(pinnedAt: "\(directory($0))/\(program)")?.id == id }
    }

    /// The `ip netns` name of the namespace with this inode, if it has one.
    public static func netnsName(inode: UInt64) -> String? {
        guard inode != 0 else { return nil }
        for name in NetworkNamespace.available() {
            for dir in ["/run/netns", "/var/run/netns"] {
                var st = stat()
                if stat("\(dir)/\(name)", &st) == 0 && UInt64(st.st_ino) == inode { return name }
            }
        }
        return nil
    }

    static func makeDirectory(_ name: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory(name), withIntermediateDirectories: true)
        } catch {
            throw UserError("cannot create \(directory(name)): \(error.localizedDescription); is bpffs mounted at /sys/fs/bpf?")
        }
    }
}
