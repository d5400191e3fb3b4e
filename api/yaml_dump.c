/* JSON trees printed byte for byte as kubectl prints them.
 *
 * `kubectl -o yaml` marshals the object to JSON and converts that to YAML
 * with sigs.k8s.io/yaml, i.e. go-yaml v2: map keys in go-yaml's "natural"
 * order, block style, sequences in a mapping not indented, empty
 * collections in flow style, strings quoted only when a plain scalar would
 * read back as something else (a bool, a number, a timestamp, null) or
 * would not parse, multi-line strings as literal blocks, and long scalars
 * folded at column 80. The emitter below keeps the same state libyaml's
 * emitter keeps (column, indent stack, whitespace and indention flags), so
 * its choices match case for case.
 *
 * `kubectl -o json` is Go's json.MarshalIndent with four spaces: sorted
 * keys, and Go's escaping (<, > and & as \u003c, \u003e, \u0026). */
#include "api.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BEST_INDENT 2
#define BEST_WIDTH 80
#define SIMPLE_KEY_MAX 128

/* ---- UTF-8 helpers ------------------------------------------------------ */

static size_t u8_width(unsigned char c)
{
	if ((c & 0x80) == 0)
		return 1;
	if ((c & 0xE0) == 0xC0)
		return 2;
	if ((c & 0xF0) == 0xE0)
		return 3;
	if ((c & 0xF8) == 0xF0)
		return 4;
	return 1;
}

/* Decode one code point at s[i] (len bytes in all); *w gets its width. */
static unsigned u8_decode(const unsigned char *s, size_t len, size_t i, size_t *w)
{
	size_t n = u8_width(s[i]);
	unsigned v;

	if (i + n > len)
		n = 1;
	*w = n;
	v = n == 1 ? s[i] : n == 2 ? s[i] & 0x1Fu : n == 3 ? s[i] & 0x0Fu : s[i] & 0x07u;
	for (size_t k = 1; k < n; k++)
		v = (v << 6) | (s[i + k] & 0x3Fu);
	return v;
}

static bool at(const unsigned char *s, size_t len, size_t i, unsigned char c)
{
	return i < len && s[i] == c;
}

/* Line breaks as YAML knows them: \r, \n, NEL, LS, PS. */
static bool is_break(const unsigned char *s, size_t len, size_t i)
{
	if (i >= len)
		return false;
	return s[i] == '\r' || s[i] == '\n' || (s[i] == 0xC2 && at(s, len, i + 1, 0x85)) ||
	       (s[i] == 0xE2 && at(s, len, i + 1, 0x80) &&
		(at(s, len, i + 2, 0xA8) || at(s, len, i + 2, 0xA9)));
}

static bool is_space(const unsigned char *s, size_t len, size_t i)
{
	return at(s, len, i, ' ');
}

static bool is_blank(const unsigned char *s, size_t len, size_t i)
{
	return at(s, len, i, ' ') || at(s, len, i, '\t');
}

static bool is_blankz(const unsigned char *s, size_t len, size_t i)
{
	return i >= len || s[i] == '\0' || is_blank(s, len, i) || is_break(s, len, i);
}

/* go-yaml's is_printable: what may appear unescaped in a scalar. */
static bool is_printable(const unsigned char *s, size_t len, size_t i)
{
	unsigned char b = s[i], b1 = i + 1 < len ? s[i + 1] : 0, b2 = i + 2 < len ? s[i + 2] : 0;

	return b == 0x0A || (b >= 0x20 && b <= 0x7E) || (b == 0xC2 && b1 >= 0xA0) ||
	       (b > 0xC2 && b < 0xED) || (b == 0xED && b1 < 0xA0) || b == 0xEE ||
	       (b == 0xEF && !(b1 == 0xBB && b2 == 0xBF) &&
		!(b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)));
}

static bool is_bom(const unsigned char *s, size_t len, size_t i)
{
	return at(s, len, i, 0xEF) && at(s, len, i + 1, 0xBB) && at(s, len, i + 2, 0xBF);
}

/* ---- go-yaml's key order (sorter.go keyList.Less) ----------------------- */

static bool rune_is_letter(unsigned r)
{
	/* unicode.IsLetter: exact for ASCII and Latin-1; above that the
	 * alphabetic blocks (Latin, Greek, Cyrillic ... Ethiopic, CJK, Hangul)
	 * count as letters and symbols, punctuation and emoji do not */
	if (r < 0x80)
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
	if (r < 0x100)
		return r == 0xAA || r == 0xB5 || r == 0xBA || (r >= 0xC0 && r != 0xD7 && r != 0xF7);
	return (r < 0x2C0) || (r >= 0x370 && r < 0x2000 && r != 0x37E && r != 0x387) ||
	       (r >= 0x3041 && r < 0x3097) || (r >= 0x30A1 && r < 0x30FB) ||
	       (r >= 0x3400 && r < 0x4DC0) || (r >= 0x4E00 && r < 0xA000) ||
	       (r >= 0xAC00 && r < 0xD7A4) || (r >= 0x20000 && r < 0x2FA20);
}

static bool rune_is_digit(unsigned r)
{
	return r >= '0' && r <= '9';
}

/* go-yaml's keyList.Less, walking both keys as UTF-8 in place: digits
 * are ASCII, so number runs can be read (and the leading-zero check made)
 * on bytes. */
static bool key_less(const char *a, const char *b)
{
	const unsigned char *ua = (const unsigned char *)a, *ub = (const unsigned char *)b;
	size_t la = strlen(a), lb = strlen(b), i = 0, j = 0, wa, wb;

	while (i < la && j < lb) {
		unsigned ra = u8_decode(ua, la, i, &wa), rb = u8_decode(ub, lb, j, &wb);
		bool al, bl;
		size_t ai, bi;
		int64_t an = 0, bn = 0;

		if (ra == rb) {
			i += wa;
			j += wb;
			continue;
		}
		al = rune_is_letter(ra);
		bl = rune_is_letter(rb);
		if (al && bl)
			return ra < rb;
		if (al || bl)
			return bl;
		if (ra == '0' || rb == '0') {
			for (size_t k = i; k-- > 0 && rune_is_digit(ua[k]);) {
				if (ua[k] != '0') {
					an = 1;
					bn = 1;
					break;
				}
			}
		}
		for (ai = i; ai < la && rune_is_digit(ua[ai]); ai++)
			an = an * 10 + (int64_t)(ua[ai] - '0');
		for (bi = j; bi < lb && rune_is_digit(ub[bi]); bi++)
			bn = bn * 10 + (int64_t)(ub[bi] - '0');
		if (an != bn)
			return an < bn;
		if (ai - i != bi - j)
			return ai - i < bi - j;
		return ra < rb;
	}
	return i >= la && j < lb;
}

static int key_cmp(const void *x, const void *y)
{
	const char *a = *(const char *const *)x, *b = *(const char *const *)y;

	if (strcmp(a, b) == 0)
		return 0;
	return key_less(a, b) ? -1 : 1;
}

static int byte_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The keys of obj, sorted with cmp; a NULL-terminated array of borrowed
 * strings. */
