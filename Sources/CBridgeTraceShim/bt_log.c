#include "bt_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

static bt_log_fn log_handler;

static int forward_log(int level, const char *fmt, va_list args)
{
	char line[1024];
	size_t n;

	if (!log_handler)
		return 0;
	vsnprintf(line, sizeof(line), fmt, args);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_handler(level, line);
	return 0;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return forward_log((int)level, fmt, args);
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list args)
{
	return forward_log((int)level, fmt, args);
}

void bt_set_log_handler(bt_log_fn fn)
{
	log_handler = fn;
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}
