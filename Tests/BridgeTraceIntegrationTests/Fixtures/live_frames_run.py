#!/usr/bin/env python3
"""BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on a pinned XDP program, by raw bpf(2):
exit 0 if the kernel runs it, 1 if it refuses (prints the errno), 2 on a usage error.
An independent check of `bridgetrace doctor`'s xdp_live_frames (bpftool cannot do it)."""
import ctypes
import os
import struct
import sys

SYS_BPF = 321  # x86_64
BPF_OBJ_GET = 7
BPF_PROG_TEST_RUN = 10
BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1

libc = ctypes.CDLL(None, use_errno=True)


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    rc = libc.syscall(SYS_BPF, cmd, buf, 128)
    return rc, ctypes.get_errno()


def main():
    if len(sys.argv) != 2:
        print("usage: live_frames_run.py PINNED_PROG", file=sys.stderr)
        return 2
    path = ctypes.create_string_buffer(sys.argv[1].encode())
    fd, err = bpf(BPF_OBJ_GET, struct.pack("=QII", ctypes.addressof(path), 0, 0))
    if fd < 0:
        print(f"BPF_OBJ_GET {sys.argv[1]}: {os.strerror(err)}", file=sys.stderr)
        return 2
    frame = ctypes.create_string_buffer(b"\xff" * 12 + b"\x08\x00" + b"\x00" * 50, 64)
    # union bpf_attr.test: prog_fd, retval, data_size_in, data_size_out, data_in, data_out,
    # repeat, duration, ctx_size_in, ctx_size_out, ctx_in, ctx_out, flags, cpu, batch_size
    attr = struct.pack("=IIIIQQIIIIQQIII", fd, 0, 64, 0, ctypes.addressof(frame), 0, 1, 0, 0, 0, 0, 0,
                       BPF_F_TEST_XDP_LIVE_FRAMES, 0, 0)
    rc, err = bpf(BPF_PROG_TEST_RUN, attr)
    if rc < 0:
        print(f"refused: {os.strerror(err)} (errno {err})")
        return 1
    print("ran")
    return 0


sys.exit(main())
