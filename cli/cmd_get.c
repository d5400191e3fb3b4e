/* skiff get: kubectl get. Tables come from the server (Accept: the Table
 * triple kubectl sends), so columns, ages and statuses are the server's
 * and skiff only lays them out; -o yaml|json|name ask for the objects
 * themselves. -w keeps a watch open from the list's resourceVersion and
 * prints each event's row under the same, remembered, column widths. */
#include "kube_internal.h"

#include <errno.h>

#define USAGE                                                                                     \
	"usage: skiff get (TYPE[,TYPE...] [NAME...] | TYPE/NAME... | all)\n"                      \
	"                 [-o wide|yaml|json|name|jsonpath=TEMPLATE] [-l SEL] [--field-selector " \
	"SEL]\n"                                                                                  \
	"                 [-n NS | -A] [-w | --watch-only] [--show-labels] [-L KEY,...] "         \
	"[--show-kind]\n"                                                                         \
	"                 [--no-headers] [--ignore-not-found]\n"                                  \
	"Display objects as kubectl get does (the server's tables).\n"

#define TABLE_ACCEPT                                                                          \
	"application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=" \
	"meta.k8s.io,application/json"

struct get_opts {
	const char *output, *selector, *field_selector;
	enum cli_output out;
	bool watch, watch_only, all_namespaces, show_labels, no_headers, ignore_not_found;
	bool show_kind;
	char **label_columns; /* -L */
};

/* One requested resource type and its names (none: the whole list). */
struct get_target {
	const struct cli_resource *res;
	char **names;
};

struct get_run {
	struct cli_client *c;
	struct get_opts *o;
	struct get_target *targets;
	size_t ntargets;
	bool with_kind;
	sk_tabwriter tw;
	sk_buf out;
	json_t *items;	   /* -o yaml|json|name: the objects, in order */
	size_t rows;	   /* table rows printed so far */
	int kinds_printed; /* tables printed (for the blank line between) */
	sk_buf errors;	   /* NotFound and the like, printed at the end */
	char *watch_rv;	   /* resourceVersion to watch from */
	json_t *columns;   /* the last Table's columnDefinitions */
	int docs;	   /* YAML documents printed (for "---") */
};

static void add_target(struct get_run *g, const struct cli_resource *r, const char *name)
{
	for (size_t i = 0; i < g->ntargets; i++) {
		if (g->targets[i].res == r) {
			if (name)
				g->targets[i].names = sk_strv_push(g->targets[i].names, name);
			return;
		}
	}
	g->targets = sk_realloc(g->targets, (g->ntargets + 1) * sizeof(*g->targets));
	g->targets[g->ntargets].res = r;
	g->targets[g->ntargets].names = sk_calloc(1, sizeof(char *));
	if (name)
		g->targets[g->ntargets].names = sk_strv_push(g->targets[g->ntargets].names, name);
	g->ntargets++;
}

/* A type name, or "all" (every resource in the category). */
static int add_type(struct get_run *g, const char *type, const char *name, sk_err *err)
{
	const struct cli_resource *r;

	if (!strcmp(type, "all")) {
		_cleanup_free_ const struct cli_resource **cat = NULL;

		if (cli_discover(g->c, true, err) < 0)
			return -1;
		cat = cli_category(g->c, "all");
		for (size_t i = 0; cat[i]; i++)
			add_target(g, cat[i], name);
		g->with_kind = true;
		return 0;
	}
	if (cli_resolve(g->c, type, &r, err) < 0)
		return -1;
	add_target(g, r, name);
	return 0;
}

/* kubectl's argument forms: TYPE[,TYPE...] [NAME...] or TYPE/NAME... */
static int parse_targets(struct get_run *g, char **args, sk_err *err)
{
	if (!args[0])
		return sk_err_set(
			err, EINVAL,
			"error: You must specify the type of resource to get. Use \"skiff "
			"api-resources\" for a complete list of supported resources.");
	if (strchr(args[0], '/')) {
		for (char **a = args; *a; a++) {
			char *slash = strchr(*a, '/');
			_cleanup_free_ char *type = NULL;

			if (!slash)
				return sk_err_set(
					err, EINVAL,
					"error: there is no need to specify a resource type "
					"as a separate argument when passing arguments in "
					"resource/name form (e.g. 'skiff get "
					"resource/<resource_name>' "
					"instead of 'skiff get resource resource/<resource_name>'");
			type = sk_strndup(*a, (size_t)(slash - *a));
			if (add_type(g, type, slash + 1, err) < 0)
				return -1;
		}
		return 0;
	}
	_cleanup_free_ char *types = sk_strdup(args[0]);
	char *save = NULL;

	for (char *t = strtok_r(types, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!args[1] && add_type(g, t, NULL, err) < 0)
			return -1;
		for (char **n = args + 1; *n; n++)
			if (add_type(g, t, *n, err) < 0)
				return -1;
	}
	return 0;
}

