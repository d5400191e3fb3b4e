/* skiff delete: kubectl delete -f FILE | TYPE NAME... | TYPE/NAME | TYPE
 * -l SEL | TYPE --all. Each object gets a DELETE with kubectl's
 * DeleteOptions body (propagationPolicy from --cascade, gracePeriodSeconds
 * from --grace-period/--now/--force); then, as kubectl's --wait does, the
 * command waits until every deleted object is really gone (a pod with a
 * grace period lingers with a deletionTimestamp until its node confirms). */
#include "kube_internal.h"

#include <errno.h>

#define USAGE                                                                                      \
	"usage: skiff delete (-f FILE | TYPE NAME... | TYPE/NAME... | TYPE -l SEL | TYPE --all)\n" \
	"                    [--grace-period=N] [--now] [--force] "                                \
	"[--cascade=background|foreground|orphan]\n"                                               \
	"                    [--ignore-not-found] [--wait=false]\n"                                \
	"Delete objects, then wait until they are gone.\n"
#include <time.h>

struct delete_opts {
	char **files;
	const char *selector, *cascade, *wait_s;
	int64_t grace;
	bool all, now, force, ignore_not_found, recursive, wait;
	const char *policy;
};

struct deleted {
	const struct cli_resource *res;
	char *ns, *name, *uid;
};

struct delete_run {
	struct cli_client *c;
	struct delete_opts *o;
	struct deleted *done;
	size_t ndone;
	sk_buf out;
	int failed;
};

static json_t *delete_body(struct delete_opts *o)
{
	json_t *b = json_pack("{s:s}", "propagationPolicy", o->policy);

	if (o->grace >= 0)
		json_object_set_new(b, "gracePeriodSeconds", json_integer(o->grace));
	return b;
}

static void remember(struct delete_run *d, const struct cli_resource *r, const char *ns,
		     const char *name, json_t *answer)
{
	const char *uid = cli_meta(answer, "uid");

	if (!uid) /* a Status answer names the uid in its details */
		uid = json_string_value(json_object_get(json_object_get(answer, "details"), "uid"));
	d->done = sk_realloc(d->done, (d->ndone + 1) * sizeof(*d->done));
	d->done[d->ndone++] = (struct deleted){r, ns ? sk_strdup(ns) : NULL, sk_strdup(name),
					       uid ? sk_strdup(uid) : NULL};
}

/* DELETE one object; source names the file for kubectl's error text. */
static int delete_one(struct delete_run *d, const struct cli_resource *r, const char *ns,
		      const char *name, const char *source)
{
	_cleanup_free_ char *path = cli_resource_path(r, ns, name, NULL);
	_cleanup_free_ char *kind = cli_resource_kind_name(r);
	json_t *body = delete_body(d->o), *answer = NULL;
	sk_err err = {0};
	long code;
	int rc = cli_request(d->c, "DELETE", path, NULL, NULL, body, &answer, &code, &err);

	json_decref(body);
	if (rc < 0) {
		if (code == 404 && d->o->ignore_not_found) {
			json_decref(answer);
			return 0;
		}
		if (code && source)
			cli_status_message_source(answer, code, "deleting", source, &err);
		json_decref(answer);
		cli_fail(&err);
		d->failed = 1;
		return code ? 0 : -1; /* a transport failure stops everything */
	}
	sk_buf_printf(&d->out, "%s \"%s\" deleted\n", kind, name);
	cli_flush_out(&d->out);
	remember(d, r, ns, name, answer);
	json_decref(answer);
	return 0;
}

static int delete_files(struct delete_run *d)
{
	json_t *objs = NULL, *item;
	sk_err err = {0};
	size_t i;

	if (cli_read_objects(d->o->files, d->o->recursive, &objs, &err) < 0)
		return cli_fail(&err);
	json_array_foreach (objs, i, item) {
		json_t *obj = json_object_get(item, "object");
		const char *source = json_string_value(json_object_get(item, "source"));
		struct cli_target t;

		if (cli_object_target(d->c, obj, source, &t, &err) < 0 || !t.name) {
			if (!t.name && err.msg[0] == '\0')
				sk_err_set(&err, EINVAL, "error: resource name may not be empty");
			cli_fail(&err);
			d->failed = 1;
			continue;
		}
		if (delete_one(d, t.res, t.ns, t.name, source) < 0)
			break;
	}
	json_decref(objs);
	return d->failed;
}

/* TYPE -l SEL or TYPE --all: list, then delete what the list holds. */
static int delete_selected(struct delete_run *d, const struct cli_resource *r)
{
	_cleanup_free_ char *sel = d->o->selector ? sk_url_escape(d->o->selector) : NULL;
	_cleanup_free_ char *q = sel ? sk_asprintf("labelSelector=%s", sel) : NULL;
	_cleanup_free_ char *path = cli_resource_path(r, d->c->ns, NULL, q);
	json_t *list = NULL, *item;
	sk_err err = {0};
	size_t i;

	if (cli_request(d->c, "GET", path, NULL, NULL, NULL, &list, NULL, &err) < 0) {
		json_decref(list);
		return cli_fail(&err);
	}
	if (json_array_size(json_object_get(list, "items")) == 0) {
		printf("No resources found\n");
		fflush(stdout);
	}
	json_array_foreach (json_object_get(list, "items"), i, item)
		if (delete_one(d, r, cli_meta(item, "namespace"), cli_meta(item, "name"), NULL) < 0)
			break;
	json_decref(list);
	return d->failed;
}

