#pragma once
/*
 * Kernel feature probes: each loads (and where it must, runs or attaches for an instant) a
 * tiny program or makes a tiny object, the way bpftool and cilium/ebpf's `features`
 * package do, instead of guessing from the kernel version: distributions backport
 * features, and some builds leave features out (this project's 6.18 build refuses
 * bpf_xdp_adjust_meta in XDP).
 *
 * Each returns 1 when the kernel offers the feature, 0 when it does not, or -errno when
 * the probe itself could not tell (-EPERM: no privilege to load programs). `log` (may be
 * NULL) gets the verifier's or kernel's last words on a refusal.
 */
#include <stddef.h>

/* An XDP program that calls bpf_xdp_adjust_meta loads. */
int bt_probe_xdp_adjust_meta(char *log, size_t log_size);
/* An XDP program that calls bpf_xdp_load_bytes loads (5.18). */
int bt_probe_xdp_load_bytes(char *log, size_t log_size);
/* BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES runs a program that drops its frame
 * (so nothing is sent) on loopback. */
int bt_probe_xdp_live_frames(char *log, size_t log_size);
/* An XDP program with BPF_F_XDP_HAS_FRAGS (xdp.frags: multi-buffer frames) loads (5.18). */
int bt_probe_xdp_frags(char *log, size_t log_size);
/* A copy-mode AF_XDP socket binds with XDP_USE_SG (multi-buffer AF_XDP, 6.6), on lo. */
int bt_probe_af_xdp_sg(char *log, size_t log_size);
/* A BPF_MAP_TYPE_RINGBUF map can be made (5.8). */
int bt_probe_ringbuf(char *log, size_t log_size);
/* An AF_XDP socket and an XSKMAP can be made. */
int bt_probe_af_xdp(char *log, size_t log_size);
/* A tp_btf program on kfree_skb loads and attaches (detached again at once). */
int bt_probe_tp_btf_kfree_skb(char *log, size_t log_size);
/* An freplace (BPF_PROG_TYPE_EXT) program replacing an XDP program's function loads and
 * attaches: what libxdp's multi-program dispatcher needs. */
int bt_probe_freplace(char *log, size_t log_size);
/* BPF_ENABLE_STATS (run time and run count per program) can be turned on. */
int bt_probe_bpf_stats(char *log, size_t log_size);
/* The running kernel's BTF has a type of this name and BTF_KIND_* kind (e.g. struct
 * bpf_xdp_link: XDP links, 5.9). */
int bt_probe_vmlinux_type(const char *name, int kind);
