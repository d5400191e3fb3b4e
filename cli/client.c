/* The API client under the kubectl-style commands: one kept-alive HTTP
 * connection from the kubeconfig, kubectl's wording for every kind of
 * failure, discovery with kubectl's name resolution (plural, singular,
 * short names, resource.group, resource.version.group), and reading
 * manifests from files, directories and stdin. */
#include "kube_internal.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

/* ---- connection ---------------------------------------------------------- */

static long request_timeout_ms(void)
{
	const char *s = cli_globals.request_timeout;
	char *end;
	double v;

	if (!s || !*s)
		return 0;
	v = strtod(s, &end);
	if (!strcmp(end, "ms"))
		return (long)v;
	if (!strcmp(end, "m"))
		return (long)(v * 60000);
	if (!strcmp(end, "h"))
		return (long)(v * 3600000);
	return (long)(v * 1000); /* "", "s" */
}

int cli_client_open(struct cli_client *c, sk_err *err)
{
	struct sk_http_config cfg = {0};

	memset(c, 0, sizeof(*c));
	if (cli_kubeconfig_load(&c->kc, err) < 0)
		return -1;
	cfg.server = c->kc.server;
	cfg.ca_file = c->kc.ca_file;
	cfg.ca_data = c->kc.ca_data;
	cfg.cert_file = c->kc.cert_file;
	cfg.cert_data = c->kc.cert_data;
	cfg.key_file = c->kc.key_file;
	cfg.key_data = c->kc.key_data;
	cfg.token = c->kc.token;
	cfg.insecure = c->kc.insecure;
	cfg.timeout_ms = request_timeout_ms();
	cfg.user_agent = "skiff/" CLI_VERSION;
	if (sk_http_new(&cfg, &c->http, err) < 0)
		return sk_err_wrap(err, "error");
	c->ns = c->kc.namespace;
	c->ns_explicit = cli_globals.namespace != NULL;
	return 0;
}

static void resource_free(struct cli_resource *r)
{
	free(r->group);
	free(r->version);
	free(r->resource);
	free(r->kind);
	free(r->singular);
	sk_strv_free(r->short_names);
	sk_strv_free(r->categories);
	sk_strv_free(r->verbs);
}

void cli_client_close(struct cli_client *c)
{
	sk_http_free(c->http);
	cli_kubeconfig_free(&c->kc);
	for (size_t i = 0; i < c->nresources; i++)
		resource_free(&c->resources[i]);
	free(c->resources);
	memset(c, 0, sizeof(*c));
}

/* ---- errors as kubectl words them ---------------------------------------- */

static const char *reason_for_code(long code)
{
	switch (code) {
	case 400:
		return "BadRequest";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 413:
		return "RequestEntityTooLarge";
	case 415:
		return "UnsupportedMediaType";
	case 422:
		return "Invalid";
	case 429:
		return "TooManyRequests";
	case 500:
		return "InternalError";
	case 503:
		return "ServiceUnavailable";
	case 504:
		return "Timeout";
	default:
		return NULL;
	}
}

/* `The Pod "x" is invalid: a: b`, or one cause per line when several. */
static bool invalid_message(json_t *status, sk_err *err)
{
	json_t *details = json_object_get(status, "details");
	json_t *causes = json_object_get(details, "causes"), *cause;
	const char *kind = json_string_value(json_object_get(details, "kind"));
	const char *group = json_string_value(json_object_get(details, "group"));
	const char *name = json_string_value(json_object_get(details, "name"));
	_cleanup_free_ char *what = NULL;
	sk_buf b;
	size_t i, n = 0;

	if (!json_is_array(causes) || json_array_size(causes) == 0 || !kind)
		return false;
	what = group && *group ? sk_asprintf("%s.%s", kind, group) : sk_strdup(kind);
	sk_buf_init(&b);
	json_array_foreach (causes, i, cause) {
		const char *field = json_string_value(json_object_get(cause, "field"));
		const char *msg = json_string_value(json_object_get(cause, "message"));
		_cleanup_free_ char *line =
			sk_asprintf("%s: %s", field ? field : "", msg ? msg : "");

		if (b.data && strstr(b.data, line)) /* kubectl drops duplicates */
			continue;
		sk_buf_printf(&b, "%s%s", n++ ? "\n* " : "", line);
	}
	if (n == 1)
		sk_err_set(err, EINVAL, "The %s \"%s\" is invalid: %s", what, name ? name : "",
			   b.data);
	else
		sk_err_set(err, EINVAL, "The %s \"%s\" is invalid: \n* %s", what, name ? name : "",
			   b.data);
	sk_buf_free(&b);
	return true;
}