static const char **sorted_keys(json_t *obj, int (*cmp)(const void *, const void *))
{
	size_t n = json_object_size(obj), i = 0;
	const char **keys = sk_calloc(n + 1, sizeof(*keys));
	const char *k;
	json_t *v;

	json_object_foreach (obj, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp);
	return keys;
}

/* ---- go-yaml's resolve(): would a plain scalar read back as a string? --- */

/* Parse 1-2 (or exactly `fixed`) digits at *p; false if none. */
static bool take_num(const char **p, int min, int max, int *out)
{
	int n = 0, v = 0;

	while (n < max && rune_is_digit((unsigned char)(*p)[n])) {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min)
		return false;
	*p += n;
	*out = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* go-yaml v2's parseTimestamp: "2006-1-2", "2006-1-2T15:4:5.999Z07:00"
 * (T or t), "2006-1-2 15:4:5.999" — as Go's time.Parse reads them. */
static bool is_timestamp(const char *s)
{
	const char *p = s;
	int y, mo, d, h, mi, se, zh, zm;

	if (!take_num(&p, 4, 4, &y) || *p++ != '-' || !take_num(&p, 1, 2, &mo) || *p++ != '-' ||
	    !take_num(&p, 1, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return false;
	if (*p == '\0')
		return true;
	bool space = *p == ' ';
	if (*p != 'T' && *p != 't' && !space)
		return false;
	p++;
	if (!take_num(&p, 1, 2, &h) || *p++ != ':' || !take_num(&p, 1, 2, &mi) || *p++ != ':' ||
	    !take_num(&p, 1, 2, &se) || h > 23 || mi > 59 || se > 59)
		return false;
	if (*p == '.' && rune_is_digit((unsigned char)p[1])) {
		p++;
		while (rune_is_digit((unsigned char)*p))
			p++;
	}
	if (space)
		return *p == '\0';
	if (*p == 'Z')
		return p[1] == '\0';
	if (*p != '+' && *p != '-')
		return false;
	p++;
	if (!take_num(&p, 2, 2, &zh) || *p++ != ':' || !take_num(&p, 2, 2, &zm))
		return false;
	return *p == '\0' && zh < 24 && zm < 60;
}

/* Go's strconv.ParseInt/ParseUint with base 0 (after '_' removal). */
static bool go_parses_int(const char *s)
{
	const char *p = s;
	int base = 10;

	if (*p == '+' || *p == '-')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	if (!*p)
		return false;
	for (; *p; p++) {
		int c = (unsigned char)*p, v;

		if (rune_is_digit((unsigned)c))
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return false;
		if (v >= base)
			return false;
	}
	return true; /* overflow would still be a float below */
}

/* yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s)
{
	const char *p = s;
	size_t n;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		p++;
		n = strspn(p, "0123456789");
		if (n == 0)
			return false;
		p += n;
	} else {
		n = strspn(p, "0123456789");
		if (n == 0)
			return false;
		p += n;
		if (*p == '.')
			p += 1 + strspn(p + 1, "0123456789");
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		n = strspn(p, "0123456789");
		if (n == 0)
			return false;
		p += n;
	}
	return *p == '\0';
}

/* Go's strconv.ParseFloat, for scalars starting with '.' (".5"). */
static bool go_parses_float_dot(const char *s)
{
	return yaml_style_float(s);
}

/* isBase60Float: ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static bool is_base60_float(const char *s)
{
	const char *p = s;
	int groups = 0;

	if (*p == '+' || *p == '-')
		p++;
	if (!rune_is_digit((unsigned char)*p))
		return false;
	p += strspn(p, "0123456789_");
	while (*p == ':') {
		p++;
		if (p[0] >= '0' && p[0] <= '5' && rune_is_digit((unsigned char)p[1]))
			p += 2;
		else if (rune_is_digit((unsigned char)p[0]))
			p += 1;
		else
			return false;
		groups++;
	}
	if (groups == 0)
		return false;
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789_");
	return *p == '\0';
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* True when go-yaml may write s as a plain scalar without changing its
 * type (resolve() gives !!str and it is no base-60 float). */
static bool plain_reads_as_string(const char *s)
{
	static const char *const special[] = {
		"y",	 "Y",	  "yes",   "Yes",   "YES",   "true",  "True",  "TRUE",
		"on",	 "On",	  "ON",	   "n",	    "N",     "no",    "No",    "NO",
		"false", "False", "FALSE", "off",   "Off",   "OFF",   "",      "~",
		"null",	 "Null",  "NULL",  ".nan",  ".NaN",  ".NAN",  ".inf",  ".Inf",
		".INF",	 "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", NULL};
	char c = s[0];

	if (in_list(s, special))
		return false;
	if (c == '.')
		return !go_parses_float_dot(s);
	if (rune_is_digit((unsigned char)c) || c == '+' || c == '-') {
		_cleanup_free_ char *plain = sk_strdup(s);
		char *w = plain;

		if (is_timestamp(s))
			return false;
		for (const char *r = s; *r; r++)
			if (*r != '_')
				*w++ = *r;
		*w = '\0';
		if (go_parses_int(plain) || yaml_style_float(plain))
			return false;
		if (is_base60_float(s))
			return false;
	}
	return true;
}

/* ---- number formatting as Go's strconv.FormatFloat(f, fmt, -1, 64) ---- */

/* The shortest decimal digits that read back as v: digits without a dot
 * in *digits, and the decimal exponent such that v = 0.d1d2... * 10^dp. */
static void shortest_digits(double v, char *digits, size_t n, int *dp)
{
	char buf[64];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* buf: d.ddde[+-]XX */
	size_t k = 0;
	const char *p = buf;
	char *e = strchr(buf, 'e');

	for (; p < e && k + 1 < n; p++)
		if (rune_is_digit((unsigned char)*p))
			digits[k++] = *p;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	*dp = atoi(e + 1) + 1;
}

/* %e with Go's exponent: at least two digits, sign always. */
static void format_exp(sk_buf *out, const char *digits, int dp)
{
	int exp = dp - 1;

	sk_buf_putc(out, digits[0]);
	if (digits[1]) {
		sk_buf_putc(out, '.');
		sk_buf_puts(out, digits + 1);
	}
	sk_buf_printf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

static void format_fixed(sk_buf *out, const char *digits, int dp)
{
	int nd = (int)strlen(digits);

	if (dp <= 0) {
		sk_buf_puts(out, "0.");
		for (int i = 0; i < -dp; i++)
			sk_buf_putc(out, '0');
		sk_buf_puts(out, digits);
		return;
	}
	for (int i = 0; i < dp; i++)
		sk_buf_putc(out, i < nd ? digits[i] : '0');
	if (nd > dp) {
		sk_buf_putc(out, '.');
		sk_buf_puts(out, digits + dp);
	}
}

/* JSON numbers: Go's encoding/json float formatting, where an integral
 * value below 1e21 prints as an integer. */
static void format_json_real(sk_buf *out, double v)
{
	char digits[32];
	int dp;
	double a = fabs(v);

	if (!isfinite(v)) {
		sk_buf_puts(out, "null");
		return;
	}
	if (v == 0) {
		sk_buf_puts(out, "0");
		return;
	}
	if (v < 0)
		sk_buf_putc(out, '-');
	shortest_digits(a, digits, sizeof(digits), &dp);
	if (a < 1e-6 || a >= 1e21) {
		/* encoding/json: "clean up e-09 to e-9" */
		_cleanup_buf_ sk_buf e = {0};

		format_exp(&e, digits, dp);
		if (e.len >= 4 && e.data[e.len - 4] == 'e' && e.data[e.len - 3] == '-' &&
		    e.data[e.len - 2] == '0') {
			e.data[e.len - 2] = e.data[e.len - 1];
			e.data[--e.len] = '\0';
		}
		sk_buf_puts(out, e.data);
	} else
		format_fixed(out, digits, dp);
}

/* YAML numbers: the JSON text read back by go-yaml, so integral values
 * become ints, the rest FormatFloat(f, 'g', -1, 64). */
static void format_yaml_real(sk_buf *out, double v)
{
	char digits[32];
	int dp;
	double a = fabs(v);

	if (isnan(v)) {
		sk_buf_puts(out, ".nan");
		return;
	}
	if (isinf(v)) {
		sk_buf_puts(out, v > 0 ? ".inf" : "-.inf");
		return;
	}
	if (v == 0) {
		sk_buf_puts(out, "0");
		return;
	}
	if (a < 1e21 && floor(a) == a && a < 9.2e18) {
		sk_buf_printf(out, "%lld", (long long)v);
		return;
	}
	if (v < 0)
		sk_buf_putc(out, '-');
	shortest_digits(a, digits, sizeof(digits), &dp);
	if (dp - 1 < -4 || dp - 1 >= 6) /* 'g' with shortest digits: eprec is 6 */
		format_exp(out, digits, dp);
	else
		format_fixed(out, digits, dp);
}

/* ---- the emitter -------------------------------------------------------- */

enum scalar_style { STYLE_PLAIN, STYLE_SINGLE, STYLE_DOUBLE, STYLE_LITERAL };

struct scalar_info {
	bool multiline;
	bool flow_plain_allowed, block_plain_allowed, single_quoted_allowed, block_allowed;
};

struct emitter {
	sk_buf *out;
	int column;
	bool whitespace, indention, open_ended;
	int indent;
	int indents[4 * API_MAX_DEPTH + 16];
	int nindents;
	int depth;
	/* context of the node being emitted */
	bool root_context, sequence_context, mapping_context, simple_key_context;
};

static void put(struct emitter *e, char c)
{
	sk_buf_putc(e->out, c);
	e->column++;
}

static void put_break(struct emitter *e)
{
	sk_buf_putc(e->out, '\n');
	e->column = 0;
}

/* Copy one character (all its UTF-8 bytes), one column. */
static void write_char(struct emitter *e, const unsigned char *s, size_t len, size_t *i)
{
	size_t w = u8_width(s[*i]);

	if (*i + w > len)
		w = len - *i;
	sk_buf_append(e->out, s + *i, w);
	*i += w;
	e->column++;
}

static void write_break(struct emitter *e, const unsigned char *s, size_t len, size_t *i)
{
	if (s[*i] == '\n') {
		put_break(e);
		(*i)++;
	} else {
		write_char(e, s, len, i);
		e->column = 0;
	}
}

static void write_indicator(struct emitter *e, const char *ind, bool need_whitespace,
			    bool is_whitespace, bool is_indention)
{
	if (need_whitespace && !e->whitespace)
		put(e, ' ');
	for (; *ind; ind++)
		put(e, *ind);
	e->whitespace = is_whitespace;
	e->indention = e->indention && is_indention;
	e->open_ended = false;
}

static void write_indent(struct emitter *e)
{
	int indent = e->indent >= 0 ? e->indent : 0;

	if (!e->indention || e->column > indent || (e->column == indent && !e->whitespace))
		put_break(e);
	while (e->column < indent)
		put(e, ' ');
	e->whitespace = true;
	e->indention = true;
}

static void increase_indent(struct emitter *e, bool flow, bool indentless)
{
	if (e->nindents < (int)SK_ARRAY_SIZE(e->indents))
		e->indents[e->nindents++] = e->indent;
	if (e->indent < 0)
		e->indent = flow ? BEST_INDENT : 0;
	else if (!indentless)
		e->indent += BEST_INDENT;
}

static void pop_indent(struct emitter *e)
{
	if (e->nindents > 0)
		e->indent = e->indents[--e->nindents];
}

/* libyaml's yaml_emitter_analyze_scalar. */
static void analyze_scalar(const unsigned char *s, size_t len, struct scalar_info *si)
{
	bool block_ind = false, flow_ind = false, line_breaks = false, special = false;
	bool leading_space = false, leading_break = false, trailing_space = false;
	bool trailing_break = false, break_space = false, space_break = false;
	bool preceded_by_ws = true, followed_by_ws, prev_space = false, prev_break = false;
	size_t w;

	if (len == 0) {
		*si = (struct scalar_info){.block_plain_allowed = true,
					   .single_quoted_allowed = true};
		return;
	}
	if (len >= 3 && ((s[0] == '-' && s[1] == '-' && s[2] == '-') ||
			 (s[0] == '.' && s[1] == '.' && s[2] == '.')))
		block_ind = flow_ind = true;
	for (size_t i = 0; i < len; i += w) {
		w = u8_width(s[i]);
		followed_by_ws = i + w >= len || is_blank(s, len, i + w);
		if (i == 0) {
			if (strchr("#,[]{}&*!|>'\"%@`", s[i]) && s[i])
				flow_ind = block_ind = true;
			if (s[i] == '?' || s[i] == ':') {
				flow_ind = true;
				if (followed_by_ws)
					block_ind = true;
			}
			if (s[i] == '-' && followed_by_ws)
				flow_ind = block_ind = true;
		} else {
			if (s[i] && strchr(",?[]{}", s[i]))
				flow_ind = true;
			if (s[i] == ':') {
				flow_ind = true;
				if (followed_by_ws)
					block_ind = true;
			}
			if (s[i] == '#' && preceded_by_ws)
				flow_ind = block_ind = true;
		}
		if (!is_printable(s, len, i))
			special = true;
		if (is_break(s, len, i))
			line_breaks = true;
		if (is_space(s, len, i)) {
			if (i == 0)
				leading_space = true;
			if (i + w == len)
				trailing_space = true;
			if (prev_break)
				break_space = true;
			prev_space = true;
			prev_break = false;
		} else if (is_break(s, len, i)) {
			if (i == 0)
				leading_break = true;
			if (i + w == len)
				trailing_break = true;
			if (prev_space)
				space_break = true;
			prev_space = false;
			prev_break = true;
		} else {
			prev_space = prev_break = false;
		}
		preceded_by_ws = is_blankz(s, len, i);
	}
	*si = (struct scalar_info){.multiline = line_breaks,
				   .flow_plain_allowed = true,
				   .block_plain_allowed = true,
				   .single_quoted_allowed = true,
				   .block_allowed = true};
	if (leading_space || leading_break || trailing_space || trailing_break)
		si->flow_plain_allowed = si->block_plain_allowed = false;
	if (trailing_space)
		si->block_allowed = false;
	if (break_space)
		si->flow_plain_allowed = si->block_plain_allowed = si->single_quoted_allowed =
			false;
	if (space_break || special)
		si->flow_plain_allowed = si->block_plain_allowed = si->single_quoted_allowed =
			si->block_allowed = false;
	if (line_breaks)
		si->flow_plain_allowed = si->block_plain_allowed = false;
	if (flow_ind)
		si->flow_plain_allowed = false;
	if (block_ind)
		si->block_plain_allowed = false;
}

/* libyaml's yaml_emitter_select_scalar_style (block context only). */
static enum scalar_style select_style(const struct emitter *e, enum scalar_style style,
				      const struct scalar_info *si, size_t len)
{
	if (e->simple_key_context && si->multiline)
		style = STYLE_DOUBLE;
	if (style == STYLE_PLAIN) {
		if (!si->block_plain_allowed)
			style = STYLE_SINGLE;
		if (len == 0 && e->simple_key_context)
			style = STYLE_SINGLE;
	}
	if (style == STYLE_SINGLE && !si->single_quoted_allowed)
		style = STYLE_DOUBLE;
	if (style == STYLE_LITERAL && (!si->block_allowed || e->simple_key_context))
		style = STYLE_DOUBLE;
	return style;
}

static void write_plain(struct emitter *e, const unsigned char *s, size_t len, bool allow_breaks)
{
	bool spaces = false;

	if (!e->whitespace)
		put(e, ' ');
	for (size_t i = 0; i < len;) {
		if (is_space(s, len, i)) {
			if (allow_breaks && !spaces && e->column > BEST_WIDTH &&
			    !is_space(s, len, i + 1)) {
				write_indent(e);
				i++;
			} else {
				write_char(e, s, len, &i);
			}
			spaces = true;
		} else {
			write_char(e, s, len, &i);
			e->indention = false;
			spaces = false;
		}
	}
	e->whitespace = false;
	e->indention = false;
	if (e->root_context)
		e->open_ended = true;
}

static void write_single_quoted(struct emitter *e, const unsigned char *s, size_t len,
				bool allow_breaks)
{
	bool spaces = false, breaks = false;

	write_indicator(e, "'", true, false, false);
	for (size_t i = 0; i < len;) {
		if (is_space(s, len, i)) {
			if (allow_breaks && !spaces && e->column > BEST_WIDTH && i > 0 &&
			    i < len - 1 && !is_space(s, len, i + 1)) {
				write_indent(e);
				i++;
			} else {
				write_char(e, s, len, &i);
			}
			spaces = true;
		} else if (is_break(s, len, i)) {
			if (!breaks && s[i] == '\n')
				put_break(e);
			write_break(e, s, len, &i);
			e->indention = true;
			breaks = true;
		} else {
			if (breaks)
				write_indent(e);
			if (s[i] == '\'')
				put(e, '\'');
			write_char(e, s, len, &i);
			e->indention = false;
			spaces = false;
			breaks = false;
		}
	}
	write_indicator(e, "'", false, false, false);
	e->whitespace = false;
	e->indention = false;
}

static void write_escape(struct emitter *e, unsigned v)
{
	static const struct {
		unsigned cp;
		char c;
	} named[] = {{0x00, '0'},  {0x07, 'a'}, {0x08, 'b'}, {0x09, 't'},   {0x0A, 'n'},
		     {0x0B, 'v'},  {0x0C, 'f'}, {0x0D, 'r'}, {0x1B, 'e'},   {0x22, '"'},
		     {0x5C, '\\'}, {0x85, 'N'}, {0xA0, '_'}, {0x2028, 'L'}, {0x2029, 'P'}};
	int w;

	put(e, '\\');
	for (size_t k = 0; k < SK_ARRAY_SIZE(named); k++) {
		if (named[k].cp == v) {
			put(e, named[k].c);
			return;
		}
	}
	if (v <= 0xFF) {
		put(e, 'x');
		w = 2;
	} else if (v <= 0xFFFF) {
		put(e, 'u');
		w = 4;
	} else {
		put(e, 'U');
		w = 8;
	}
	for (int k = (w - 1) * 4; k >= 0; k -= 4)
		put(e, "0123456789ABCDEF"[(v >> k) & 0xF]);
}

static void write_double_quoted(struct emitter *e, const unsigned char *s, size_t len,
				bool allow_breaks)
{
	bool spaces = false;

	write_indicator(e, "\"", true, false, false);
	for (size_t i = 0; i < len;) {
		if (!is_printable(s, len, i) || is_bom(s, len, i) || is_break(s, len, i) ||
		    s[i] == '"' || s[i] == '\\') {
			size_t w;
			unsigned v = u8_decode(s, len, i, &w);

			i += w;
			write_escape(e, v);
			spaces = false;
		} else if (is_space(s, len, i)) {
			if (allow_breaks && !spaces && e->column > BEST_WIDTH && i > 0 &&
			    i < len - 1) {
				write_indent(e);
				if (is_space(s, len, i + 1))
					put(e, '\\');
				i++;
			} else {
				write_char(e, s, len, &i);
			}
			spaces = true;
		} else {
			write_char(e, s, len, &i);
			spaces = false;
		}
	}
	write_indicator(e, "\"", false, false, false);
	e->whitespace = false;
	e->indention = false;
}

static void write_block_hints(struct emitter *e, const unsigned char *s, size_t len)
{
	const char *chomp = NULL;

	if (is_space(s, len, 0) || is_break(s, len, 0)) {
		char hint[2] = {(char)('0' + BEST_INDENT), '\0'};

		write_indicator(e, hint, false, false, false);
	}
	e->open_ended = false;
	if (len == 0) {
		chomp = "-";
	} else {
		size_t i = len - 1;

		while (i > 0 && (s[i] & 0xC0) == 0x80)
			i--;
		if (!is_break(s, len, i)) {
			chomp = "-";
		} else if (i == 0) {
			chomp = "+";
			e->open_ended = true;
		} else {
			i--;
			while (i > 0 && (s[i] & 0xC0) == 0x80)
				i--;
			if (is_break(s, len, i)) {
				chomp = "+";
				e->open_ended = true;
			}
		}
	}
	if (chomp)
		write_indicator(e, chomp, false, false, false);
}

static void write_literal(struct emitter *e, const unsigned char *s, size_t len)
{
	bool breaks = true;

	write_indicator(e, "|", true, false, false);
	write_block_hints(e, s, len);
	put_break(e);
	e->indention = true;
	e->whitespace = true;
	for (size_t i = 0; i < len;) {
		if (is_break(s, len, i)) {
			write_break(e, s, len, &i);
			e->indention = true;
			breaks = true;
		} else {
			if (breaks) {
				write_indent(e);
				breaks = false;
			}
			write_char(e, s, len, &i);
			e->indention = false;
		}
	}
}

static void emit_scalar(struct emitter *e, const char *str, enum scalar_style style)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str);
	struct scalar_info si;

	analyze_scalar(s, len, &si);
	style = select_style(e, style, &si, len);
	increase_indent(e, true, false);
	switch (style) {
	case STYLE_PLAIN:
		write_plain(e, s, len, !e->simple_key_context);
		break;
	case STYLE_SINGLE:
		write_single_quoted(e, s, len, !e->simple_key_context);
		break;
	case STYLE_DOUBLE:
		write_double_quoted(e, s, len, !e->simple_key_context);
		break;
	case STYLE_LITERAL:
		write_literal(e, s, len);
		break;
	}
	pop_indent(e);
}

/* encode.go stringv: the style go-yaml asks for before the emitter's own
 * checks. */
static enum scalar_style string_style(const char *s)
{
	if (strchr(s, '\n'))
		return STYLE_LITERAL;
	return plain_reads_as_string(s) ? STYLE_PLAIN : STYLE_DOUBLE;
}

static bool key_is_simple(const char *key)
{
	struct scalar_info si;
	size_t len = strlen(key);

	analyze_scalar((const unsigned char *)key, len, &si);
	return !si.multiline && len <= SIMPLE_KEY_MAX;
}

static void emit_node(struct emitter *e, json_t *v, bool root, bool seq, bool map, bool simple_key);

static void emit_block_mapping(struct emitter *e, json_t *obj)
{
	_cleanup_free_ const char **keys = sorted_keys(obj, key_cmp);

	increase_indent(e, false, false);
	for (size_t i = 0; keys[i]; i++) {
		json_t *key = json_string(keys[i]);

		write_indent(e);
		if (key_is_simple(keys[i])) {
			emit_node(e, key, false, false, true, true);
			write_indicator(e, ":", false, false, false);
		} else {
			write_indicator(e, "?", true, false, true);
			emit_node(e, key, false, false, true, false);
			write_indent(e);
			write_indicator(e, ":", true, false, true);
		}
		json_decref(key);
		emit_node(e, json_object_get(obj, keys[i]), false, false, true, false);
	}
	pop_indent(e);
}

static void emit_block_sequence(struct emitter *e, json_t *arr)
{
	size_t i;
	json_t *item;

	increase_indent(e, false, e->mapping_context && !e->indention);
	json_array_foreach (arr, i, item) {
		write_indent(e);
		write_indicator(e, "-", true, false, true);
		emit_node(e, item, false, true, false, false);
	}
	pop_indent(e);
}

static void emit_flow_empty(struct emitter *e, const char *open, const char *close)
{
	write_indicator(e, open, true, true, false);
	write_indicator(e, close, false, false, false);
}

static void emit_node(struct emitter *e, json_t *v, bool root, bool seq, bool map, bool simple_key)
{
	char num[64];

	e->root_context = root;
	e->sequence_context = seq;
	e->mapping_context = map;
	e->simple_key_context = simple_key;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (json_object_size(v) == 0 || e->depth >= API_MAX_DEPTH * 2) {
			emit_flow_empty(e, "{", "}");
			return;
		}
		e->depth++;
		emit_block_mapping(e, v);
		e->depth--;
		return;
	case JSON_ARRAY:
		if (json_array_size(v) == 0 || e->depth >= API_MAX_DEPTH * 2) {
			emit_flow_empty(e, "[", "]");
			return;
		}
		e->depth++;
		emit_block_sequence(e, v);
		e->depth--;
		return;
	case JSON_STRING:
		emit_scalar(e, json_string_value(v), string_style(json_string_value(v)));
		return;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		emit_scalar(e, num, STYLE_PLAIN);
		return;
	case JSON_REAL: {
		_cleanup_buf_ sk_buf b = {0};

		format_yaml_real(&b, json_real_value(v));
		emit_scalar(e, b.data, STYLE_PLAIN);
		return;
	}
	case JSON_TRUE:
		emit_scalar(e, "true", STYLE_PLAIN);
		return;
	case JSON_FALSE:
		emit_scalar(e, "false", STYLE_PLAIN);
		return;
	case JSON_NULL:
		emit_scalar(e, "null", STYLE_PLAIN);
		return;
	}
}

void api_yaml_dump(json_t *v, sk_buf *out)
{
	struct emitter e = {.out = out, .indent = -1, .whitespace = true, .indention = true};

	emit_node(&e, v, true, false, false, false);
	/* document end: back to column 0 */
	e.indent = -1;
	write_indent(&e);
}

/* ---- JSON as Go's json.MarshalIndent(v, "", "    ") -------------------- */

static void json_string_go(sk_buf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strlen(str), w;

	sk_buf_putc(out, '"');
	for (size_t i = 0; i < len; i += w) {
		unsigned char c = s[i];
		unsigned cp;

		w = 1;
		if (c == '"' || c == '\\') {
			sk_buf_putc(out, '\\');
			sk_buf_putc(out, (char)c);
		} else if (c == '\n') {
			sk_buf_puts(out, "\\n");
		} else if (c == '\r') {
			sk_buf_puts(out, "\\r");
		} else if (c == '\t') {
			sk_buf_puts(out, "\\t");
		} else if (c == '\b') {
			sk_buf_puts(out, "\\b");
		} else if (c == '\f') {
			sk_buf_puts(out, "\\f");
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			sk_buf_printf(out, "\\u%04x", c);
		} else if (c < 0x80) {
			sk_buf_putc(out, (char)c);
		} else {
			cp = u8_decode(s, len, i, &w);
			if (cp == 0x2028 || cp == 0x2029)
				sk_buf_printf(out, "\\u%04x", cp);
			else
				sk_buf_append(out, s + i, w);
		}
	}
	sk_buf_putc(out, '"');
}

static void json_indent(sk_buf *out, int level)
{
	sk_buf_putc(out, '\n');
	for (int i = 0; i < level; i++)
		sk_buf_puts(out, "    ");
}

static void json_dump_go(json_t *v, sk_buf *out, int level)
{
	size_t i;
	json_t *item;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		_cleanup_free_ const char **keys = NULL;

		if (json_object_size(v) == 0 || level >= API_MAX_DEPTH * 2) {
			sk_buf_puts(out, "{}");
			return;
		}
		keys = sorted_keys(v, byte_cmp);
		sk_buf_putc(out, '{');
		for (i = 0; keys[i]; i++) {
			if (i)
				sk_buf_putc(out, ',');
			json_indent(out, level + 1);
			json_string_go(out, keys[i]);
			sk_buf_puts(out, ": ");
			json_dump_go(json_object_get(v, keys[i]), out, level + 1);
		}
		json_indent(out, level);
		sk_buf_putc(out, '}');
		return;
	}
	case JSON_ARRAY:
		if (json_array_size(v) == 0 || level >= API_MAX_DEPTH * 2) {
			sk_buf_puts(out, "[]");
			return;
		}
		sk_buf_putc(out, '[');
		json_array_foreach (v, i, item) {
			if (i)
				sk_buf_putc(out, ',');
			json_indent(out, level + 1);
			json_dump_go(item, out, level + 1);
		}
		json_indent(out, level);
		sk_buf_putc(out, ']');
		return;
	case JSON_STRING:
		json_string_go(out, json_string_value(v));
		return;
	case JSON_INTEGER:
		sk_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL:
		format_json_real(out, json_real_value(v));
		return;
	case JSON_TRUE:
		sk_buf_puts(out, "true");
		return;
	case JSON_FALSE:
		sk_buf_puts(out, "false");
		return;
	case JSON_NULL:
		sk_buf_puts(out, "null");
		return;
	}
}

