/* Logging: one line per message on stderr, prefixed with level and time
 * so that daemon logs (server, agent, supervisor) can be read together. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int sk_log_level = SK_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void sk_log(int level, const char *fmt, ...)
{
	char line[4096];
	char ts[40];
	va_list ap;
	int n;

	if (level > sk_log_level)
		return;
	sk_rfc3339_nano(sk_now_ns(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "%s %s [%d] ", ts, level_names[level], (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* one write(2) so concurrent writers do not interleave within a line */
	sk_buf b;
	sk_buf_init(&b);
	sk_buf_puts(&b, line);
	sk_buf_putc(&b, '\n');
	(void)sk_write_all(STDERR_FILENO, b.data, b.len);
	sk_buf_free(&b);
}