static char *list_query(struct get_opts *o, const char *extra)
{
	sk_buf q;

	sk_buf_init(&q);
	sk_buf_puts(&q, extra);
	if (o->selector) {
		_cleanup_free_ char *e = sk_url_escape(o->selector);

		sk_buf_printf(&q, "&labelSelector=%s", e);
	}
	if (o->field_selector) {
		_cleanup_free_ char *e = sk_url_escape(o->field_selector);

		sk_buf_printf(&q, "&fieldSelector=%s", e);
	}
	return sk_buf_steal(&q);
}

static const char *target_ns(struct get_run *g)
{
	return g->o->all_namespaces ? NULL : g->c->ns;
}

/* Items of a list carry no kind; kubectl's List shows them with one. */
static void add_items(struct get_run *g, const struct cli_resource *r, json_t *list)
{
	_cleanup_free_ char *av = cli_resource_api_version(r);
	json_t *items = json_object_get(list, "items"), *item;
	size_t i;

	json_array_foreach (items, i, item) {
		json_t *copy = json_deep_copy(item);

		if (!json_object_get(copy, "apiVersion"))
			json_object_set_new(copy, "apiVersion", json_string(av));
		if (!json_object_get(copy, "kind"))
			json_object_set_new(copy, "kind", json_string(r->kind));
		json_array_append_new(g->items, copy);
	}
}

static void remember_rv(struct get_run *g, json_t *doc)
{
	const char *rv = json_string_value(
		json_object_get(json_object_get(doc, "metadata"), "resourceVersion"));

	if (rv && *rv) {
		free(g->watch_rv);
		g->watch_rv = sk_strdup(rv);
	}
}

static void print_table_rows(struct get_run *g, const struct cli_resource *r, json_t *table,
			     bool *header_done);

/* A server that ignores as=Table sends the list or the object itself;
 * kubectl then prints NAME and AGE from the metadata. */
static json_t *fallback_table(json_t *doc)
{
	json_t *items = json_object_get(doc, "items"), *item;
	json_t *rows = json_array();
	int64_t now = sk_now_ns() / 1000000000;
	size_t i;

	if (!json_is_array(items)) {
		items = json_array();
		json_array_append(items, doc);
	} else {
		json_incref(items);
	}
	json_array_foreach (items, i, item) {
		char age[32];
		int64_t t;
		const char *ts = cli_meta(item, "creationTimestamp");

		if (!ts || sk_parse_rfc3339(ts, &t) < 0)
			snprintf(age, sizeof(age), "<unknown>");
		else
			api_human_duration(now - t, age, sizeof(age));
		json_array_append_new(
			rows, json_pack("{s:[s,s],s:{s:O}}", "cells", cli_meta(item, "name") ?: "",
					age, "object", "metadata",
					json_object_get(item, "metadata") ?: json_object()));
	}
	json_decref(items);
	return json_pack("{s:s,s:[{s:s,s:s,s:s,s:i},{s:s,s:s,s:s,s:i}],s:o}", "kind", "Table",
			 "columnDefinitions", "name", "Name", "type", "string", "format", "name",
			 "priority", 0, "name", "Age", "type", "string", "format", "", "priority",
			 0, "rows", rows);
}

static void print_table(struct get_run *g, const struct cli_resource *r, json_t *doc,
			bool *header_done)
{
	json_t *table = sk_streq(json_string_value(json_object_get(doc, "kind")), "Table")
				? json_incref(doc)
				: fallback_table(doc);

	print_table_rows(g, r, table, header_done);
	json_decref(table);
}

static void print_table_rows(struct get_run *g, const struct cli_resource *r, json_t *table,
			     bool *header_done)
{
	_cleanup_free_ char *kind = g->with_kind ? cli_resource_kind_name(r) : NULL;
	struct cli_table_opts to = {.wide = g->o->out == CLI_OUT_WIDE,
				    .with_namespace = g->o->all_namespaces && r->namespaced,
				    .show_labels = g->o->show_labels,
				    .no_headers = g->o->no_headers,
				    .kind_prefix = kind,
				    .label_columns = g->o->label_columns};

	if (json_object_get(table, "columnDefinitions")) {
		json_decref(g->columns);
		g->columns = json_incref(json_object_get(table, "columnDefinitions"));
	}
	if (json_array_size(json_object_get(table, "rows")) == 0)
		return;
	if (!*header_done && g->kinds_printed++ > 0 && !g->o->no_headers)
		sk_tabwriter_puts(&g->tw, "\n");
	g->rows += cli_table_print(table, &to, !*header_done, &g->tw);
	*header_done = true;
}

