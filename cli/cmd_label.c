/* skiff label and skiff annotate, as kubectl's: KEY=VAL sets, KEY-
 * removes, an existing different value needs --overwrite; the change goes
 * as a JSON merge patch of metadata.labels (or annotations) holding only
 * what changed, and the verdict (labeled, unlabeled, not labeled) follows
 * kubectl's rule. */
#include "kube_internal.h"

#include <errno.h>

#define LABEL_USAGE                                                                               \
	"usage: skiff label (TYPE NAME... | TYPE/NAME... | TYPE -l SEL | TYPE --all | -f FILE)\n" \
	"                   KEY=VAL... KEY-... [--overwrite] [--resource-version=RV] [-o ...]\n"  \
	"Update the labels of objects.\n"
#define ANNOTATE_USAGE                                                                        \
	"usage: skiff annotate (TYPE NAME... | TYPE/NAME... | TYPE -l SEL | TYPE --all | -f " \
	"FILE)\n"                                                                             \
	"                      KEY=VAL... KEY-... [--overwrite] [--resource-version=RV] [-o " \
	"...]\n"                                                                              \
	"Update the annotations of objects.\n"

struct label_opts {
	bool annotate; /* annotate instead of label */
	bool overwrite, all, list, recursive;
	const char *selector, *resource_version, *output;
	enum cli_output out;
	char **files;
};

struct change {
	char *key;
	char *value; /* NULL: remove */
};

struct label_run {
	struct cli_client *c;
	struct label_opts *o;
	struct change *changes;
	size_t nchanges;
	sk_buf out;
	int failed;
};

static const char *field(struct label_run *l)
{
	return l->o->annotate ? "annotations" : "labels";
}

static bool is_change(const char *a)
{
	return strchr(a, '=') || (sk_endswith(a, "-") && strlen(a) > 1);
}

static int parse_change(struct label_run *l, const char *a, sk_err *err)
{
	const char *eq = strchr(a, '=');
	struct change ch;

	if (eq) {
		ch.key = sk_strndup(a, (size_t)(eq - a));
		ch.value = sk_strdup(eq + 1);
	} else {
		ch.key = sk_strndup(a, strlen(a) - 1);
		ch.value = NULL;
	}
	if (!*ch.key || strchr(ch.key, ' ')) {
		free(ch.key);
		free(ch.value);
		return sk_err_set(err, EINVAL, "error: invalid %s format: %s",
				  l->o->annotate ? "annotation" : "label", a);
	}
	l->changes = sk_realloc(l->changes, (l->nchanges + 1) * sizeof(*l->changes));
	l->changes[l->nchanges++] = ch;
	return 0;
}

/* The merge patch for obj, or an error for a value that would need
 * --overwrite. Removing an absent key prints kubectl's note. */
static int make_patch(struct label_run *l, json_t *obj, json_t **patch, sk_err *err)
{
	json_t *cur = json_object_get(json_object_get(obj, "metadata"), field(l));
	json_t *set = json_object();

	for (size_t i = 0; i < l->nchanges; i++) {
		struct change *ch = &l->changes[i];
		const char *old = json_string_value(json_object_get(cur, ch->key));

		if (!ch->value) {
			if (!json_object_get(cur, ch->key)) {
				sk_buf_printf(&l->out, "%s \"%s\" not found.\n",
					      l->o->annotate ? "annotation" : "label", ch->key);
				continue;
			}
			json_object_set_new(set, ch->key, json_null());
			continue;
		}
		if (old && !l->o->overwrite && strcmp(old, ch->value) != 0) {
			json_decref(set);
			if (l->o->annotate)
				return sk_err_set(
					err, EEXIST,
					"error: --overwrite is false but found the following "
					"declared annotation(s): '%s' already has a value (%s)",
					ch->key, old);
			return sk_err_set(
				err, EEXIST,
				"error: '%s' already has a value (%s), and --overwrite is "
				"false",
				ch->key, old);
		}
		if (!old || strcmp(old, ch->value) != 0)
			json_object_set_new(set, ch->key, json_string(ch->value));
	}
	*patch = json_object_size(set) ? json_pack("{s:{s:o}}", "metadata", field(l), set)
				       : (json_decref(set), json_object());
	if (l->o->resource_version) {
		if (!json_object_get(*patch, "metadata"))
			json_object_set_new(*patch, "metadata", json_object());
		json_object_set_new(json_object_get(*patch, "metadata"), "resourceVersion",
				    json_string(l->o->resource_version));
	}
	return 0;
}