void cli_status_message(json_t *status, long code, sk_err *err)
{
	const char *reason = json_string_value(json_object_get(status, "reason"));
	const char *msg = json_string_value(json_object_get(status, "message"));
	int errnum = code == 404 ? ENOENT : code == 409 ? EEXIST : EIO;

	if (!reason || !*reason)
		reason = reason_for_code(code);
	if (code == 401) {
		sk_err_set(err, EACCES, "error: You must be logged in to the server (%s)",
			   msg && *msg ? msg : "Unauthorized");
		return;
	}
	if (code == 422 && invalid_message(status, err))
		return;
	if (!msg || !*msg)
		msg = code == 404
			      ? "the server could not find the requested resource"
			      : "an error on the server has prevented the request from succeeding";
	if (reason)
		sk_err_set(err, errnum, "Error from server (%s): %s", reason, msg);
	else
		sk_err_set(err, errnum, "Error from server: %s", msg);
}

void cli_status_message_source(json_t *status, long code, const char *verb, const char *source,
			       sk_err *err)
{
	json_t *copy = json_is_object(status) ? json_deep_copy(status) : json_object();
	const char *msg = json_string_value(json_object_get(copy, "message"));
	_cleanup_free_ char *text = NULL;

	if (!msg || !*msg)
		msg = code == 404 ? "the server could not find the requested resource" : "unknown";
	text = sk_asprintf("error when %s \"%s\": %s", verb, source, msg);
	json_object_set_new(copy, "message", json_string(text));
	cli_status_message(copy, code, err);
	json_decref(copy);
}

static int transport_error(struct cli_client *c, sk_err *err)
{
	const char *url = sk_http_server(c->http);

	if (err->code == ECONNREFUSED)
		return sk_err_set(err, ECONNREFUSED,
				  "The connection to the server %s was refused - did you specify "
				  "the right host or port?",
				  url);
	return sk_err_wrap(err, "Unable to connect to the server");
}

int cli_request(struct cli_client *c, const char *method, const char *path, const char *accept,
		const char *content_type, json_t *body, json_t **out, long *code, sk_err *err)
{
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct sk_http_request req = {.method = method,
				      .path = path,
				      .accept = accept,
				      .content_type = content_type,
				      .body = text,
				      .body_len = text ? strlen(text) : 0};
	struct sk_http_response resp;
	json_t *doc = NULL;
	int r = 0;

	if (out)
		*out = NULL;
	if (code)
		*code = 0;
	if (sk_http_do(c->http, &req, &resp, err) < 0)
		return transport_error(c, err);
	if (code)
		*code = resp.status;
	if (resp.body.len > 0)
		doc = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	if (resp.status < 200 || resp.status >= 300) {
		cli_status_message(doc, resp.status, err);
		if (out) /* the Status, for callers that reword it */
			*out = move_ptr(doc);
		r = -1;
	} else if (out && !doc && resp.body.len > 0) {
		r = sk_err_set(err, EBADMSG,
			       "error: %s %s: the server sent a body that is not JSON",
			       method ? method : "GET", path);
	} else if (out) {
		*out = move_ptr(doc);
	}
	json_decref(doc);
	sk_http_response_free(&resp);
	return r;
}

/* ---- discovery ------------------------------------------------------------ */

