/* Go's text/tabwriter, the part kubectl uses (left-aligned, space
 * padding, no flags): kubectl's tables, `get all` and `describe` sections
 * line up exactly as kubectl's do only if the column-block rule is the
 * same, so this follows text/tabwriter's format() step for step. */
#include "common.h"

#include <string.h>

struct tw_cell {
	const char *text;
	size_t size;  /* bytes */
	size_t width; /* characters */
};

struct tw_line {
	struct tw_cell *cells;
	size_t n;
};

struct tw_state {
	struct tw_line *lines;
	size_t nlines;
	bool last_open; /* the last line had no '\n' */
	int *widths;
	size_t nwidths;
	int minwidth, padding;
	sk_tabwriter *tw;
	sk_buf *out;
};

void sk_tabwriter_init(sk_tabwriter *t, int minwidth, int padding, bool remember)
{
	*t = (sk_tabwriter){.minwidth = minwidth, .padding = padding, .remember = remember};
	sk_buf_init(&t->text);
}

void sk_tabwriter_forget(sk_tabwriter *t)
{
	free(t->maxwidths);
	t->maxwidths = NULL;
	t->nmaxwidths = 0;
}

void sk_tabwriter_puts(sk_tabwriter *t, const char *s)
{
	sk_buf_puts(&t->text, s);
}

void sk_tabwriter_printf(sk_tabwriter *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = sk_vasprintf(fmt, ap);
	va_end(ap);
	sk_buf_puts(&t->text, s);
	free(s);
}

void sk_tabwriter_free(sk_tabwriter *t)
{
	sk_buf_free(&t->text);
	sk_tabwriter_forget(t);
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

/* Split the buffered text into lines of cells. */
static void tw_split(struct tw_state *st, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		struct tw_line *line;

		st->lines = sk_realloc(st->lines, (st->nlines + 1) * sizeof(*st->lines));
		line = &st->lines[st->nlines++];
		*line = (struct tw_line){0};
		for (const char *c = p;;) {
			const char *tab = memchr(c, '\t', (size_t)(eol - c));
			const char *cend = tab ? tab : eol;

			line->cells = sk_realloc(line->cells, (line->n + 1) * sizeof(*line->cells));
			line->cells[line->n++] = (struct tw_cell){
				c, (size_t)(cend - c), utf8_chars(c, (size_t)(cend - c))};
			if (!tab)
				break;
			c = tab + 1;
		}
		st->last_open = !nl;
		p = nl ? nl + 1 : end;
	}
}

static void tw_write_lines(struct tw_state *st, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		struct tw_line *line = &st->lines[i];

		for (size_t j = 0; j < line->n; j++) {
			struct tw_cell *c = &line->cells[j];

			sk_buf_append(st->out, c->text, c->size);
			if (j < st->nwidths)
				for (size_t k = c->width; k < (size_t)st->widths[j]; k++)
					sk_buf_putc(st->out, ' ');
		}
		if (!(i + 1 == st->nlines && st->last_open))
			sk_buf_putc(st->out, '\n');
	}
}

/* RememberWidths: the width of column len(widths) is at least what it was
 * before, and what it is now is remembered. */
static int tw_remember(struct tw_state *st, int width)
{
	sk_tabwriter *t = st->tw;
	size_t col = st->nwidths;

	if (!t->remember)
		return width;
	if (t->nmaxwidths < col) {
		t->maxwidths = sk_realloc(t->maxwidths, col * sizeof(*t->maxwidths));
		for (size_t i = t->nmaxwidths; i < col; i++)
			t->maxwidths[i] = st->widths[i];
		t->nmaxwidths = col;
	}
	if (t->nmaxwidths == col) {
		t->maxwidths = sk_realloc(t->maxwidths, (col + 1) * sizeof(*t->maxwidths));
		t->maxwidths[t->nmaxwidths++] = width;
	} else if (t->maxwidths[col] > width) {
		width = t->maxwidths[col];
	} else {
		t->maxwidths[col] = width;
	}
	return width;
}

/* text/tabwriter's format(): find the column blocks of column
 * len(widths) within [line0, line1), recursively. */
static void tw_format(struct tw_state *st, size_t line0, size_t line1)
{
	size_t column = st->nwidths;

	for (size_t this = line0; this < line1; this ++) {
		int width;

		if (column + 1 >= st->lines[this].n)
			continue;
		tw_write_lines(st, line0, this);
		line0 = this;
		width = st->minwidth;
		for (; this < line1; this ++) {
			struct tw_line *line = &st->lines[this];
			int w;

			if (column + 1 >= line->n)
				break;
			w = (int)line->cells[column].width + st->padding;
			if (w > width)
				width = w;
		}
		width = tw_remember(st, width);
		st->widths = sk_realloc(st->widths, (st->nwidths + 1) * sizeof(*st->widths));
		st->widths[st->nwidths++] = width;
		tw_format(st, line0, this);
		st->nwidths--;
		line0 = this; /* `this` lacks the column: skipping it is safe */
	}
	tw_write_lines(st, line0, line1);
}

void sk_tabwriter_flush(sk_tabwriter *t, sk_buf *out)
{
	struct tw_state st = {.minwidth = t->minwidth, .padding = t->padding, .tw = t, .out = out};

	tw_split(&st, t->text.data ? t->text.data : "", t->text.len);
	tw_format(&st, 0, st.nlines);
	for (size_t i = 0; i < st.nlines; i++)
		free(st.lines[i].cells);
	free(st.lines);
	free(st.widths);
	sk_buf_reset(&t->text);
}
