/* A growable NUL-terminated byte buffer. */
#include "common.h"

#include <string.h>

void sk_buf_init(sk_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void sk_buf_free(sk_buf *b)
{
	free(b->data);
	sk_buf_init(b);
}

void sk_buf_reset(sk_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void buf_reserve(sk_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = sk_realloc(b->data, cap);
	b->cap = cap;
}

void sk_buf_append(sk_buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void sk_buf_puts(sk_buf *b, const char *s)
{
	sk_buf_append(b, s, strlen(s));
}

void sk_buf_putc(sk_buf *b, char c)
{
	sk_buf_append(b, &c, 1);
}

void sk_buf_printf(sk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *sk_buf_steal(sk_buf *b)
{
	char *s = b->data ? b->data : sk_strdup("");

	sk_buf_init(b);
	return s;
}