static char **json_strv(json_t *arr)
{
	char **v = sk_calloc(1, sizeof(char *));
	size_t i;
	json_t *s;

	json_array_foreach (arr, i, s)
		if (json_is_string(s))
			v = sk_strv_push(v, json_string_value(s));
	return v;
}

static char *lower(const char *s)
{
	char *l = sk_strdup(s ? s : "");

	for (char *p = l; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return l;
}

static void add_resources(struct cli_client *c, const char *group, const char *version,
			  json_t *list)
{
	size_t i;
	json_t *r;

	json_array_foreach (json_object_get(list, "resources"), i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		const char *singular = json_string_value(json_object_get(r, "singularName"));
		struct cli_resource *res;

		if (!name || strchr(name, '/'))
			continue; /* subresources */
		c->resources =
			sk_realloc(c->resources, (c->nresources + 1) * sizeof(*c->resources));
		res = &c->resources[c->nresources++];
		res->group = sk_strdup(group);
		res->version = sk_strdup(version);
		res->resource = sk_strdup(name);
		res->kind = sk_strdup(json_string_value(json_object_get(r, "kind")));
		res->singular = singular && *singular ? sk_strdup(singular) : lower(res->kind);
		res->namespaced = json_is_true(json_object_get(r, "namespaced"));
		res->short_names = json_strv(json_object_get(r, "shortNames"));
		res->categories = json_strv(json_object_get(r, "categories"));
		res->verbs = json_strv(json_object_get(r, "verbs"));
	}
}

static int discover_path(struct cli_client *c, const char *group, const char *version, sk_err *err)
{
	_cleanup_free_ char *path = *group ? sk_asprintf("/apis/%s/%s", group, version)
					   : sk_asprintf("/api/%s", version);
	json_t *list = NULL;

	if (cli_request(c, "GET", path, NULL, NULL, NULL, &list, NULL, err) < 0) {
		json_decref(list);
		return -1;
	}
	add_resources(c, group, version, list);
	json_decref(list);
	return 0;
}

int cli_discover(struct cli_client *c, bool all, sk_err *err)
{
	json_t *groups = NULL, *g;
	size_t i;

	if (c->discovered == 0) {
		if (discover_path(c, "", "v1", err) < 0)
			return -1;
		c->discovered = 1;
	}
	if (!all || c->discovered == 2)
		return 0;
	if (cli_request(c, "GET", "/apis", NULL, NULL, NULL, &groups, NULL, err) < 0) {
		json_decref(groups);
		return -1;
	}
	json_array_foreach (json_object_get(groups, "groups"), i, g) {
		const char *name = json_string_value(json_object_get(g, "name"));
		const char *version = json_string_value(
			json_object_get(json_object_get(g, "preferredVersion"), "version"));

		if (!version)
			version = json_string_value(json_object_get(
				json_array_get(json_object_get(g, "versions"), 0), "version"));
		if (name && version && discover_path(c, name, version, err) < 0) {
			json_decref(groups);
			return -1;
		}
	}
	json_decref(groups);
	c->discovered = 2;
	return 0;
}

static bool strv_has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

static const struct cli_resource *find_resource(struct cli_client *c, const char *name,
						const char *group, const char *version)
{
	/* short names first, as kubectl's shortcut expander runs first */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->nresources; i++) {
			const struct cli_resource *r = &c->resources[i];
			bool hit;

			if (group && strcmp(r->group, group) != 0)
				continue;
			if (version && strcmp(r->version, version) != 0)
				continue;
			hit = pass == 0 ? strv_has(r->short_names, name)
					: !strcmp(r->resource, name) || !strcmp(r->singular, name);
			if (hit)
				return r;
		}
	}
	return NULL;
}

/* name, name.group, name.version.group */
static const struct cli_resource *match_name(struct cli_client *c, const char *arg)
{
	_cleanup_free_ char *name = lower(arg);
	const struct cli_resource *r = find_resource(c, name, NULL, NULL);
	char *dot, *dot2;

	if (r || !(dot = strchr(name, '.')))
		return r;
	*dot = '\0';
	dot2 = strchr(dot + 1, '.');
	if (dot2) {
		*dot2 = '\0';
		r = find_resource(c, name, dot2 + 1, dot + 1);
		*dot2 = '.';
		if (r)
			return r;
	}
	return find_resource(c, name, dot + 1, NULL);
}

