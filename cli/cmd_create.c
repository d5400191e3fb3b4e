/* skiff create: kubectl create -f FILE|DIR|- (each object POSTed to its
 * collection, in file order; failures are reported after the rest went
 * through, as kubectl does) and kubectl create namespace NAME. */
#include "kube_internal.h"

#include <errno.h>

#define USAGE                                                                          \
	"usage: skiff create -f FILE|DIR|- [-R] [-o yaml|json|name] [--save-config]\n" \
	"       skiff create namespace NAME\n"                                         \
	"Create objects from manifests (multi-document YAML or JSON) or a namespace.\n"

struct create_opts {
	const char *output;
	enum cli_output out;
	char **files;
	bool recursive, save_config;
	const char *validate; /* accepted for kubectl compatibility */
};

static int create_one(struct cli_client *c, json_t *obj, const char *source, struct create_opts *o,
		      sk_buf *out, sk_err *err)
{
	struct cli_target t;
	_cleanup_free_ char *path = NULL;
	json_t *body, *created = NULL;
	long code;
	int r;

	if (cli_object_target(c, obj, source, &t, err) < 0)
		return -1;
	body = json_deep_copy(obj);
	if (t.ns)
		json_object_set_new(json_object_get(body, "metadata"), "namespace",
				    json_string(t.ns));
	if (o->save_config) { /* the configuration a later apply compares with */
		json_t *with = api_apply_modified(body);

		json_decref(body);
		body = with;
	}
	path = cli_resource_path(t.res, t.ns, NULL, "fieldManager=kubectl-create");
	r = cli_request(c, "POST", path, NULL, NULL, body, &created, &code, err);
	json_decref(body);
	if (r < 0) {
		if (code)
			cli_status_message_source(created, code, "creating", source, err);
		json_decref(created);
		return -1;
	}
	cli_print_result(t.res, created, o->out, "created", out);
	json_decref(created);
	return 0;
}

static int create_files(struct cli_client *c, struct create_opts *o)
{
	json_t *objs = NULL, *item;
	sk_buf out;
	sk_err err = {0};
	int failed = 0;
	size_t i;

	if (!o->files || !o->files[0])
		return cli_failf("error: must specify one of -f and -k");
	if (cli_read_objects(o->files, o->recursive, &objs, &err) < 0)
		return cli_fail(&err);
	sk_buf_init(&out);
	json_array_foreach (objs, i, item) {
		if (create_one(c, json_object_get(item, "object"),
			       json_string_value(json_object_get(item, "source")), o, &out,
			       &err) < 0) {
			cli_fail(&err);
			failed = 1;
			if (err.code == ECONNREFUSED || err.code == EACCES)
				break; /* the same for every object */
		}
	}
	sk_buf_free(&out);
	json_decref(objs);
	return failed;
}

static int create_namespace(struct cli_client *c, char **args, struct create_opts *o)
{
	const struct cli_resource *r;
	json_t *body, *created = NULL;
	sk_buf out;
	sk_err err = {0};
	int rc = 0;

	if (!args[1] || args[2])
		return cli_failf("error: exactly one NAME is required, got %zu",
				 args[1] ? sk_strv_len(args + 1) : 0);
	if (cli_resolve(c, "namespaces", &r, &err) < 0)
		return cli_fail(&err);
	body = json_pack("{s:s,s:s,s:{s:s},s:{},s:{}}", "apiVersion", "v1", "kind", "Namespace",
			 "metadata", "name", args[1], "spec", "status");
	sk_buf_init(&out);
	if (cli_request(c, "POST", "/api/v1/namespaces?fieldManager=kubectl-create", NULL, NULL,
			body, &created, NULL, &err) < 0)
		rc = cli_fail(&err);
	else
		cli_print_result(r, created, o->out, "created", &out);
	json_decref(body);
	json_decref(created);
	sk_buf_free(&out);
	return rc;
}

static int cmd_create(int argc, char **argv)
{
	struct create_opts o = {0};
	_cleanup_strv_ char **args = NULL;
	struct cli_flag flags[] = {
		{"filename", 'f', CLI_FLAG_STRINGS, &o.files, NULL},
		{"recursive", 'R', CLI_FLAG_BOOL, &o.recursive, NULL},
		{"output", 'o', CLI_FLAG_STRING, &o.output, NULL},
		{"save-config", 0, CLI_FLAG_BOOL, &o.save_config, NULL},
		{"validate", 0, CLI_FLAG_STRING, &o.validate, NULL},
		{0},
	};
	struct cli_client c;
	sk_err err = {0};
	int rc;

	if (cli_parse_flags(argc, argv, flags, USAGE, &args, &err) < 0) {
		sk_strv_free(o.files);
		return cli_failf("error: %s", err.msg);
	}
	if (cli_output_parse(o.output, &o.out, &err) < 0 || o.out == CLI_OUT_WIDE) {
		sk_strv_free(o.files);
		return o.out == CLI_OUT_WIDE
			       ? cli_failf("error: unable to match a printer suitable "
					   "for the output format \"wide\"")
			       : cli_fail(&err);
	}
	if (cli_client_open(&c, &err) < 0) {
		sk_strv_free(o.files);
		return cli_fail(&err);
	}
	if (args[0] && (!strcmp(args[0], "namespace") || !strcmp(args[0], "ns")))
		rc = create_namespace(&c, args, &o);
	else if (args[0])
		rc = cli_failf(
			"error: unknown command \"%s\" for \"skiff create\" (create -f FILE, "
			"create namespace NAME)",
			args[0]);
	else
		rc = create_files(&c, &o);
	cli_client_close(&c);
	sk_strv_free(o.files);
	return rc;
}
SK_COMMAND(create, "create", cmd_create, "create objects from files or stdin (as kubectl create)");