static size_t json_len(json_t *v)
{
	_cleanup_free_ char *s = json_dumps(v, JSON_COMPACT);

	return s ? strlen(s) : 0;
}

static int label_one(struct label_run *l, const struct cli_resource *r, const char *ns,
		     const char *name)
{
	_cleanup_free_ char *path = cli_resource_path(r, ns, name, NULL);
	_cleanup_free_ char *ppath = cli_resource_path(
		r, ns, name,
		l->o->annotate ? "fieldManager=kubectl-annotate" : "fieldManager=kubectl-label");
	json_t *obj = NULL, *patch = NULL, *after = NULL;
	sk_err err = {0};
	const char *verb;
	int rc = -1;

	if (cli_request(l->c, "GET", path, NULL, NULL, NULL, &obj, NULL, &err) < 0 ||
	    make_patch(l, obj, &patch, &err) < 0 ||
	    cli_request(l->c, "PATCH", ppath, NULL, "application/merge-patch+json", patch, &after,
			NULL, &err) < 0) {
		cli_flush_out(&l->out);
		cli_fail(&err);
		l->failed = 1;
		goto out;
	}
	if (l->o->annotate)
		verb = "annotated";
	else if (json_equal(obj, after))
		verb = "not labeled";
	else if (!l->o->overwrite && json_len(after) < json_len(obj))
		verb = "unlabeled";
	else
		verb = "labeled";
	cli_print_result(r, after, l->o->out, verb, &l->out);
	rc = 0;
out:
	json_decref(obj);
	json_decref(patch);
	json_decref(after);
	return rc;
}

static int label_selected(struct label_run *l, const struct cli_resource *r)
{
	_cleanup_free_ char *sel = l->o->selector ? sk_url_escape(l->o->selector) : NULL;
	_cleanup_free_ char *q = sel ? sk_asprintf("labelSelector=%s", sel) : NULL;
	_cleanup_free_ char *path = cli_resource_path(r, l->c->ns, NULL, q);
	json_t *list = NULL, *item;
	sk_err err = {0};
	size_t i;

	if (cli_request(l->c, "GET", path, NULL, NULL, NULL, &list, NULL, &err) < 0) {
		json_decref(list);
		return cli_fail(&err);
	}
	json_array_foreach (json_object_get(list, "items"), i, item)
		label_one(l, r, cli_meta(item, "namespace"), cli_meta(item, "name"));
	json_decref(list);
	return l->failed;
}

static int label_files(struct label_run *l)
{
	json_t *objs = NULL, *item;
	sk_err err = {0};
	size_t i;

	if (cli_read_objects(l->o->files, l->o->recursive, &objs, &err) < 0)
		return cli_fail(&err);
	json_array_foreach (objs, i, item) {
		struct cli_target t;

		if (cli_object_target(l->c, json_object_get(item, "object"),
				      json_string_value(json_object_get(item, "source")), &t,
				      &err) < 0) {
			cli_fail(&err);
			l->failed = 1;
			continue;
		}
		label_one(l, t.res, t.ns, t.name);
	}
	json_decref(objs);
	return l->failed;
}

