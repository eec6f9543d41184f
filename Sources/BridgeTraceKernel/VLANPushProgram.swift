import BridgeTraceCore
import CLibBPF
import Glibc

/// A five-instruction tc (cls_bpf, direct-action) program that pushes an 802.1Q tag on
/// every frame it sees: `bpf_skb_vlan_push(skb, ETH_P_8021Q, vid); return TC_ACT_OK`.
///
/// The lab's `vlan_mismatch` fault puts it on a VM's egress, so the VM sends tagged frames
/// as it would with an `eth0.100` interface. This kernel has neither 8021q nor tc's
/// matchall classifier or vlan action (`tc ... action vlan push` fails), but it has cls_bpf.
/// Named `lab_vlan_push`, not `bt_*`: it is a fault, not a tracer program, and
/// `bridgetrace cleanup` must never take it for one.
public enum VLANPushProgram {
    /// Loads the program for VLAN `vid` and pins it at `path` (on a bpffs), so that
    /// `tc filter add dev DEV egress bpf direct-action pinned PATH` can attach it from
    /// inside any namespace. The caller unpins (unlinks) it once tc holds it.
    public static func pin(vid: UInt16, at path: String) throws {
        guard vid > 0 && vid < 4095 else { throw UserError("VLAN ID must be 1..4094, not \(vid)") }
        let insns: [bpf_insn] = [
            // r2 = htons(ETH_P_8021Q): the helper takes the protocol in network order.
            insn(code: 0xb7, dst: 2, imm: Int32(UInt16(0x8100).bigEndian)),
            insn(code: 0xb7, dst: 3, imm: Int32(vid)),  // r3 = vid (TCI, priority 0)
            insn(code: 0x85, dst: 0, imm: 18),  // call bpf_skb_vlan_push (r1 = skb already)
            insn(code: 0xb7, dst: 0, imm: 0),  // r0 = TC_ACT_OK
            insn(code: 0x95, dst: 0, imm: 0),  // exit
        ]
        let fd = insns.withUnsafeBufferPointer { buffer in
            bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "lab_vlan_push", "GPL", buffer.baseAddress, buffer.count, nil)
        }
        guard fd >= 0 else {
            throw UserError.kernel("cannot load the VLAN push program", errno: -fd)
        }
        defer { close(fd) }
        unlink(path)
        let rc = bpf_obj_pin(fd, path)
        guard rc == 0 else {
            throw UserError.kernel("cannot pin the VLAN push program at \(path)", errno: rc < 0 ? -rc : errno)
        }
    }

    private static func insn(code: UInt8, dst: UInt8, imm: Int32) -> bpf_insn {
        var insn = bpf_insn()
        insn.code = code
        insn.dst_reg = dst
        insn.src_reg = 0
        insn.off = 0
        insn.imm = imm
        return insn
    }
}
