/* Kubernetes resource quantities:
 *   quantity ::= [+-] number suffix
 *   number   ::= digits | digits "." digits | digits "." | "." digits
 *   suffix   ::= Ki|Mi|Gi|Ti|Pi|Ei | n|u|m|""|k|M|G|T|P|E | (e|E) [+-] digits
 * Computed exactly in 128-bit integers, rounded up to a thousandth as the
 * apiserver does ("0.0001" is 1m). */
#include "api.h"

#include <errno.h>
#include <string.h>

#define QTY_MAX_LEN 64
#define QTY_MAX_DIGITS 30

typedef __int128 i128;
static const i128 QTY_LIMIT = (i128)INT64_MAX;

struct parsed_qty {
	i128 mantissa; /* all digits, fraction included */
	int dec_exp;   /* power of ten applied to the mantissa */
	int bin_exp;   /* power of two from a binary suffix */
};

static int parse_suffix(const char *s, struct parsed_qty *q)
{
	static const struct {
		const char *suffix;
		int dec, bin;
	} table[] = {
		{"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40},
		{"Pi", 0, 50}, {"Ei", 0, 60}, {"n", -9, 0},  {"u", -6, 0},
		{"m", -3, 0},  {"", 0, 0},    {"k", 3, 0},   {"M", 6, 0},
		{"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},
	};

	for (size_t i = 0; i < SK_ARRAY_SIZE(table); i++) {
		if (strcmp(s, table[i].suffix) == 0) {
			q->dec_exp += table[i].dec;
			q->bin_exp = table[i].bin;
			return 0;
		}
	}
	if (*s == 'e' || *s == 'E') {
		int64_t e;
		if (sk_parse_int64(s + 1, -100, 100, &e, NULL) < 0 || !s[1] || s[1] == ' ')
			return -1;
		q->dec_exp += (int)e;
		return 0;
	}
	return -1;
}

static int parse_number(const char *s, struct parsed_qty *q, const char **rest)
{
	int digits = 0, frac = 0;
	bool dot = false, any = false;

	q->mantissa = 0;
	q->dec_exp = 0;
	q->bin_exp = 0;
	for (; (*s >= '0' && *s <= '9') || (*s == '.' && !dot); s++) {
		if (*s == '.') {
			dot = true;
			continue;
		}
		any = true;
		if (q->mantissa == 0 && *s == '0' && !dot)
			continue; /* leading zeros carry nothing */
		if (++digits > QTY_MAX_DIGITS)
			return -1;
		q->mantissa = q->mantissa * 10 + (*s - '0');
		if (dot)
			frac++;
	}
	if (!any)
		return -1;
	q->dec_exp = -frac;
	*rest = s;
	return 0;
}

static int to_milli(const struct parsed_qty *q, int64_t *milli)
{
	i128 v = q->mantissa;
	int e = q->dec_exp + 3;

	for (int i = 0; i < q->bin_exp; i++) {
		v *= 2;
		if (v > QTY_LIMIT * 1000000000LL)
			return -1;
	}
	for (; e > 0; e--) {
		v *= 10;
		if (v > QTY_LIMIT * 1000000000LL)
			return -1;
	}
	for (; e < 0 && v; e++) {
		i128 r = v % 10;
		v = v / 10 + (r ? 1 : 0); /* round up, as the apiserver does */
	}
	if (v > QTY_LIMIT)
		return -1;
	*milli = (int64_t)v;
	return 0;
}

int api_quantity_milli(const char *s, int64_t *milli, sk_err *err)
{
	struct parsed_qty q;
	const char *p = s, *rest;

	if (!s || !*s)
		return sk_err_set(err, EINVAL, "quantity is empty");
	if (strlen(s) > QTY_MAX_LEN)
		return sk_err_set(err, EINVAL, "quantity \"%.20s...\" is too long", s);
	if (*p == '+')
		p++;
	if (*p == '-')
		return sk_err_set(err, EINVAL, "quantity \"%s\" must not be negative", s);
	if (parse_number(p, &q, &rest) < 0 || parse_suffix(rest, &q) < 0)
		return sk_err_set(err, EINVAL,
				  "quantity \"%s\" must match the regular expression "
				  "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
				  s);
	if (to_milli(&q, milli) < 0)
		return sk_err_set(err, ERANGE, "quantity \"%s\" is too large", s);
	return 0;
}

int api_quantity_value(const char *s, int64_t *value, sk_err *err)
{
	int64_t milli;

	if (api_quantity_milli(s, &milli, err) < 0)
		return -1;
	*value = milli / 1000 + (milli % 1000 ? 1 : 0);
	return 0;
}

int api_quantity_json_milli(json_t *q, int64_t *milli, sk_err *err)
{
	char buf[64];

	if (json_is_string(q))
		return api_quantity_milli(json_string_value(q), milli, err);
	if (json_is_integer(q)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(q));
		return api_quantity_milli(buf, milli, err);
	}
	if (json_is_real(q)) {
		snprintf(buf, sizeof(buf), "%.15g", json_real_value(q));
		return api_quantity_milli(buf, milli, err);
	}
	return sk_err_set(err, EINVAL, "a quantity must be a string or a number");
}
