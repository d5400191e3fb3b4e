/* The runtime's on-disk and on-socket format: lines of space-separated
 * tokens, the first naming what the line holds. Tokens are percent-encoded
 * (bytes <= 0x20, '%' and 0x7f), so any string survives, and a lone "%"
 * is the empty string. Plain text keeps state files readable with cat and
 * keeps the runtime free of a JSON library (see DESIGN.md). */
#include "runtime_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void rec_put_token(sk_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!*s) {
		sk_buf_putc(b, '%');
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p == '%' || *p == 0x7f) {
			char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			sk_buf_append(b, esc, 3);
		} else {
			sk_buf_putc(b, (char)*p);
		}
	}
}

void rt_rec_line(sk_buf *b, const char *key, char *const *tokens, size_t n)
{
	sk_buf_puts(b, key);
	for (size_t i = 0; i < n; i++) {
		sk_buf_putc(b, ' ');
		rec_put_token(b, tokens[i] ? tokens[i] : "");
	}
	sk_buf_putc(b, '\n');
}

void rt_rec_str(sk_buf *b, const char *key, const char *value)
{
	char *tok[1] = {(char *)value};

	if (value)
		rt_rec_line(b, key, tok, 1);
}

void rt_rec_int(sk_buf *b, const char *key, int64_t value)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)value);
	rt_rec_str(b, key, num);
}

void rt_rec_strv(sk_buf *b, const char *key, char *const *v)
{
	if (v)
		rt_rec_line(b, key, v, sk_strv_len(v));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode a token in place. */
static void rec_decode(char *s)
{
	char *out = s;

	for (char *p = s; *p; p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			*out++ = (char)(hexval(p[1]) << 4 | hexval(p[2]));
			p += 2;
		} else if (*p == '%') {
			continue; /* the empty-string marker */
		} else {
			*out++ = *p;
		}
	}
	*out = '\0';
}

int rt_rec_next(struct rt_rec_reader *r)
{
	char *line, *nl;

	r->n = 0;
	while (r->pos && *r->pos) {
		line = r->pos;
		nl = strchr(line, '\n');
		if (nl) {
			*nl = '\0';
			r->pos = nl + 1;
		} else {
			r->pos = NULL;
		}
		r->lineno++;
		if (!*line)
			continue;
		for (char *save = NULL, *t = strtok_r(line, " ", &save); t;
		     t = strtok_r(NULL, " ", &save)) {
			if (r->n + 1 >= r->cap) {
				r->cap = r->cap ? r->cap * 2 : 16;
				r->tok = sk_realloc(r->tok, r->cap * sizeof(char *));
			}
			rec_decode(t);
			r->tok[r->n++] = t;
		}
		r->tok[r->n] = NULL;
		return 1;
	}
	return 0;
}

void rt_rec_reader_init(struct rt_rec_reader *r, char *text)
{
	memset(r, 0, sizeof(*r));
	r->pos = text;
}

void rt_rec_reader_free(struct rt_rec_reader *r)
{
	free(r->tok);
	r->tok = NULL;
}

int rt_rec_int_arg(const struct rt_rec_reader *r, size_t i, int64_t *out, sk_err *err)
{
	if (i >= r->n)
		return sk_err_set(err, EINVAL, "line %d: \"%s\" needs a value", r->lineno,
				  r->tok[0]);
	if (sk_parse_int64(r->tok[i], INT64_MIN, INT64_MAX, out, err) < 0)
		return sk_err_wrap(err, "line %d: %s", r->lineno, r->tok[0]);
	return 0;
}

char *rt_rec_dup_arg(const struct rt_rec_reader *r, size_t i)
{
	return i < r->n ? sk_strdup(r->tok[i]) : sk_strdup("");
}

char **rt_rec_strv_args(const struct rt_rec_reader *r, size_t from)
{
	char **v = sk_calloc(r->n + 1, sizeof(char *));
	size_t k = 0;

	for (size_t i = from; i < r->n; i++)
		v[k++] = sk_strdup(r->tok[i]);
	v[k] = NULL;
	return v;
}

/* State files are replaced by rename, so a reader (or an inotify watcher)
 * sees the old or the new file, never half of one. Unlike
 * sk_write_file_atomic there is no fsync: the runtime's state describes
 * processes and mounts that a reboot ends anyway, and the status file is
 * rewritten on every container event (an fsync on a disk costs ms). */
int rt_write_state(const char *path, const char *text, mode_t mode, sk_err *err)
{
	_cleanup_free_ char *tmp = sk_asprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return sk_err_sys(err, errno, "create %s", tmp);
	if (sk_write_all(fd, text, strlen(text)) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return sk_err_sys(err, e, "write %s", tmp);
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sk_err_sys(err, e, "rename %s", tmp);
	}
	return 0;
}