int cli_resolve(struct cli_client *c, const char *name, const struct cli_resource **out,
		sk_err *err)
{
	if (cli_discover(c, false, err) < 0)
		return -1;
	*out = strchr(name, '.') ? NULL : match_name(c, name);
	if (*out)
		return 0;
	if (cli_discover(c, true, err) < 0)
		return -1;
	*out = match_name(c, name);
	if (!*out)
		return sk_err_set(err, ENOENT,
				  "error: the server doesn't have a resource type \"%s\"", name);
	return 0;
}

const struct cli_resource *cli_resource_for(struct cli_client *c, const char *api_version,
					    const char *kind, sk_err *err)
{
	const char *slash = api_version ? strchr(api_version, '/') : NULL;
	_cleanup_free_ char *group =
		slash ? sk_strndup(api_version, (size_t)(slash - api_version)) : sk_strdup("");
	const char *version = slash ? slash + 1 : api_version;

	sk_err_clear(err); /* a message after NULL means discovery failed */
	if (!api_version || !kind)
		return NULL;
	for (int all = 0; all < 2; all++) {
		if (cli_discover(c, all, err) < 0)
			return NULL;
		for (size_t i = 0; i < c->nresources; i++) {
			const struct cli_resource *r = &c->resources[i];

			if (!strcmp(r->group, group) && !strcmp(r->version, version) &&
			    !strcmp(r->kind, kind))
				return r;
		}
		if (!*group)
			break; /* the core group is complete after pass 0 */
	}
	return NULL;
}

const struct cli_resource **cli_category(struct cli_client *c, const char *category)
{
	const struct cli_resource **v = sk_calloc(c->nresources + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < c->nresources; i++)
		if (strv_has(c->resources[i].categories, category))
			v[n++] = &c->resources[i];
	return v;
}

char *cli_resource_kind_name(const struct cli_resource *r)
{
	_cleanup_free_ char *k = lower(r->kind);

	return *r->group ? sk_asprintf("%s.%s", k, r->group) : sk_strdup(k);
}

char *cli_resource_api_version(const struct cli_resource *r)
{
	return *r->group ? sk_asprintf("%s/%s", r->group, r->version) : sk_strdup(r->version);
}

char *cli_resource_path(const struct cli_resource *r, const char *ns, const char *name,
			const char *query)
{
	sk_buf b;

	sk_buf_init(&b);
	if (*r->group)
		sk_buf_printf(&b, "/apis/%s/%s", r->group, r->version);
	else
		sk_buf_printf(&b, "/api/%s", r->version);
	if (r->namespaced && ns) {
		_cleanup_free_ char *e = sk_url_escape(ns);

		sk_buf_printf(&b, "/namespaces/%s", e);
	}
	sk_buf_printf(&b, "/%s", r->resource);
	if (name) {
		_cleanup_free_ char *e = sk_url_escape(name);

		sk_buf_printf(&b, "/%s", e);
	}
	if (query && *query)
		sk_buf_printf(&b, "?%s", query);
	return sk_buf_steal(&b);
}

/* ---- manifests ------------------------------------------------------------ */

static int add_doc(json_t *out, json_t *doc, const char *source, sk_err *err)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	json_t *items = json_object_get(doc, "items");
	size_t i;
	json_t *item;

	if (!json_is_object(doc))
		return sk_err_set(err, EINVAL, "error: unable to decode \"%s\": not an object",
				  source);
	if (!kind || !*kind || !json_string_value(json_object_get(doc, "apiVersion"))) {
		_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);

		return sk_err_set(err, EINVAL,
				  "error: unable to decode \"%s\": Object '%s' is missing in '%s'",
				  source, kind && *kind ? "apiVersion" : "Kind", text);
	}
	if (sk_endswith(kind, "List") && json_is_array(items)) {
		json_array_foreach (items, i, item)
			if (add_doc(out, item, source, err) < 0)
				return -1;
		return 0;
	}
	json_array_append_new(out, json_pack("{s:O,s:s}", "object", doc, "source", source));
	return 0;
}

