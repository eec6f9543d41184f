#pragma once
/* The compiled BPF objects, embedded by bpf/embed.py (see bpf/Makefile). */
extern const unsigned char bt_obj_counters[];
extern const unsigned long bt_obj_counters_len;
