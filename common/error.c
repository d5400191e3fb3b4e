/* The one error convention of skiff: see common.h. */
#include "common.h"

#include <errno.h>
#include <string.h>

static void err_vformat(sk_err *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int sk_err_set(sk_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	err_vformat(err, fmt, ap);
	va_end(ap);
	return -1;
}

int sk_err_sys(sk_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (!err)
		return -1;
	err->code = errnum;
	va_start(ap, fmt);
	err_vformat(err, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	return -1;
}

int sk_err_wrap(sk_err *err, const char *fmt, ...)
{
	char prefix[SK_ERR_MSG_MAX];
	size_t plen, olen;
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
	va_end(ap);
	strcat(prefix, ": ");
	plen = strlen(prefix);
	olen = strnlen(err->msg, sizeof(err->msg) - 1);
	if (plen >= sizeof(err->msg) - 1)
		plen = sizeof(err->msg) - 1;
	if (plen + olen > sizeof(err->msg) - 1)
		olen = sizeof(err->msg) - 1 - plen; /* the innermost detail is cut last */
	memmove(err->msg + plen, err->msg, olen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + olen] = '\0';
	return -1;
}

void sk_err_clear(sk_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
