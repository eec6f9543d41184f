// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The lab's `vlan_mismatch` fault: a tc (cls_bpf, direct-action) program on a VM's egress
 * that pushes an 802.1Q tag on every frame, so the VM sends tagged frames as it would
 * with an `eth0.100` interface. This kernel has neither 8021q nor tc's matchall
 * classifier or vlan action (`tc ... action vlan push` fails), but it has cls_bpf.
 *
 * Named `lab_*`, not `bt_*`: it is a fault, not a tracer program, and `bridgetrace
 * cleanup` must never take it for one. Not part of the tracer's ABI: nothing here is
 * shared with bridgetrace.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* The VLAN ID (1..4094) to tag with, set by the loader before load. */
const volatile __u32 lab_vlan_id = 0;

SEC("tc")
int lab_vlan_push(struct __sk_buff *skb)
{
	/* A failed push (no headroom) sends the frame untagged, as a broken VLAN setup would. */
	bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), (__u16)lab_vlan_id);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