void api_json_dump(json_t *v, sk_buf *out)
{
	json_dump_go(v, out, 0);
	sk_buf_putc(out, '\n');
}

/* ---- quantities in canonical form ------------------------------------------ */

static bool has_binary_suffix(const char *s)
{
	static const char *const bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

	for (size_t i = 0; i < SK_ARRAY_SIZE(bin); i++)
		if (sk_endswith(s, bin[i]))
			return true;
	return false;
}

/* DecimalSI: the largest SI exponent (a multiple of 3) that keeps the
 * mantissa an integer; milli-units are the finest precision kept. */
static char *decimal_si(int64_t milli)
{
	static const char *const suffix[] = {"m", "", "k", "M", "G", "T", "P", "E"};
	int64_t n = milli;
	size_t e = 0;

	if (milli == 0)
		return sk_strdup("0");
	while (n % 1000 == 0 && e + 1 < SK_ARRAY_SIZE(suffix)) {
		n /= 1000;
		e++;
	}
	return sk_asprintf("%" PRId64 "%s", n, suffix[e]);
}

/* BinarySI: values below 1024 print as decimal; others take the largest
 * power of 1024 that divides them. */
static char *binary_si(int64_t v)
{
	static const char *const suffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	size_t e = 0;

	if (v > -1024 && v < 1024)
		return decimal_si(v * 1000);
	while (v % 1024 == 0 && e + 1 < SK_ARRAY_SIZE(suffix)) {
		v /= 1024;
		e++;
	}
	return sk_asprintf("%" PRId64 "%s", v, suffix[e]);
}

