import BridgeTraceCore
import BridgeTraceKernel

/// The lab's `vlan_mismatch` fault program (bpf/lab_vlan_push.bpf.c): a tc program for a
/// VM's egress that pushes an 802.1Q tag on every frame, as an `eth0.100` interface would
/// (this kernel has no 8021q and no tc vlan action).
enum VLANPushProgram {
    /// Loads the program for VLAN `vid` and pins it at `path` (on a bpffs), so that
    /// `tc filter add dev DEV egress bpf direct-action pinned PATH` can attach it from
    /// inside any namespace. The caller unpins (unlinks) it once tc holds it.
    static func pin(vid: UInt16, at path: String) throws {
        guard vid > 0 && vid < 4095 else { throw UserError("VLAN ID must be 1..4094, not \(vid)") }
        let spec = try BPFObjectSpec(embedded: .labVLANPush)
        try spec.setReadOnly("lab_vlan_id", to: UInt32(vid))
        let object = try spec.load()
        try object.program("lab_vlan_push").pin(at: path)
    }
}