static int label_targets(struct label_run *l, char **targets)
{
	const struct cli_resource *r;
	sk_err err = {0};

	if (l->o->files && l->o->files[0])
		return label_files(l);
	if (!targets[0])
		return cli_failf("error: one or more resources must be specified as <resource> "
				 "<name> or <resource>/<name>");
	if (strchr(targets[0], '/')) {
		for (char **a = targets; *a; a++) {
			char *slash = strchr(*a, '/');
			_cleanup_free_ char *type =
				slash ? sk_strndup(*a, (size_t)(slash - *a)) : NULL;

			if (!slash)
				return cli_failf(
					"error: arguments in resource/name form must have a "
					"single resource and name");
			if (cli_resolve(l->c, type, &r, &err) < 0)
				return cli_fail(&err);
			label_one(l, r, l->c->ns, slash + 1);
		}
		return l->failed;
	}
	if (cli_resolve(l->c, targets[0], &r, &err) < 0)
		return cli_fail(&err);
	if (l->o->selector || l->o->all)
		return label_selected(l, r);
	if (!targets[1])
		return cli_failf("error: resource(s) were provided, but no name was specified");
	for (char **n = targets + 1; *n; n++)
		label_one(l, r, l->c->ns, *n);
	return l->failed;
}

static int run_label(int argc, char **argv, bool annotate)
{
	struct label_opts o = {.annotate = annotate};
	_cleanup_strv_ char **args = NULL;
	_cleanup_strv_ char **targets = sk_calloc(1, sizeof(char *));
	struct cli_flag flags[] = {
		{"overwrite", 0, CLI_FLAG_BOOL, &o.overwrite, NULL},
		{"all", 0, CLI_FLAG_BOOL, &o.all, NULL},
		{"selector", 'l', CLI_FLAG_STRING, &o.selector, NULL},
		{"resource-version", 0, CLI_FLAG_STRING, &o.resource_version, NULL},
		{"output", 'o', CLI_FLAG_STRING, &o.output, NULL},
		{"filename", 'f', CLI_FLAG_STRINGS, &o.files, NULL},
		{"recursive", 'R', CLI_FLAG_BOOL, &o.recursive, NULL},
		{0},
	};
	struct cli_client c;
	struct label_run l = {.c = &c, .o = &o};
	sk_err err = {0};
	int rc = 1;

	if (cli_parse_flags(argc, argv, flags, annotate ? ANNOTATE_USAGE : LABEL_USAGE, &args,
			    &err) < 0) {
		cli_failf("error: %s", err.msg);
		goto out;
	}
	if (cli_output_parse(o.output, &o.out, &err) < 0) {
		cli_fail(&err);
		goto out;
	}
	for (char **a = args; *a; a++) {
		if (is_change(*a)) {
			if (parse_change(&l, *a, &err) < 0) {
				cli_fail(&err);
				goto out;
			}
		} else {
			targets = sk_strv_push(targets, *a);
		}
	}
	if (l.nchanges == 0) {
		cli_failf("error: at least one %s update is required",
			  annotate ? "annotation" : "label");
		goto out;
	}
	if (cli_client_open(&c, &err) < 0) {
		cli_fail(&err);
		goto out;
	}
	sk_buf_init(&l.out);
	rc = label_targets(&l, targets);
	cli_flush_out(&l.out);
	sk_buf_free(&l.out);
	cli_client_close(&c);
out:
	for (size_t i = 0; i < l.nchanges; i++) {
		free(l.changes[i].key);
		free(l.changes[i].value);
	}
	free(l.changes);
	sk_strv_free(o.files);
	return rc;
}

static int cmd_label(int argc, char **argv)
{
	return run_label(argc, argv, false);
}

static int cmd_annotate(int argc, char **argv)
{
	return run_label(argc, argv, true);
}
SK_COMMAND(label, "label", cmd_label, "update the labels on resources (as kubectl label)");
SK_COMMAND(annotate, "annotate", cmd_annotate,
	   "update the annotations on resources (as kubectl annotate)");