char *api_quantity_string(json_t *q)
{
	const char *s = json_string_value(q);
	int64_t v;
	sk_err err = {0};

	if (json_is_integer(q))
		return decimal_si(json_integer_value(q) * 1000);
	if (!s)
		return json_is_real(q) ? sk_asprintf("%g", json_real_value(q)) : sk_strdup("");
	if (has_binary_suffix(s)) {
		if (api_quantity_value(s, &v, &err) < 0)
			return sk_strdup(s);
		return binary_si(v);
	}
	if (strpbrk(s, "eE") && !sk_endswith(s, "E")) /* DecimalExponent keeps its form */
		return sk_strdup(s);
	if (api_quantity_milli(s, &v, &err) < 0)
		return sk_strdup(s);
	return decimal_si(v);
}

/* ---- kubectl's JSONPath templates (-o jsonpath=...) --------------------------
 * The subset kubectl users write: text, {"literal"} and {'literal'},
 * {.a.b}, {$.x}, {.a['key']}, {.a[0]}, {.a[-1]}, {.a[1:3]}, {.a[*]}, {.a.*},
 * {..name} (recursive descent), filters {.items[?(@.k=="v")]} with == != <
 * > <= >= or bare existence, and {range EXPR}...{end}. Missing keys give
 * nothing (kubectl's --allow-missing-template-keys); maps and lists print
 * as compact JSON, several results are joined by a space. */