static int delete_args(struct delete_run *d, char **args)
{
	const struct cli_resource *r;
	sk_err err = {0};

	if (!args[0])
		return cli_failf("error: You must provide one or more resources by argument or "
				 "filename.");
	if (strchr(args[0], '/')) {
		for (char **a = args; *a; a++) {
			char *slash = strchr(*a, '/');
			_cleanup_free_ char *type =
				slash ? sk_strndup(*a, (size_t)(slash - *a)) : NULL;

			if (!slash)
				return cli_failf(
					"error: arguments in resource/name form must have a "
					"single resource and name");
			if (cli_resolve(d->c, type, &r, &err) < 0)
				return cli_fail(&err);
			if (delete_one(d, r, d->c->ns, slash + 1, NULL) < 0)
				return 1;
		}
		return d->failed;
	}
	if (cli_resolve(d->c, args[0], &r, &err) < 0)
		return cli_fail(&err);
	if (d->o->selector || d->o->all) {
		if (args[1])
			return cli_failf("error: name cannot be provided when a selector is "
					 "specified");
		return delete_selected(d, r);
	}
	if (!args[1])
		return cli_failf("error: resource(s) were provided, but no name was specified");
	for (char **n = args + 1; *n; n++)
		if (delete_one(d, r, d->c->ns, *n, NULL) < 0)
			return 1;
	return d->failed;
}

/* Gone: a 404, or an object of the same name with another uid. */
static bool is_gone(struct delete_run *d, struct deleted *x)
{
	_cleanup_free_ char *path = cli_resource_path(x->res, x->ns, x->name, NULL);
	json_t *obj = NULL;
	sk_err err = {0};
	long code;
	bool gone;

	if (cli_request(d->c, "GET", path, NULL, NULL, NULL, &obj, &code, &err) < 0)
		gone = code == 404 || code == 0;
	else
		gone = x->uid && !sk_streq(cli_meta(obj, "uid"), x->uid);
	json_decref(obj);
	return gone;
}

static int wait_gone(struct delete_run *d)
{
	int64_t sleep_ms = 25;

	for (size_t i = 0; i < d->ndone; i++) {
		while (!is_gone(d, &d->done[i])) {
			struct timespec ts = {0, sleep_ms * 1000000};

			nanosleep(&ts, NULL);
			if (sleep_ms < 400)
				sleep_ms *= 2;
		}
	}
	return 0;
}

static int cascade_policy(struct delete_opts *o, sk_err *err)
{
	const char *c = o->cascade;

	if (!c || !strcmp(c, "background") || !strcmp(c, "true"))
		o->policy = "Background";
	else if (!strcmp(c, "foreground"))
		o->policy = "Foreground";
	else if (!strcmp(c, "orphan") || !strcmp(c, "false"))
		o->policy = "Orphan";
	else
		return sk_err_set(err, EINVAL,
				  "error: invalid cascade value (%s). Must be \"background\", "
				  "\"foreground\", or \"orphan\"",
				  c);
	return 0;
}

static int cmd_delete(int argc, char **argv)
{
	struct delete_opts o = {.grace = -1, .wait = true};
	_cleanup_strv_ char **args = NULL;
	struct cli_flag flags[] = {
		{"filename", 'f', CLI_FLAG_STRINGS, &o.files, NULL},
		{"recursive", 'R', CLI_FLAG_BOOL, &o.recursive, NULL},
		{"selector", 'l', CLI_FLAG_STRING, &o.selector, NULL},
		{"all", 0, CLI_FLAG_BOOL, &o.all, NULL},
		{"cascade", 0, CLI_FLAG_STRING, &o.cascade, NULL},
		{"grace-period", 0, CLI_FLAG_INT, &o.grace, NULL},
		{"now", 0, CLI_FLAG_BOOL, &o.now, NULL},
		{"force", 0, CLI_FLAG_BOOL, &o.force, NULL},
		{"ignore-not-found", 0, CLI_FLAG_BOOL, &o.ignore_not_found, NULL},
		{"wait", 0, CLI_FLAG_BOOL, &o.wait, NULL},
		{0},
	};
	struct cli_client c;
	struct delete_run d = {.c = &c, .o = &o};
	sk_err err = {0};
	int rc;

	if (cli_parse_flags(argc, argv, flags, USAGE, &args, &err) < 0) {
		sk_strv_free(o.files);
		return cli_failf("error: %s", err.msg);
	}
	if (cascade_policy(&o, &err) < 0) {
		sk_strv_free(o.files);
		return cli_fail(&err);
	}
	if (o.now) {
		if (o.grace >= 0) {
			sk_strv_free(o.files);
			return cli_failf(
				"error: --now and --grace-period cannot be specified together");
		}
		o.grace = 1;
	}
	if (o.force && o.grace < 0)
		o.grace = 0;
	if (o.force && o.grace == 0)
		fprintf(stderr,
			"Warning: Immediate deletion does not wait for confirmation that the "
			"running resource has been terminated. The resource may continue to "
			"run on the cluster indefinitely.\n");
	if (cli_client_open(&c, &err) < 0) {
		sk_strv_free(o.files);
		return cli_fail(&err);
	}
	sk_buf_init(&d.out);
	if (o.files && o.files[0])
		rc = args[0] ? cli_failf("error: when paths, URLs, or stdin is provided as input, "
					 "you may not specify resource arguments as well")
			     : delete_files(&d);
	else
		rc = delete_args(&d, args);
	if (o.wait && d.ndone > 0)
		wait_gone(&d);
	for (size_t i = 0; i < d.ndone; i++) {
		free(d.done[i].ns);
		free(d.done[i].name);
		free(d.done[i].uid);
	}
	free(d.done);
	sk_buf_free(&d.out);
	cli_client_close(&c);
	sk_strv_free(o.files);
	return rc;
}
SK_COMMAND(delete, "delete", cmd_delete,
	   "delete resources by file, name or selector (as kubectl delete)");