/* Fetch one target: the list (following continue tokens) or each name. */
static int get_target(struct get_run *g, struct get_target *t, sk_err *err)
{
	bool table = g->o->out == CLI_OUT_TABLE || g->o->out == CLI_OUT_WIDE;
	const char *accept = table ? TABLE_ACCEPT : "application/json";
	bool header_done = false;
	_cleanup_free_ char *cont = NULL;

	if (t->names[0]) {
		for (char **n = t->names; *n; n++) {
			_cleanup_free_ char *path =
				cli_resource_path(t->res, target_ns(g), *n, NULL);
			json_t *doc = NULL;
			long code;
			sk_err e = {0};

			if (cli_request(g->c, "GET", path, accept, NULL, NULL, &doc, &code, &e) <
			    0) {
				json_decref(doc);
				if (code == 0)
					return sk_err_set(err, e.code, "%s", e.msg);
				if (!(code == 404 && g->o->ignore_not_found))
					sk_buf_printf(&g->errors, "skiff: %s\n", e.msg);
				continue;
			}
			remember_rv(g, doc);
			if (table) {
				print_table(g, t->res, doc, &header_done);
			} else {
				json_t *list = json_pack("{s:[O]}", "items", doc);

				add_items(g, t->res, list);
				json_decref(list);
			}
			json_decref(doc);
		}
		return 0;
	}
	do {
		_cleanup_free_ char *extra =
			cont ? sk_asprintf("limit=500&continue=%s", cont) : sk_strdup("limit=500");
		_cleanup_free_ char *q = list_query(g->o, extra);
		_cleanup_free_ char *path = cli_resource_path(t->res, target_ns(g), NULL, q);
		json_t *doc = NULL;
		const char *next;

		if (cli_request(g->c, "GET", path, accept, NULL, NULL, &doc, NULL, err) < 0) {
			json_decref(doc);
			return -1;
		}
		remember_rv(g, doc);
		if (table)
			print_table(g, t->res, doc, &header_done);
		else
			add_items(g, t->res, doc);
		next = json_string_value(
			json_object_get(json_object_get(doc, "metadata"), "continue"));
		free(cont);
		cont = next && *next ? sk_url_escape(next) : NULL;
		json_decref(doc);
	} while (cont);
	return 0;
}

/* One document: YAML documents after the first get kubectl's "---". */
static void print_doc(struct get_run *g, json_t *doc)
{
	if (g->o->out == CLI_OUT_YAML) {
		if (g->docs++ > 0)
			sk_buf_puts(&g->out, "---\n");
		api_yaml_dump(doc, &g->out);
	} else if (g->o->out == CLI_OUT_JSONPATH) {
		sk_err err = {0};

		if (api_jsonpath(strchr(g->o->output, '=') + 1, doc, &g->out, &err) < 0)
			sk_buf_printf(&g->errors, "skiff: error: %s\n", err.msg);
	} else {
		api_json_dump(doc, &g->out);
	}
}

/* -o yaml|json|jsonpath|name: one object alone, several as a List; under
 * -w (each) every object on its own, as kubectl prints watched objects. */
static void print_items(struct get_run *g, bool single, bool each)
{
	json_t *item;
	size_t i;

	if (g->o->out == CLI_OUT_NAME) {
		json_array_foreach (g->items, i, item) {
			const struct cli_resource *r = cli_resource_for(
				g->c, json_string_value(json_object_get(item, "apiVersion")),
				json_string_value(json_object_get(item, "kind")), NULL);
			_cleanup_free_ char *kind = r ? cli_resource_kind_name(r) : NULL;

			sk_buf_printf(&g->out, "%s/%s\n", kind ? kind : "",
				      cli_meta(item, "name") ? cli_meta(item, "name") : "");
		}
		return;
	}
	if (each) {
		json_array_foreach (g->items, i, item)
			print_doc(g, item);
	} else if (single && json_array_size(g->items) == 1) {
		print_doc(g, json_array_get(g->items, 0));
	} else {
		item = json_pack("{s:s,s:O,s:s,s:{s:s}}", "apiVersion", "v1", "items", g->items,
				 "kind", "List", "metadata", "resourceVersion", "");
		print_doc(g, item);
		json_decref(item);
	}
}