enum jp_kind { JP_TEXT, JP_EXPR, JP_RANGE, JP_END };

struct jp_node {
	enum jp_kind kind;
	char *text; /* JP_TEXT: the literal; JP_EXPR/JP_RANGE: the path */
};

struct jp_template {
	struct jp_node *nodes;
	size_t n;
};

static void jp_free(struct jp_template *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->nodes[i].text);
	free(t->nodes);
}

static void jp_add(struct jp_template *t, enum jp_kind kind, char *text)
{
	t->nodes = sk_realloc(t->nodes, (t->n + 1) * sizeof(*t->nodes));
	t->nodes[t->n++] = (struct jp_node){kind, text};
}

/* A quoted literal's value, with \n, \t, \r, \\ and quote escapes. */
static char *jp_unquote(const char *s, size_t len)
{
	sk_buf b;

	sk_buf_init(&b);
	sk_buf_puts(&b, "");
	for (size_t i = 1; i + 1 < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 2 < len) {
			c = s[++i];
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
		}
		sk_buf_putc(&b, c);
	}
	return sk_buf_steal(&b);
}

static int jp_parse_action(struct jp_template *t, const char *s, size_t len, sk_err *err)
{
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
		jp_add(t, JP_TEXT, jp_unquote(s, len));
	} else if (len == 3 && !strncmp(s, "end", 3)) {
		jp_add(t, JP_END, NULL);
	} else if (len > 5 && !strncmp(s, "range", 5) && (s[5] == ' ' || s[5] == '.')) {
		size_t skip = s[5] == ' ' ? 6 : 5;

		while (skip < len && s[skip] == ' ')
			skip++;
		jp_add(t, JP_RANGE, sk_strndup(s + skip, len - skip));
	} else if (len > 0 && (s[0] == '.' || s[0] == '$' || s[0] == '@')) {
		jp_add(t, JP_EXPR, sk_strndup(s, len));
	} else {
		return sk_err_set(err, EINVAL, "unrecognized identifier %.*s", (int)len, s);
	}
	return 0;
}

