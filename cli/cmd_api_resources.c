/* skiff api-resources: the resource types the server offers, from
 * discovery, in kubectl's columns (NAME SHORTNAMES APIVERSION NAMESPACED
 * KIND; -o wide adds VERBS and CATEGORIES) and order (the core group
 * first, then groups by name, each in the server's order). */
#include "kube_internal.h"

#include <errno.h>

#define USAGE                                                                                   \
	"usage: skiff api-resources [-o wide|name] [--namespaced=true|false] [--api-group=G]\n" \
	"                           [--verbs=V,...] [--sort-by=name|kind] [--no-headers]\n"     \
	"Print the resource types the server supports, from discovery.\n"

struct ar_opts {
	const char *output, *api_group, *sort_by, *namespaced_s;
	char **verbs;
	bool no_headers;
};

static int group_cmp(const void *a, const void *b)
{
	const struct cli_resource *x = *(const struct cli_resource *const *)a;
	const struct cli_resource *y = *(const struct cli_resource *const *)b;
	int r = strcmp(x->group, y->group);

	return r ? r : (x < y ? -1 : x > y);
}

static int name_cmp(const void *a, const void *b)
{
	const struct cli_resource *x = *(const struct cli_resource *const *)a;
	const struct cli_resource *y = *(const struct cli_resource *const *)b;
	int r = strcmp(x->resource, y->resource);

	return r ? r : (x < y ? -1 : x > y);
}

static int kind_cmp(const void *a, const void *b)
{
	const struct cli_resource *x = *(const struct cli_resource *const *)a;
	const struct cli_resource *y = *(const struct cli_resource *const *)b;
	int r = strcmp(x->kind, y->kind);

	return r ? r : (x < y ? -1 : x > y);
}

static char *joined(char **v)
{
	sk_buf b;

	sk_buf_init(&b);
	sk_buf_puts(&b, "");
	for (size_t i = 0; v && v[i]; i++)
		sk_buf_printf(&b, "%s%s", i ? "," : "", v[i]);
	return sk_buf_steal(&b);
}

static bool has_verbs(const struct cli_resource *r, char **verbs)
{
	for (; verbs && *verbs; verbs++) {
		bool found = false;

		for (char **v = r->verbs; v && *v && !found; v++)
			found = !strcmp(*v, *verbs);
		if (!found)
			return false;
	}
	return true;
}

static bool wanted(const struct cli_resource *r, struct ar_opts *o)
{
	if (o->api_group && strcmp(r->group, o->api_group) != 0)
		return false;
	if (o->namespaced_s && r->namespaced != !strcmp(o->namespaced_s, "true"))
		return false;
	return has_verbs(r, o->verbs);
}

static void print_row(sk_tabwriter *tw, const struct cli_resource *r, bool wide)
{
	_cleanup_free_ char *shorts = joined(r->short_names);
	_cleanup_free_ char *av = cli_resource_api_version(r);

	sk_tabwriter_printf(tw, "%s\t%s\t%s\t%s\t%s", r->resource, shorts, av,
			    r->namespaced ? "true" : "false", r->kind);
	if (wide) {
		_cleanup_free_ char *verbs = joined(r->verbs);
		_cleanup_free_ char *cats = joined(r->categories);

		sk_tabwriter_printf(tw, "\t%s\t%s", verbs, cats);
	}
	sk_tabwriter_puts(tw, "\n");
}

static int cmd_api_resources(int argc, char **argv)
{
	struct ar_opts o = {0};
	_cleanup_strv_ char **args = NULL;
	struct cli_flag flags[] = {
		{"output", 'o', CLI_FLAG_STRING, &o.output, NULL},
		{"api-group", 0, CLI_FLAG_STRING, &o.api_group, NULL},
		{"namespaced", 0, CLI_FLAG_STRING, &o.namespaced_s, NULL},
		{"verbs", 0, CLI_FLAG_STRINGS, &o.verbs, NULL},
		{"sort-by", 0, CLI_FLAG_STRING, &o.sort_by, NULL},
		{"no-headers", 0, CLI_FLAG_BOOL, &o.no_headers, NULL},
		{0},
	};
	struct cli_client c;
	_cleanup_free_ const struct cli_resource **list = NULL;
	bool wide, names;
	sk_tabwriter tw;
	sk_buf out;
	sk_err err = {0};
	size_t n = 0;

	if (cli_parse_flags(argc, argv, flags, USAGE, &args, &err) < 0)
		return cli_failf("error: %s", err.msg);
	wide = sk_streq(o.output, "wide");
	names = sk_streq(o.output, "name");
	if (o.output && !wide && !names) {
		sk_strv_free(o.verbs);
		return cli_failf("error: --output %s is not available", o.output);
	}
	if (o.sort_by && strcmp(o.sort_by, "name") && strcmp(o.sort_by, "kind")) {
		sk_strv_free(o.verbs);
		return cli_failf("error: --sort-by accepts only name or kind");
	}
	if (cli_client_open(&c, &err) < 0 || cli_discover(&c, true, &err) < 0) {
		sk_strv_free(o.verbs);
		return cli_fail(&err);
	}
	list = sk_calloc(c.nresources + 1, sizeof(*list));
	for (size_t i = 0; i < c.nresources; i++)
		if (wanted(&c.resources[i], &o))
			list[n++] = &c.resources[i];
	qsort(list, n, sizeof(*list),
	      sk_streq(o.sort_by, "name")   ? name_cmp
	      : sk_streq(o.sort_by, "kind") ? kind_cmp
					    : group_cmp);
	sk_tabwriter_init(&tw, 6, 3, true);
	sk_buf_init(&out);
	if (!names && !o.no_headers)
		sk_tabwriter_puts(&tw,
				  wide ? "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND\tVERBS\t"
					 "CATEGORIES\n"
				       : "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND\n");
	for (size_t i = 0; i < n; i++) {
		if (names)
			sk_buf_printf(&out, "%s%s%s\n", list[i]->resource,
				      *list[i]->group ? "." : "", list[i]->group);
		else
			print_row(&tw, list[i], wide);
	}
	sk_tabwriter_flush(&tw, &out);
	cli_flush_out(&out);
	sk_buf_free(&out);
	sk_tabwriter_free(&tw);
	sk_strv_free(o.verbs);
	cli_client_close(&c);
	return 0;
}
SK_COMMAND(api_resources, "api-resources", cmd_api_resources,
	   "print the resource types the server supports");
