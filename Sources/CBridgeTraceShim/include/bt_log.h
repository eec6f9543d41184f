#pragma once
/*
 * libbpf's and libxdp's log lines (variadic print callbacks, which Swift cannot be)
 * forwarded to one handler as finished lines.
 */

/* Log lines from libbpf and libxdp go here (level: 0 warn, 1 info, 2 debug). */
typedef void (*bt_log_fn)(int level, const char *line);
void bt_set_log_handler(bt_log_fn fn);