static void no_resources(struct get_run *g)
{
	bool namespaced = false;

	for (size_t i = 0; i < g->ntargets; i++)
		namespaced |= g->targets[i].res->namespaced;
	if (g->o->all_namespaces || !namespaced)
		fprintf(stderr, "No resources found\n");
	else
		fprintf(stderr, "No resources found in %s namespace.\n", g->c->ns);
}

/* ---- -w ------------------------------------------------------------------- */

struct watch_ctx {
	struct get_run *g;
	const struct cli_resource *res;
	bool header_done;
};

static int on_event(const char *line, size_t len, void *data, sk_err *err)
{
	struct watch_ctx *w = data;
	struct get_run *g = w->g;
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");

	if (!ev || !type || !json_is_object(obj)) {
		json_decref(ev);
		return len == 0 ? 0 : sk_err_set(err, EBADMSG, "error: bad watch event");
	}
	if (!strcmp(type, "ERROR")) {
		cli_status_message(obj, json_integer_value(json_object_get(obj, "code")), err);
		json_decref(ev);
		return -1;
	}
	if (!strcmp(type, "BOOKMARK")) {
		json_decref(ev);
		return 0;
	}
	if (g->o->out == CLI_OUT_TABLE || g->o->out == CLI_OUT_WIDE) {
		_cleanup_free_ char *kind = g->with_kind ? cli_resource_kind_name(w->res) : NULL;
		struct cli_table_opts to = {.wide = g->o->out == CLI_OUT_WIDE,
					    .with_namespace =
						    g->o->all_namespaces && w->res->namespaced,
					    .show_labels = g->o->show_labels,
					    .no_headers = g->o->no_headers,
					    .kind_prefix = kind,
					    .label_columns = g->o->label_columns};

		/* an apiserver may send the columns with the first event only */
		if (json_array_size(json_object_get(obj, "columnDefinitions")) == 0 && g->columns) {
			json_object_set(obj, "columnDefinitions", g->columns);
		} else if (json_object_get(obj, "columnDefinitions")) {
			json_decref(g->columns);
			g->columns = json_incref(json_object_get(obj, "columnDefinitions"));
		}
		cli_table_print(obj, &to, !w->header_done, &g->tw);
		w->header_done = true;
		sk_tabwriter_flush(&g->tw, &g->out);
	} else {
		json_array_clear(g->items);
		json_array_append(g->items, obj);
		print_items(g, true, true);
	}
	cli_flush_out(&g->out);
	json_decref(ev);
	return 0;
}

static int run_watch(struct get_run *g, sk_err *err)
{
	struct get_target *t = &g->targets[0];
	bool table = g->o->out == CLI_OUT_TABLE || g->o->out == CLI_OUT_WIDE;
	struct watch_ctx w = {.g = g, .res = t->res, .header_done = !g->o->watch_only};
	_cleanup_free_ char *name_sel = NULL;
	_cleanup_free_ char *extra = NULL;
	_cleanup_free_ char *q = NULL;
	_cleanup_free_ char *path = NULL;
	struct sk_http_request req = {.accept = table ? TABLE_ACCEPT : "application/json"};
	struct sk_http_response resp;
	int r;

	if (g->ntargets != 1 || sk_strv_len(t->names) > 1)
		return sk_err_set(err, EINVAL,
				  "error: watch is only supported on individual resources and "
				  "resource collections, but %zu resources were found",
				  g->ntargets > 1 ? g->ntargets : sk_strv_len(t->names));
	if (t->names[0]) {
		_cleanup_free_ char *sel = sk_asprintf("metadata.name=%s", t->names[0]);

		name_sel = sk_url_escape(sel);
	}
	extra = sk_asprintf("watch=true%s%s%s%s",
			    g->watch_rv && !g->o->watch_only ? "&resourceVersion=" : "",
			    g->watch_rv && !g->o->watch_only ? g->watch_rv : "",
			    name_sel ? "&fieldSelector=" : "", name_sel ? name_sel : "");
	q = list_query(g->o, extra);
	path = cli_resource_path(t->res, target_ns(g), NULL, q);
	req.path = path;
	r = sk_http_stream(g->c->http, &req, true, on_event, &w, &resp, err);
	if (r == 0 && (resp.status < 200 || resp.status >= 300)) {
		json_t *st = json_loadb(resp.body.data, resp.body.len, 0, NULL);

		cli_status_message(st, resp.status, err);
		json_decref(st);
		r = -1;
	}
	sk_http_response_free(&resp);
	return r;
}

/* ---- the command ------------------------------------------------------------ */