static int jp_parse(const char *tmpl, struct jp_template *t, sk_err *err)
{
	const char *p = tmpl;

	memset(t, 0, sizeof(*t));
	while (*p) {
		const char *open = strchr(p, '{'), *close;
		char quote = 0;

		if (!open) {
			jp_add(t, JP_TEXT, sk_strdup(p));
			break;
		}
		if (open > p)
			jp_add(t, JP_TEXT, sk_strndup(p, (size_t)(open - p)));
		/* the action ends at the first '}' outside quotes */
		for (close = open + 1; *close && (quote || *close != '}'); close++) {
			if (quote && *close == '\\' && close[1])
				close++;
			else if (*close == '"' || *close == '\'')
				quote = quote == *close ? 0 : quote ? quote : *close;
		}
		if (!*close)
			return sk_err_set(err, EINVAL, "unclosed action");
		if (jp_parse_action(t, open + 1, (size_t)(close - open - 1), err) < 0)
			return -1;
		p = close + 1;
	}
	return 0;
}

/* ---- evaluation ---- */

struct jp_values {
	json_t **v; /* borrowed */
	size_t n;
};

static void jv_push(struct jp_values *out, json_t *v)
{
	out->v = sk_realloc(out->v, (out->n + 1) * sizeof(*out->v));
	out->v[out->n++] = v;
}

