/* skiff apply -f: kubectl's client-side apply. A missing object is created
 * with the last-applied-configuration annotation; an existing one gets the
 * three-way strategic merge patch (api_apply_patch) between its
 * last-applied configuration, the file and the live object, sent as
 * application/strategic-merge-patch+json. An empty patch means
 * "unchanged" and nothing is sent. */
#include "kube_internal.h"

#include <errno.h>

#define USAGE                                                                           \
	"usage: skiff apply -f FILE|DIR|- [-R] [-o yaml|json|name]\n"                   \
	"Create or update objects from files as kubectl's client-side apply does:\n"    \
	"a missing object is created with the last-applied-configuration annotation,\n" \
	"an existing one gets the three-way strategic merge patch.\n"

#define APPLY_MANAGER "fieldManager=kubectl-client-side-apply"

struct apply_opts {
	char **files;
	const char *output;
	enum cli_output out;
	bool recursive, server_side;
	const char *validate; /* accepted for kubectl compatibility */
};

struct apply_run {
	struct cli_client *c;
	struct apply_opts *o;
	sk_buf out;
};

static int apply_create(struct apply_run *a, struct cli_target *t, json_t *modified,
			const char *source, sk_err *err)
{
	_cleanup_free_ char *path = cli_resource_path(t->res, t->ns, NULL, APPLY_MANAGER);
	json_t *created = NULL;
	long code;

	if (cli_request(a->c, "POST", path, NULL, NULL, modified, &created, &code, err) < 0) {
		if (code)
			cli_status_message_source(created, code, "creating", source, err);
		json_decref(created);
		return -1;
	}
	cli_print_result(t->res, created, a->o->out, "created", &a->out);
	json_decref(created);
	return 0;
}

/* The last-applied configuration kept on the live object, or NULL (with
 * kubectl's warning) when it has none. */
static json_t *last_applied(struct cli_target *t, json_t *live)
{
	json_t *ann = json_object_get(json_object_get(live, "metadata"), "annotations");
	const char *text = json_string_value(json_object_get(ann, API_LAST_APPLIED));

	if (!text) {
		fprintf(stderr,
			"Warning: resource %s/%s is missing the %s annotation which is required by "
			"skiff apply. skiff apply should only be used on resources created "
			"declaratively by either skiff create --save-config or skiff apply. The "
			"missing annotation will be patched automatically.\n",
			t->res->resource, t->name, API_LAST_APPLIED);
		return NULL;
	}
	return json_loads(text, 0, NULL);
}

static int apply_patch(struct apply_run *a, struct cli_target *t, json_t *modified, json_t *live,
		       const char *source, sk_err *err)
{
	const api_kind *k = api_kind_of(live);
	json_t *original = last_applied(t, live), *patch = NULL, *after = NULL;
	_cleanup_free_ char *path = NULL;
	long code;
	int rc = -1;

	if (api_apply_patch(k, original, modified, live, &patch, err) < 0) {
		sk_err_wrap(err, "error: computing the patch for \"%s\"", source);
		goto out;
	}
	if (json_object_size(patch) == 0) {
		cli_print_result(t->res, live, a->o->out, "unchanged", &a->out);
		rc = 0;
		goto out;
	}
	path = cli_resource_path(t->res, t->ns, t->name, APPLY_MANAGER);
	if (cli_request(a->c, "PATCH", path, NULL,
			k ? "application/strategic-merge-patch+json"
			  : "application/merge-patch+json",
			patch, &after, &code, err) < 0) {
		if (code)
			cli_status_message_source(after, code, "applying patch to", source, err);
		goto out;
	}
	cli_print_result(t->res, after, a->o->out, "configured", &a->out);
	rc = 0;
out:
	json_decref(original);
	json_decref(patch);
	json_decref(after);
	return rc;
}

static int apply_one(struct apply_run *a, json_t *obj, const char *source, sk_err *err)
{
	struct cli_target t;
	_cleanup_free_ char *path = NULL;
	json_t *config, *modified, *live = NULL;
	long code;
	int rc;

	if (cli_object_target(a->c, obj, source, &t, err) < 0)
		return -1;
	if (!t.name)
		return sk_err_set(err, EINVAL,
				  "error: error when retrieving current configuration of \"%s\": "
				  "resource name may not be empty",
				  source);
	/* kubectl records the namespace it defaulted in the configuration */
	config = json_deep_copy(obj);
	if (t.ns)
		json_object_set_new(json_object_get(config, "metadata"), "namespace",
				    json_string(t.ns));
	modified = api_apply_modified(config);
	json_decref(config);
	path = cli_resource_path(t.res, t.ns, t.name, NULL);
	rc = cli_request(a->c, "GET", path, NULL, NULL, NULL, &live, &code, err);
	if (rc < 0 && code == 404)
		rc = apply_create(a, &t, modified, source, err);
	else if (rc == 0)
		rc = apply_patch(a, &t, modified, live, source, err);
	json_decref(live);
	json_decref(modified);
	return rc;
}

static int cmd_apply(int argc, char **argv)
{
	struct apply_opts o = {0};
	_cleanup_strv_ char **args = NULL;
	struct cli_flag flags[] = {
		{"filename", 'f', CLI_FLAG_STRINGS, &o.files, NULL},
		{"recursive", 'R', CLI_FLAG_BOOL, &o.recursive, NULL},
		{"output", 'o', CLI_FLAG_STRING, &o.output, NULL},
		{"server-side", 0, CLI_FLAG_BOOL, &o.server_side, NULL},
		{"validate", 0, CLI_FLAG_STRING, &o.validate, NULL},
		{0},
	};
	struct cli_client c;
	struct apply_run a = {.c = &c, .o = &o};
	json_t *objs = NULL, *item;
	sk_err err = {0};
	int rc = 1;
	size_t i;

	if (cli_parse_flags(argc, argv, flags, USAGE, &args, &err) < 0) {
		cli_failf("error: %s", err.msg);
		goto out;
	}
	if (cli_output_parse(o.output, &o.out, &err) < 0) {
		cli_fail(&err);
		goto out;
	}
	if (o.server_side) {
		cli_failf("error: --server-side is not supported by skiff; client-side apply is");
		goto out;
	}
	if (!o.files || !o.files[0] || args[0]) {
		cli_failf("error: must specify one of -f and -k");
		goto out;
	}
	if (cli_read_objects(o.files, o.recursive, &objs, &err) < 0) {
		cli_fail(&err);
		goto out;
	}
	if (cli_client_open(&c, &err) < 0) {
		cli_fail(&err);
		goto out;
	}
	sk_buf_init(&a.out);
	rc = 0;
	json_array_foreach (objs, i, item) {
		if (apply_one(&a, json_object_get(item, "object"),
			      json_string_value(json_object_get(item, "source")), &err) < 0) {
			cli_fail(&err);
			rc = 1;
			if (err.code == ECONNREFUSED || err.code == EACCES)
				break;
		}
	}
	sk_buf_free(&a.out);
	cli_client_close(&c);
out:
	json_decref(objs);
	sk_strv_free(o.files);
	return rc;
}
SK_COMMAND(apply, "apply", cmd_apply, "create or update objects from files (as kubectl apply)");