static int get_run(struct get_run *g, sk_err *err)
{
	bool single = g->ntargets == 1 && sk_strv_len(g->targets[0].names) == 1;
	bool table = g->o->out == CLI_OUT_TABLE || g->o->out == CLI_OUT_WIDE;
	int kinds = 0;

	if (g->ntargets > 1 || g->o->show_kind)
		g->with_kind = true;
	if (!g->o->watch_only) {
		for (size_t i = 0; i < g->ntargets; i++) {
			size_t before = g->rows;

			if (table && kinds > 0) {
				sk_tabwriter_flush(&g->tw, &g->out);
				sk_tabwriter_forget(&g->tw);
			}
			if (get_target(g, &g->targets[i], err) < 0)
				return -1;
			kinds += g->rows > before;
		}
		if (table)
			sk_tabwriter_flush(&g->tw, &g->out);
		else if (g->o->watch)
			print_items(g, single, true);
		else if (json_array_size(g->items) > 0 || !single)
			print_items(g, single, false);
		cli_flush_out(&g->out);
		if (g->errors.len == 0 && !g->o->watch && !single &&
		    (table ? g->rows == 0
			   : g->o->out == CLI_OUT_NAME && json_array_size(g->items) == 0))
			no_resources(g);
	}
	if (g->errors.len > 0) {
		fputs(g->errors.data, stderr);
		return 1;
	}
	if (g->o->watch || g->o->watch_only)
		return run_watch(g, err) < 0 ? -1 : 0;
	return 0;
}

static int cmd_get(int argc, char **argv)
{
	struct get_opts o = {0};
	_cleanup_strv_ char **args = NULL;
	_cleanup_strv_ char **label_flags = NULL;
	struct cli_flag flags[] = {
		{"output", 'o', CLI_FLAG_STRING, &o.output, NULL},
		{"selector", 'l', CLI_FLAG_STRING, &o.selector, NULL},
		{"field-selector", 0, CLI_FLAG_STRING, &o.field_selector, NULL},
		{"watch", 'w', CLI_FLAG_BOOL, &o.watch, NULL},
		{"watch-only", 0, CLI_FLAG_BOOL, &o.watch_only, NULL},
		{"all-namespaces", 'A', CLI_FLAG_BOOL, &o.all_namespaces, NULL},
		{"show-labels", 0, CLI_FLAG_BOOL, &o.show_labels, NULL},
		{"show-kind", 0, CLI_FLAG_BOOL, &o.show_kind, NULL},
		{"no-headers", 0, CLI_FLAG_BOOL, &o.no_headers, NULL},
		{"ignore-not-found", 0, CLI_FLAG_BOOL, &o.ignore_not_found, NULL},
		{"label-columns", 'L', CLI_FLAG_STRINGS, &label_flags, NULL},
		{0},
	};
	struct cli_client c;
	struct get_run g = {.c = &c, .o = &o};
	sk_err err = {0};
	int r;

	if (cli_parse_flags(argc, argv, flags, USAGE, &args, &err) < 0)
		return cli_failf("error: %s", err.msg);
	if (cli_output_parse(o.output, &o.out, &err) < 0)
		return cli_fail(&err);
	o.label_columns = move_ptr(label_flags);
	if (cli_client_open(&c, &err) < 0) {
		sk_strv_free(o.label_columns);
		return cli_fail(&err);
	}
	sk_tabwriter_init(&g.tw, 6, 3, true);
	sk_buf_init(&g.out);
	sk_buf_init(&g.errors);
	g.items = json_array();
	r = parse_targets(&g, args, &err);
	for (size_t i = 0; r == 0 && i < g.ntargets; i++) {
		if (!g.targets[i].names[0])
			continue;
		if (o.selector)
			r = sk_err_set(
				&err, EINVAL,
				"error: name cannot be provided when a selector is specified");
		else if (o.all_namespaces && g.targets[i].res->namespaced)
			r = sk_err_set(&err, EINVAL,
				       "error: a resource cannot be retrieved by name across all "
				       "namespaces");
	}
	if (r == 0)
		r = get_run(&g, &err);
	if (r < 0)
		r = cli_fail(&err);
	for (size_t i = 0; i < g.ntargets; i++)
		sk_strv_free(g.targets[i].names);
	free(g.targets);
	free(g.watch_rv);
	json_decref(g.items);
	json_decref(g.columns);
	sk_tabwriter_free(&g.tw);
	sk_buf_free(&g.out);
	sk_buf_free(&g.errors);
	sk_strv_free(o.label_columns);
	cli_client_close(&c);
	return r;
}
SK_COMMAND(get, "get", cmd_get, "display one or many resources (as kubectl get)");