static void jv_free(struct jp_values *v)
{
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

static int jp_eval_path(const char *path, json_t *root, json_t *cur, struct jp_values *out,
			sk_err *err);

static void jp_children(json_t *v, struct jp_values *out)
{
	size_t i;
	json_t *item;

	if (json_is_object(v)) {
		_cleanup_free_ const char **keys = sorted_keys(v, byte_cmp);

		for (i = 0; keys[i]; i++)
			jv_push(out, json_object_get(v, keys[i]));
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, item)
			jv_push(out, item);
	}
}

/* `..`: every container at or below each value, parents first. */
static void jp_recursive(json_t *v, struct jp_values *out, int depth)
{
	struct jp_values kids = {0};

	if (depth > API_MAX_DEPTH * 2)
		return;
	jp_children(v, &kids);
	if (kids.n > 0) {
		jv_push(out, v);
		for (size_t i = 0; i < kids.n; i++)
			jp_recursive(kids.v[i], out, depth + 1);
	}
	jv_free(&kids);
}

static const char *jp_type(json_t *v)
{
	return json_is_object(v)    ? "map[string]interface {}"
	       : json_is_string(v)  ? "string"
	       : json_is_integer(v) ? "int64"
	       : json_is_real(v)    ? "float64"
	       : json_is_boolean(v) ? "bool"
				    : "<nil>";
}

static bool jp_compare(json_t *l, const char *op, json_t *r)
{
	int c;

	if (json_is_string(l) && json_is_string(r))
		c = strcmp(json_string_value(l), json_string_value(r));
	else if (json_is_number(l) && json_is_number(r))
		c = json_number_value(l) < json_number_value(r)	  ? -1
		    : json_number_value(l) > json_number_value(r) ? 1
								  : 0;
	else if (json_is_boolean(l) && json_is_boolean(r))
		c = json_is_true(l) == json_is_true(r) ? 0 : 1;
	else
		return !strcmp(op, "!=");
	if (!strcmp(op, "=="))
		return c == 0;
	if (!strcmp(op, "!="))
		return c != 0;
	if (!strcmp(op, "<"))
		return c < 0;
	if (!strcmp(op, ">"))
		return c > 0;
	if (!strcmp(op, "<="))
		return c <= 0;
	return c >= 0;
}

/* A filter's right-hand side: a quoted string, a number, true/false. */
static json_t *jp_literal(const char *s)
{
	size_t len = strlen(s);
	char *end;
	double d;

	if (len >= 2 && (s[0] == '"' || s[0] == '\'')) {
		char *u = jp_unquote(s, len);
		json_t *v = json_string(u);

		free(u);
		return v;
	}
	if (!strcmp(s, "true") || !strcmp(s, "false"))
		return json_boolean(!strcmp(s, "true"));
	d = strtod(s, &end);
	if (end != s && !*end)
		return d == (double)(json_int_t)d ? json_integer((json_int_t)d) : json_real(d);
	return NULL;
}

static int jp_filter(const char *expr, json_t *root, struct jp_values *in, struct jp_values *out,
		     sk_err *err)
{
	static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
	_cleanup_free_ char *left = NULL;
	_cleanup_free_ char *right = NULL;
	const char *op = NULL;

	for (size_t i = 0; i < SK_ARRAY_SIZE(ops) && !op; i++) {
		const char *at = strstr(expr, ops[i]);

		if (at) {
			op = ops[i];
			left = sk_strndup(expr, (size_t)(at - expr));
			right = sk_strdup(at + strlen(ops[i]));
		}
	}
	if (!op)
		left = sk_strdup(expr);
	for (char *s = left; s && *s; s++) /* trim */
		if (*s == ' ')
			*s = '\0';
	while (right && *right == ' ')
		memmove(right, right + 1, strlen(right));
	for (size_t l = right ? strlen(right) : 0; l > 0 && right[l - 1] == ' '; l--)
		right[l - 1] = '\0';
	for (size_t i = 0; i < in->n; i++) {
		struct jp_values candidates = {0};

		jp_children(in->v[i], &candidates);
		for (size_t c = 0; c < candidates.n; c++) {
			struct jp_values lv = {0};
			json_t *lit = NULL;
			bool keep;

			if (jp_eval_path(left, root, candidates.v[c], &lv, err) < 0) {
				jv_free(&candidates);
				return -1;
			}
			if (!op) {
				keep = lv.n > 0 && !json_is_false(lv.v[0]) &&
				       !json_is_null(lv.v[0]);
			} else {
				lit = jp_literal(right);
				keep = lv.n > 0 && lit && jp_compare(lv.v[0], op, lit);
			}
			if (keep)
				jv_push(out, candidates.v[c]);
			json_decref(lit);
			jv_free(&lv);
		}
		jv_free(&candidates);
	}
	return 0;
}

static int jp_index(const char *spec, struct jp_values *in, struct jp_values *out, sk_err *err)
{
	long a = 0, b = 0;
	bool slice = strchr(spec, ':') != NULL;
	char *end;

	a = strtol(spec, &end, 10);
	if (slice) {
		bool has_a = end != spec, has_b;

		spec = strchr(spec, ':') + 1;
		b = strtol(spec, &end, 10);
		has_b = end != spec;
		for (size_t i = 0; i < in->n; i++) {
			long len, lo, hi;

			if (!json_is_array(in->v[i]))
				return sk_err_set(err, EINVAL, "%s is not array or slice",
						  jp_type(in->v[i]));
			len = (long)json_array_size(in->v[i]);
			lo = has_a ? (a < 0 ? a + len : a) : 0;
			hi = has_b ? (b < 0 ? b + len : b) : len;
			lo = lo < 0 ? 0 : lo > len ? len : lo;
			hi = hi < lo ? lo : hi > len ? len : hi;
			for (long k = lo; k < hi; k++)
				jv_push(out, json_array_get(in->v[i], (size_t)k));
		}
		return 0;
	}
	if (*end)
		return sk_err_set(err, EINVAL, "invalid array index %s", spec);
	for (size_t i = 0; i < in->n; i++) {
		long len, k;

		if (!json_is_array(in->v[i]))
			return sk_err_set(err, EINVAL, "%s is not array or slice",
					  jp_type(in->v[i]));
		len = (long)json_array_size(in->v[i]);
		k = a < 0 ? a + len : a;
		if (k < 0 || k >= len)
			return sk_err_set(err, EINVAL,
					  "array index out of bounds: index %ld, length %ld", a,
					  len);
		jv_push(out, json_array_get(in->v[i], (size_t)k));
	}
	return 0;
}

static void jp_field(const char *name, struct jp_values *in, struct jp_values *out)
{
	for (size_t i = 0; i < in->n; i++) {
		if (!strcmp(name, "*")) {
			jp_children(in->v[i], out);
		} else if (json_is_object(in->v[i])) {
			json_t *v = json_object_get(in->v[i], name);

			if (v)
				jv_push(out, v);
		}
	}
}