static int read_file(json_t *out, const char *path, sk_err *err)
{
	json_t *docs = NULL, *doc;
	size_t i;
	int r = 0;

	if (api_yaml_load_file(path, &docs, err) < 0) {
		if (err->code == ENOENT && strcmp(path, "-") != 0)
			return sk_err_set(err, ENOENT, "error: the path \"%s\" does not exist",
					  path);
		return sk_err_wrap(err, "error");
	}
	json_array_foreach (docs, i, doc)
		if ((r = add_doc(out, doc, strcmp(path, "-") ? path : "STDIN", err)) < 0)
			break;
	json_decref(docs);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_path(json_t *out, const char *path, bool recursive, bool top, sk_err *err);

/* A directory: its manifests in name order, as kubectl's visitor walks it. */
static int read_dir(json_t *out, const char *path, bool recursive, sk_err *err)
{
	_cleanup_strv_ char **names = sk_calloc(1, sizeof(char *));
	DIR *d = opendir(path);
	struct dirent *de;
	int r = 0;

	if (!d)
		return sk_err_sys(err, errno, "error: open %s", path);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			names = sk_strv_push(names, de->d_name);
	closedir(d);
	qsort(names, sk_strv_len(names), sizeof(char *), name_cmp);
	for (size_t i = 0; names[i] && r == 0; i++) {
		_cleanup_free_ char *p = sk_path_join(path, names[i]);
		struct stat st;

		if (stat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (recursive)
				r = read_path(out, p, recursive, false, err);
		} else if (sk_endswith(names[i], ".yaml") || sk_endswith(names[i], ".yml") ||
			   sk_endswith(names[i], ".json")) {
			r = read_file(out, p, err);
		}
	}
	return r;
}

static int read_path(json_t *out, const char *path, bool recursive, bool top, sk_err *err)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return read_file(out, path, err);
	if (stat(path, &st) < 0)
		return sk_err_set(err, ENOENT, "error: the path \"%s\" does not exist", path);
	if (S_ISDIR(st.st_mode))
		return read_dir(out, path, recursive || top ? recursive : false, err);
	return read_file(out, path, err);
}

int cli_read_objects(char **files, bool recursive, json_t **out, sk_err *err)
{
	json_t *objs = json_array();

	for (; files && *files; files++) {
		if (read_path(objs, *files, recursive, true, err) < 0) {
			json_decref(objs);
			return -1;
		}
	}
	*out = objs;
	return 0;
}

int cli_object_target(struct cli_client *c, json_t *obj, const char *source, struct cli_target *t,
		      sk_err *err)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ns = cli_meta(obj, "namespace");

	memset(t, 0, sizeof(*t));
	t->name = cli_meta(obj, "name");
	t->res = cli_resource_for(c, av, kind, err);
	if (!t->res) {
		if (err && err->msg[0])
			return -1; /* discovery itself failed */
		return sk_err_set(
			err, ENOENT,
			"error: resource mapping not found for name: \"%s\" namespace: "
			"\"%s\" from \"%s\": no matches for kind \"%s\" in version \"%s\"",
			t->name ? t->name : "", ns ? ns : "", source, kind, av);
	}
	if (!t->res->namespaced)
		return 0;
	if (ns && *ns && c->ns_explicit && strcmp(ns, c->ns) != 0)
		return sk_err_set(err, EINVAL,
				  "error: the namespace from the provided object \"%s\" does not "
				  "match the namespace \"%s\". You must pass '--namespace=%s' to "
				  "perform this operation.",
				  ns, c->ns, ns);
	t->ns = ns && *ns ? ns : c->ns;
	return 0;
}
