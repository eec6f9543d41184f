#pragma once
/*
 * Opening and configuring a BPF object before load: the LIBBPF_OPTS open call, and
 * `const volatile` globals written by name through the object's BTF.
 */
#include <stddef.h>

struct bpf_object;

/* bpf_object__open_mem with a fixed object name; NULL and errno on failure. */
struct bpf_object *bt_object_open_mem(const void *bytes, size_t len, const char *name);

/*
 * Writes `size` bytes into the `const volatile` global `var` in the object's .rodata,
 * before load (the verifier then treats it as a constant). The offset is looked up in
 * the object's BTF. 0, -ENOENT (no such variable) or -EINVAL (size mismatch).
 */
int bt_object_set_rodata(struct bpf_object *obj, const char *var, const void *val, size_t size);
