#pragma once
/* Only the library headers: kernel UAPI headers (linux/in6.h, ...) clash with glibc's in
 * Swift's module system, so netlink and friends are reached through CBridgeTraceShim. */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <xdp/libxdp.h>
