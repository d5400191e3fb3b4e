/* Small string helpers. */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool sk_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool sk_startswith(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

bool sk_endswith(const char *s, const char *suffix)
{
	size_t ls, lx;

	if (!s)
		return false;
	ls = strlen(s);
	lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int sk_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out, sk_err *err)
{
	char *end = NULL;
	long long v;

	if (!s || !*s)
		return sk_err_set(err, EINVAL, "empty number");
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s)
		return sk_err_set(err, EINVAL, "\"%s\" is not a whole number", s);
	if (v < min || v > max)
		return sk_err_set(err, ERANGE, "%s is out of range [%lld, %lld]", s, (long long)min,
				  (long long)max);
	*out = v;
	return 0;
}

size_t sk_strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void sk_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char **sk_strv_push(char **v, const char *s)
{
	size_t n = sk_strv_len(v);

	v = sk_realloc(v, (n + 2) * sizeof(char *));
	v[n] = sk_strdup(s);
	v[n + 1] = NULL;
	return v;
}