/* One bracket step at p ("[...]"); *next gets the text after it. */
static int jp_bracket(const char *p, json_t *root, struct jp_values *cur, struct jp_values *next,
		      const char **rest, sk_err *err)
{
	const char *close;
	_cleanup_free_ char *inner = NULL;

	if (p[1] == '?' && p[2] == '(') {
		close = strstr(p, ")]");
		if (!close)
			return sk_err_set(err, EINVAL, "unclosed filter");
		inner = sk_strndup(p + 3, (size_t)(close - p - 3));
		*rest = close + 2;
		return jp_filter(inner, root, cur, next, err);
	}
	close = strchr(p, ']');
	if (!close)
		return sk_err_set(err, EINVAL, "unclosed array expect ]");
	inner = sk_strndup(p + 1, (size_t)(close - p - 1));
	*rest = close + 1;
	if (!strcmp(inner, "*")) {
		for (size_t i = 0; i < cur->n; i++) {
			if (!json_is_array(cur->v[i]) && !json_is_object(cur->v[i]))
				continue;
			jp_children(cur->v[i], next);
		}
		return 0;
	}
	if (inner[0] == '\'') {
		_cleanup_free_ char *key = jp_unquote(inner, strlen(inner));

		jp_field(key, cur, next);
		return 0;
	}
	return jp_index(inner, cur, next, err);
}

/* A field name after '.', with "\." standing for a dot in it. */
static char *jp_name(const char *p, const char **rest)
{
	sk_buf b;

	sk_buf_init(&b);
	sk_buf_puts(&b, "");
	while (*p && *p != '.' && *p != '[') {
		if (*p == '\\' && p[1])
			p++;
		sk_buf_putc(&b, *p++);
	}
	*rest = p;
	return sk_buf_steal(&b);
}

static int jp_eval_path(const char *path, json_t *root, json_t *cur, struct jp_values *out,
			sk_err *err)
{
	struct jp_values vals = {0};
	const char *p = path;

	jv_push(&vals, *p == '$' ? root : cur);
	if (*p == '$' || *p == '@')
		p++;
	while (*p) {
		struct jp_values next = {0};

		if (p[0] == '.' && p[1] == '.') {
			for (size_t i = 0; i < vals.n; i++)
				jp_recursive(vals.v[i], &next, 0);
			p += 1; /* the second '.' starts the field step */
		} else if (*p == '.') {
			_cleanup_free_ char *name = jp_name(p + 1, &p);

			if (*name)
				jp_field(name, &vals, &next);
			else
				for (size_t i = 0; i < vals.n; i++)
					jv_push(&next, vals.v[i]);
		} else if (*p == '[') {
			if (jp_bracket(p, root, &vals, &next, &p, err) < 0) {
				jv_free(&vals);
				jv_free(&next);
				return -1;
			}
		} else {
			jv_free(&vals);
			return sk_err_set(err, EINVAL, "unrecognized character in action: %c", *p);
		}
		jv_free(&vals);
		vals = next;
	}
	*out = vals;
	return 0;
}

static void json_compact_go(json_t *v, sk_buf *out, int depth)
{
	size_t i;
	json_t *item;

	if (json_is_object(v) && depth < API_MAX_DEPTH * 2) {
		_cleanup_free_ const char **keys = sorted_keys(v, byte_cmp);

		sk_buf_putc(out, '{');
		for (i = 0; keys[i]; i++) {
			if (i)
				sk_buf_putc(out, ',');
			json_string_go(out, keys[i]);
			sk_buf_putc(out, ':');
			json_compact_go(json_object_get(v, keys[i]), out, depth + 1);
		}
		sk_buf_putc(out, '}');
	} else if (json_is_array(v) && depth < API_MAX_DEPTH * 2) {
		sk_buf_putc(out, '[');
		json_array_foreach (v, i, item) {
			if (i)
				sk_buf_putc(out, ',');
			json_compact_go(item, out, depth + 1);
		}
		sk_buf_putc(out, ']');
	} else {
		json_dump_go(v, out, 0);
	}
}

static void jp_print(json_t *v, sk_buf *out)
{
	if (json_is_string(v)) {
		sk_buf_puts(out, json_string_value(v));
	} else if (json_is_real(v)) {
		/* fmt's %v of a float64 */
		char digits[32];
		int dp;
		double a = fabs(json_real_value(v));

		if (a == 0) {
			sk_buf_puts(out, "0");
			return;
		}
		if (json_real_value(v) < 0)
			sk_buf_putc(out, '-');
		shortest_digits(a, digits, sizeof(digits), &dp);
		if (dp - 1 < -4 || dp - 1 >= 21)
			format_exp(out, digits, dp);
		else
			format_fixed(out, digits, dp);
	} else if (json_is_null(v)) {
		sk_buf_puts(out, "<nil>");
	} else {
		json_compact_go(v, out, 0);
	}
}

static int jp_exec(struct jp_template *t, size_t from, size_t to, json_t *root, json_t *cur,
		   sk_buf *out, sk_err *err)
{
	for (size_t i = from; i < to; i++) {
		struct jp_node *n = &t->nodes[i];
		struct jp_values vals = {0};

		if (n->kind == JP_TEXT) {
			sk_buf_puts(out, n->text);
			continue;
		}
		if (n->kind == JP_END)
			return sk_err_set(err, EINVAL, "not in range, nothing to end");
		if (jp_eval_path(n->text, root, cur, &vals, err) < 0)
			return -1;
		if (n->kind == JP_EXPR) {
			for (size_t k = 0; k < vals.n; k++) {
				if (k)
					sk_buf_putc(out, ' ');
				jp_print(vals.v[k], out);
			}
			jv_free(&vals);
			continue;
		}
		/* range: the body runs for each value, up to the matching end */
		size_t end = i + 1;
		int depth = 1;

		for (; end < to; end++) {
			depth += t->nodes[end].kind == JP_RANGE;
			depth -= t->nodes[end].kind == JP_END;
			if (depth == 0)
				break;
		}
		if (end >= to) {
			jv_free(&vals);
			return sk_err_set(err, EINVAL, "unclosed range");
		}
		if (vals.n == 1 && json_is_array(vals.v[0])) {
			json_t *arr = vals.v[0];

			vals.n = 0;
			jp_children(arr, &vals);
		}
		for (size_t k = 0; k < vals.n; k++) {
			if (jp_exec(t, i + 1, end, root, vals.v[k], out, err) < 0) {
				jv_free(&vals);
				return -1;
			}
		}
		jv_free(&vals);
		i = end;
	}
	return 0;
}

int api_jsonpath(const char *tmpl, json_t *root, sk_buf *out, sk_err *err)
{
	struct jp_template t;
	sk_buf b;
	int r;

	if (jp_parse(tmpl, &t, err) < 0) {
		char why[SK_ERR_MSG_MAX];

		jp_free(&t);
		snprintf(why, sizeof(why), "%s", err->msg);
		return sk_err_set(err, EINVAL, "error parsing jsonpath %s, %s", tmpl, why);
	}
	sk_buf_init(&b);
	r = jp_exec(&t, 0, t.n, root, root, &b, err);
	jp_free(&t);
	if (r < 0) {
		sk_buf_free(&b);
		return sk_err_wrap(err, "error executing jsonpath \"%s\": Error executing template",
				   tmpl);
	}
	sk_buf_puts(out, b.data ? b.data : "");
	sk_buf_free(&b);
	return 0;
}
