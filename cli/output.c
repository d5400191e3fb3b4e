/* Printing as kubectl's printers do: the server's Tables (columns of
 * priority 0, all of them with -o wide), with a NAMESPACE column for -A,
 * kind/name for several kinds, -L label columns and --show-labels; all
 * laid out by the tab writer kubectl uses (minwidth 6, padding 3,
 * remembered widths). */
#include "kube_internal.h"

#include <errno.h>
#include <math.h>
#include <unistd.h>

int cli_output_parse(const char *s, enum cli_output *out, sk_err *err)
{
	static const struct {
		const char *name;
		enum cli_output v;
	} formats[] = {{"wide", CLI_OUT_WIDE},
		       {"yaml", CLI_OUT_YAML},
		       {"json", CLI_OUT_JSON},
		       {"name", CLI_OUT_NAME}};

	*out = CLI_OUT_TABLE;
	if (!s || !*s)
		return 0;
	if (sk_startswith(s, "jsonpath=")) {
		*out = CLI_OUT_JSONPATH;
		return 0;
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(formats); i++) {
		if (!strcmp(s, formats[i].name)) {
			*out = formats[i].v;
			return 0;
		}
	}
	return sk_err_set(err, EINVAL,
			  "error: unable to match a printer suitable for the output format \"%s\", "
			  "allowed formats are: json,jsonpath,name,wide,yaml",
			  s);
}

static void upper_into(sk_tabwriter *tw, const char *s)
{
	for (; s && *s; s++)
		sk_tabwriter_printf(tw, "%c", *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
}

/* Go's fmt %v of a float64: shortest digits, exponent below 1e-4 or from
 * 1e21 on. */
static void print_float(sk_tabwriter *tw, double v)
{
	char buf[64];

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (strchr(buf, 'e') && fabs(v) >= 1e-4 && fabs(v) < 1e21)
		snprintf(buf, sizeof(buf), "%.17g", v);
	sk_tabwriter_puts(tw, buf);
}

static void print_cell(sk_tabwriter *tw, json_t *cell)
{
	switch (json_typeof(cell)) {
	case JSON_STRING:
		sk_tabwriter_puts(tw, json_string_value(cell));
		break;
	case JSON_INTEGER:
		sk_tabwriter_printf(tw, "%" JSON_INTEGER_FORMAT, json_integer_value(cell));
		break;
	case JSON_REAL:
		print_float(tw, json_real_value(cell));
		break;
	case JSON_TRUE:
		sk_tabwriter_puts(tw, "true");
		break;
	case JSON_FALSE:
		sk_tabwriter_puts(tw, "false");
		break;
	case JSON_NULL:
		sk_tabwriter_puts(tw, "<nil>");
		break;
	default: {
		_cleanup_free_ char *s = json_dumps(cell, JSON_COMPACT);

		sk_tabwriter_puts(tw, s);
	}
	}
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* labels.FormatLabels: k=v pairs sorted by key, "<none>" when empty. */
static void print_labels(sk_tabwriter *tw, json_t *labels)
{
	size_t n = json_object_size(labels), i = 0;
	_cleanup_free_ const char **keys = sk_calloc(n + 1, sizeof(*keys));
	const char *k;
	json_t *v;

	if (n == 0) {
		sk_tabwriter_puts(tw, "<none>");
		return;
	}
	json_object_foreach (labels, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), str_cmp);
	for (i = 0; i < n; i++)
		sk_tabwriter_printf(tw, "%s%s=%s", i ? "," : "", keys[i],
				    json_string_value(json_object_get(labels, keys[i])) ?: "");
}

static bool column_visible(json_t *col, const struct cli_table_opts *o)
{
	return o->wide || json_integer_value(json_object_get(col, "priority")) == 0;
}

static void print_header(json_t *cols, const struct cli_table_opts *o, sk_tabwriter *tw)
{
	size_t i;
	json_t *col;
	bool first = true;

	if (o->with_namespace) {
		sk_tabwriter_puts(tw, "NAMESPACE");
		first = false;
	}
	json_array_foreach (cols, i, col) {
		if (!column_visible(col, o))
			continue;
		if (!first)
			sk_tabwriter_puts(tw, "\t");
		first = false;
		upper_into(tw, json_string_value(json_object_get(col, "name")));
	}
	for (char **l = o->label_columns; l && *l; l++) {
		const char *base = strrchr(*l, '/');

		sk_tabwriter_puts(tw, "\t");
		upper_into(tw, base ? base + 1 : *l);
	}
	if (o->show_labels)
		sk_tabwriter_puts(tw, "\tLABELS");
	sk_tabwriter_puts(tw, "\n");
}

static void print_row(json_t *row, json_t *cols, const struct cli_table_opts *o, sk_tabwriter *tw)
{
	json_t *meta = json_object_get(json_object_get(row, "object"), "metadata");
	json_t *labels = json_object_get(meta, "labels");
	json_t *cells = json_object_get(row, "cells"), *cell;
	bool first = true;
	size_t i;

	if (o->with_namespace) {
		sk_tabwriter_puts(tw, json_string_value(json_object_get(meta, "namespace")) ?: "");
		first = false;
	}
	json_array_foreach (cells, i, cell) {
		json_t *col = json_array_get(cols, i);

		if (!col)
			break;
		if (!column_visible(col, o))
			continue;
		if (!first)
			sk_tabwriter_puts(tw, "\t");
		first = false;
		if (o->kind_prefix &&
		    sk_streq(json_string_value(json_object_get(col, "format")), "name"))
			sk_tabwriter_printf(tw, "%s/", o->kind_prefix);
		print_cell(tw, cell);
	}
	for (char **l = o->label_columns; l && *l; l++)
		sk_tabwriter_printf(tw, "\t%s",
				    json_string_value(json_object_get(labels, *l)) ?: "");
	if (o->show_labels) {
		sk_tabwriter_puts(tw, "\t");
		print_labels(tw, labels);
	}
	sk_tabwriter_puts(tw, "\n");
}

size_t cli_table_print(json_t *table, const struct cli_table_opts *o, bool header, sk_tabwriter *tw)
{
	json_t *cols = json_object_get(table, "columnDefinitions");
	json_t *rows = json_object_get(table, "rows"), *row;
	size_t i;

	if (header && !o->no_headers)
		print_header(cols, o, tw);
	json_array_foreach (rows, i, row)
		print_row(row, cols, o, tw);
	return json_array_size(rows);
}

const char *cli_meta(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

void cli_flush_out(sk_buf *buf)
{
	if (buf->len > 0) {
		fwrite(buf->data, 1, buf->len, stdout);
		fflush(stdout);
	}
	sk_buf_reset(buf);
}

void cli_print_result(const struct cli_resource *r, json_t *obj, enum cli_output out,
		      const char *verb, sk_buf *buf)
{
	_cleanup_free_ char *kind = cli_resource_kind_name(r);
	const char *name = cli_meta(obj, "name");

	switch (out) {
	case CLI_OUT_YAML:
		api_yaml_dump(obj, buf);
		break;
	case CLI_OUT_JSON:
		api_json_dump(obj, buf);
		break;
	case CLI_OUT_NAME:
		sk_buf_printf(buf, "%s/%s\n", kind, name ? name : "");
		break;
	default:
		sk_buf_printf(buf, "%s/%s %s\n", kind, name ? name : "", verb);
	}
	cli_flush_out(buf);
}
