#pragma once
/*
 * bpf_link attachments (tcx, XDP): links go away with their last fd, so a killed run
 * leaves nothing behind. Swift owns the fds through BPFLink.
 */
#include <stdbool.h>

/* 1 when the kernel has tcx (BPF_TCX_INGRESS/EGRESS links), 0 when not, or -errno. */
int bt_tcx_supported(void);
/* A tcx link for prog_fd at ingress or egress of ifindex: the link fd, or -errno. The
 * program is detached when the last fd of the link closes (also on SIGKILL). */
int bt_tcx_link(int prog_fd, int ifindex, bool egress);
/* A native-mode XDP link (BPF_XDP): the link fd, or -errno (-EBUSY: another program
 * holds the port without a link). */
int bt_xdp_link(int prog_fd, int ifindex);
