/* Allocation wrappers: out-of-memory aborts here, once, so no caller
 * carries a NULL check after every allocation. */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void __attribute__((noreturn)) oom(void)
{
	static const char msg[] = "skiff: out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *sk_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *sk_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *sk_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom();
	return q;
}

char *sk_strdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		oom();
	return p;
}

char *sk_strndup(const char *s, size_t n)
{
	char *p = strndup(s ? s : "", n);

	if (!p)
		oom();
	return p;
}

char *sk_vasprintf(const char *fmt, va_list ap)
{
	char *p = NULL;

	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	return p;
}

char *sk_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = sk_vasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void sk_freep(void *p)
{
	free(*(void **)p);
}

void sk_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void sk_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
	*f = NULL;
}

void sk_strvfreep(char ***v)
{
	sk_strv_free(*v);
	*v = NULL;
}
