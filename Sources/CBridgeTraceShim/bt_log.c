#define _GNU_SOURCE
#include "bt_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

static bt_log_fn log_handler;

/* One message can be a whole verifier log (libbpf prints it as one message, megabytes on
 * a big program), and its verdict is at the end: format it whole and hand it over a line
 * at a time, so that nothing is cut. */
static int forward_log(int level, const char *fmt, va_list args)
{
	char *text = NULL, *line, *next;

	if (!log_handler)
		return 0;
	if (vasprintf(&text, fmt, args) < 0 || !text)
		return 0;
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		log_handler(level, line);
	}
	free(text);
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
