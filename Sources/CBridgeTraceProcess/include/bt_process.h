#ifndef BT_PROCESS_H
#define BT_PROCESS_H

/*
 * What BridgeTraceProcess needs from libc that Swift's Glibc module does not show
 * (pipe2 is behind _GNU_SOURCE). No libbpf here: BridgeTraceProcess is imported next to
 * libpcap, whose struct bpf_insn clashes with the kernel's.
 */

/* pipe2(fds, O_CLOEXEC): atomic, so a child spawned by another thread at the same moment
 * cannot inherit the write end (and keep the reader waiting). 0 or -errno. */
int bt_pipe_cloexec(int fds[2]);

#endif
