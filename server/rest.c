/* Routing of Kubernetes REST paths to the verbs.
 *
 *   /api/v1[/watch]/namespaces/{ns}/{resource}[/{name}[/{subresource}]]
 *   /api/v1[/watch]/{resource}[/{name}[/{subresource}]]   cluster scope, or
 *                                                         every namespace
 *   /apis/{group}/{version}/...                           the same below
 *
 * Subresources are a table (subresource name -> handler), so that log,
 * exec and proxy can be added beside status, scale, binding and finalize. */
#include "srv_internal.h"

#include <errno.h>
#include <gnutls/gnutls.h>

/* ---- parameters -------------------------------------------------------------- */

static bool query_true(srv_req *r, const char *key)
{
	const char *v = srv_req_query(r, key);

	return v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "True"));
}

static bool dry_run(srv_req *r)
{
	const char *v = srv_req_query(r, "dryRun");

	return v && *v;
}

/* "Accept: application/json;as=Table;v=v1;g=meta.k8s.io, ..." */
static bool wants_table(srv_req *r)
{
	const char *a = srv_req_header(r, MHD_HTTP_HEADER_ACCEPT);

	return a && strstr(a, "as=Table") && strstr(a, "g=meta.k8s.io");
}

static enum api_table_include table_include(srv_req *r)
{
	const char *v = srv_req_query(r, "includeObject");

	if (v && !strcmp(v, "Object"))
		return API_TABLE_OBJECT;
	if (v && !strcmp(v, "None"))
		return API_TABLE_NONE;
	return API_TABLE_METADATA;
}

/* A field selector that is only "metadata.name=X" (kubectl's delete wait
 * and rollout status send it) becomes a name match: no object needs to
 * be parsed to answer it. */
static char *plain_name_selector(const char *s)
{
	const char *v;

	if (!s)
		return NULL;
	if (sk_startswith(s, "metadata.name=="))
		v = s + 15;
	else if (sk_startswith(s, "metadata.name="))
		v = s + 14;
	else
		return NULL;
	if (strpbrk(v, ",!=()") || !*v)
		return NULL;
	return sk_strdup(v);
}

struct selectors {
	api_selector *labels, *fields;
	char *name;
};

static void selectors_clear(struct selectors *s)
{
	api_selector_free(s->labels);
	api_selector_free(s->fields);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

static int parse_selectors(srv_req *r, const api_kind *k, struct selectors *sel)
{
	const char *ls = srv_req_query(r, "labelSelector"), *fs = srv_req_query(r, "fieldSelector");
	sk_err err = {0};

	memset(sel, 0, sizeof(*sel));
	if (ls && *ls && api_label_selector_parse(ls, &sel->labels, &err) < 0) {
		srv_reply_status(
			r, api_status_bad_request("unable to parse requirement: %s", err.msg));
		return -1;
	}
	if (fs && *fs) {
		sel->name = plain_name_selector(fs);
		if (!sel->name && api_field_selector_parse(k, fs, &sel->fields, &err) < 0) {
			selectors_clear(sel);
			srv_reply_status(r, api_status_bad_request("%s", err.msg));
			return -1;
		}
	}
	return 0;
}

/* ---- reads ------------------------------------------------------------------------ */

static json_t *objs_to_array(srv_obj **objs, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = srv_obj_parse(objs[i]);
		if (o)
			json_array_append_new(arr, o);
	}
	return arr;
}

static void reply_table(srv_req *r, const api_kind *k, json_t *items, int64_t rev, const char *cont)
{
	char rv[32];
	json_t *t;

	snprintf(rv, sizeof(rv), "%lld", (long long)rev);
	t = api_table(k, items, rv, sk_now_ns() / 1000000000LL, table_include(r));
	if (cont)
		api_set_str(t, "metadata.continue", cont);
	srv_reply_json(r, 200, t);
}

static void do_get(srv_req *r, const api_kind *k, const char *ns, const char *name)
{
	_cleanup_free_ char *key = srv_key(k, ns, name);
	_cleanup_obj_ srv_obj *o = srv_cache_get(r->srv->cache, key);

	if (!o) {
		srv_reply_status(r, api_status_not_found(k, name));
		return;
	}
	if (wants_table(r)) {
		json_t *items = json_array();
		json_t *obj = srv_obj_parse(o);
		if (obj)
			json_array_append_new(items, obj);
		reply_table(r, k, items, o->rev, NULL);
		json_decref(items);
		return;
	}
	char *body = sk_malloc(o->len + 2);
	memcpy(body, o->json, o->len);
	body[o->len] = '\n';
	body[o->len + 1] = '\0';
	srv_reply(r, 200, "application/json", body, o->len + 1);
}

/* The list as text: the stored objects are pasted in as they are. */
static void reply_list(srv_req *r, const api_kind *k, srv_list *l)
{
	sk_buf b;
	size_t total = 128;

	for (size_t i = 0; i < l->n; i++)
		total += l->items[i]->len + 1;
	sk_buf_init(&b);
	b.data = sk_malloc(total + 256);
	b.cap = total + 256;
	b.data[0] = '\0';
	sk_buf_printf(&b,
		      "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
		      "\"%lld\"",
		      k->list_kind, k->api_version, (long long)l->rev);
	if (l->cont)
		sk_buf_printf(&b, ",\"continue\":\"%s\"", l->cont);
	sk_buf_puts(&b, "},\"items\":[");
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			sk_buf_putc(&b, ',');
		sk_buf_append(&b, l->items[i]->json, l->items[i]->len);
	}
	sk_buf_puts(&b, "]}\n");
	size_t len = b.len;
	srv_reply(r, 200, "application/json", sk_buf_steal(&b), len);
}

static void do_list(srv_req *r, const api_kind *k, const char *ns)
{
	struct selectors sel;
	srv_list_opts o = {0};
	srv_list l = {0};
	srv_result res = {0};
	const char *limit = srv_req_query(r, "limit");
	int64_t lim = 0;

	if (limit && *limit && sk_parse_int64(limit, 0, INT64_MAX, &lim, NULL) < 0) {
		srv_reply_status(r, api_status_bad_request("invalid limit: %s", limit));
		return;
	}
	if (parse_selectors(r, k, &sel) < 0)
		return;
	o.ns = ns;
	o.labels = sel.labels;
	o.fields = sel.fields;
	o.name = sel.name;
	o.limit = (size_t)lim;
	o.cont = srv_req_query(r, "continue");
	o.rv = srv_req_query(r, "resourceVersion");
	o.rv_match = srv_req_query(r, "resourceVersionMatch");
	if (srv_list_objects(r->srv, k, &o, &l, &res) < 0) {
		selectors_clear(&sel);
		srv_reply_result(r, &res);
		return;
	}
	selectors_clear(&sel);
	if (wants_table(r)) {
		json_t *items = objs_to_array(l.items, l.n);
		reply_table(r, k, items, l.rev, l.cont);
		json_decref(items);
	} else {
		reply_list(r, k, &l);
	}
	srv_list_clear(&l);
}

static void do_watch(srv_req *r, const api_kind *k, const char *ns, const char *name)
{
	struct selectors sel;

	if (parse_selectors(r, k, &sel) < 0)
		return;
	if (name) {
		free(sel.name);
		sel.name = sk_strdup(name);
	}
	srv_watch_serve(r, k, ns, move_ptr(sel.labels), move_ptr(sel.fields), sel.name);
	selectors_clear(&sel);
}

/* ---- writes ----------------------------------------------------------------------- */

static void do_create(srv_req *r, const api_kind *k, const char *ns)
{
	srv_write_opts o = {.dry_run = dry_run(r)};
	srv_result res = {0};
	json_t *obj;

	if (srv_decode_body(r, &obj, &res) < 0) {
		srv_reply_result(r, &res);
		return;
	}
	srv_create(r->srv, k, ns, obj, &o, &res);
	srv_reply_result(r, &res);
}

static void do_update(srv_req *r, const api_kind *k, const char *ns, const char *name,
		      const char *sub)
{
	srv_write_opts o = {.dry_run = dry_run(r), .subresource = sub};
	srv_result res = {0};
	json_t *obj;

	if (srv_decode_body(r, &obj, &res) < 0) {
		srv_reply_result(r, &res);
		return;
	}
	srv_update(r->srv, k, ns, name, obj, &o, &res);
	srv_reply_result(r, &res);
}

static int patch_type(srv_req *r, enum srv_patch_type *t)
{
	const char *ct = srv_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);

	if (!ct)
		return -1;
	if (sk_startswith(ct, "application/merge-patch+json"))
		*t = SRV_PATCH_MERGE;
	else if (sk_startswith(ct, "application/json-patch+json"))
		*t = SRV_PATCH_JSON;
	else if (sk_startswith(ct, "application/strategic-merge-patch+json"))
		*t = SRV_PATCH_STRATEGIC;
	else
		return -1;
	return 0;
}

static int parse_patch(srv_req *r, enum srv_patch_type *t, json_t **patch)
{
	sk_err err = {0};

	if (patch_type(r, t) < 0) {
		srv_reply_status(r, api_status_unsupported_media_type(
					    "application/json-patch+json, "
					    "application/merge-patch+json, "
					    "application/strategic-merge-patch+json"));
		return -1;
	}
	*patch = json_loadb(r->body.data ? r->body.data : "", r->body.len,
			    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!*patch || (*t == SRV_PATCH_JSON ? !json_is_array(*patch) : !json_is_object(*patch))) {
		json_error_t je;
		json_decref(*patch);
		*patch = NULL;
		if (!json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_DECODE_ANY,
				&je))
			sk_err_set(&err, EINVAL, "%s", je.text);
		else
			sk_err_set(&err, EINVAL, "the patch must be a JSON %s",
				   *t == SRV_PATCH_JSON ? "array of operations" : "object");
		srv_reply_status(r, api_status_bad_request("error decoding patch: %s", err.msg));
		return -1;
	}
	return 0;
}

static void do_patch(srv_req *r, const api_kind *k, const char *ns, const char *name,
		     const char *sub)
{
	srv_write_opts o = {.dry_run = dry_run(r), .subresource = sub};
	srv_result res = {0};
	enum srv_patch_type t;
	json_t *patch;

	if (parse_patch(r, &t, &patch) < 0)
		return;
	srv_patch(r->srv, k, ns, name, t, patch, &o, &res);
	json_decref(patch);
	srv_reply_result(r, &res);
}

/* DeleteOptions come as a body, as query parameters, or both. */
static int delete_options(srv_req *r, json_t **body, srv_delete_opts *o, srv_result *res)
{
	const char *v;

	*body = NULL;
	if (r->body.len) {
		if (srv_decode_body(r, body, res) < 0)
			return -1;
	} else {
		*body = json_object();
	}
	if ((v = srv_req_query(r, "gracePeriodSeconds"))) {
		int64_t g;
		if (sk_parse_int64(v, INT64_MIN, INT64_MAX, &g, NULL) < 0)
			return srv_fail(
				res, api_status_bad_request("invalid gracePeriodSeconds: %s", v));
		json_object_set_new(*body, "gracePeriodSeconds", json_integer(g));
	}
	if ((v = srv_req_query(r, "propagationPolicy")))
		json_object_set_new(*body, "propagationPolicy", json_string(v));
	if ((v = srv_req_query(r, "orphanDependents")))
		json_object_set_new(*body, "orphanDependents", json_boolean(!strcmp(v, "true")));
	if (srv_delete_opts_parse(*body, o, res) < 0)
		return -1;
	o->dry_run = o->dry_run || dry_run(r);
	return 0;
}

static void do_delete(srv_req *r, const api_kind *k, const char *ns, const char *name)
{
	srv_delete_opts o;
	srv_result res = {0};
	json_t *body;

	if (delete_options(r, &body, &o, &res) < 0) {
		json_decref(body);
		srv_reply_result(r, &res);
		return;
	}
	srv_delete(r->srv, k, ns, name, &o, &res);
	json_decref(body);
	srv_reply_result(r, &res);
}

static void do_delete_collection(srv_req *r, const api_kind *k, const char *ns)
{
	struct selectors sel;
	srv_list_opts lo = {0};
	srv_list l = {0};
	srv_delete_opts o;
	srv_result res = {0};
	json_t *body;

	if (delete_options(r, &body, &o, &res) < 0) {
		json_decref(body);
		srv_reply_result(r, &res);
		return;
	}
	if (parse_selectors(r, k, &sel) < 0) {
		json_decref(body);
		return;
	}
	lo.ns = ns;
	lo.labels = sel.labels;
	lo.fields = sel.fields;
	lo.name = sel.name;
	if (srv_list_objects(r->srv, k, &lo, &l, &res) < 0) {
		selectors_clear(&sel);
		json_decref(body);
		srv_reply_result(r, &res);
		return;
	}
	/* the answer is the list of what was deleted, built as text like a
	 * LIST: parsing thousands of objects would only cost memory */
	size_t kept = 0;
	for (size_t i = 0; i < l.n; i++) {
		srv_result one = {0};
		if (srv_delete(r->srv, k, l.items[i]->ns, l.items[i]->name, &o, &one) == 0)
			l.items[kept++] = l.items[i];
		else
			srv_obj_unref(l.items[i]);
		srv_result_clear(&one);
	}
	l.n = kept;
	free(l.cont);
	l.cont = NULL;
	l.rev = srv_cache_rev(r->srv->cache);
	reply_list(r, k, &l);
	srv_list_clear(&l);
	selectors_clear(&sel);
	json_decref(body);
}

/* ---- subresources ------------------------------------------------------------------- */

typedef void (*sub_handler)(srv_req *r, const api_kind *k, const char *ns, const char *name);

static void sub_status(srv_req *r, const api_kind *k, const char *ns, const char *name)
{
	if (!strcmp(r->method, "GET"))
		do_get(r, k, ns, name);
	else if (!strcmp(r->method, "PUT"))
		do_update(r, k, ns, name, "status");
	else if (!strcmp(r->method, "PATCH"))
		do_patch(r, k, ns, name, "status");
	else
		srv_reply_status(r, api_status_method_not_allowed(k, r->method));
}

static void sub_finalize(srv_req *r, const api_kind *k, const char *ns, const char *name)
{
	if (!strcmp(r->method, "PUT"))
		do_update(r, k, ns, name, "finalize");
	else
		srv_reply_status(r, api_status_method_not_allowed(k, r->method));
}

static void sub_binding(srv_req *r, const api_kind *k, const char *ns, const char *name)
{
	srv_write_opts o = {.dry_run = dry_run(r)};
	srv_result res = {0};
	json_t *b;

	if (strcmp(r->method, "POST") != 0) {
		srv_reply_status(r, api_status_method_not_allowed(k, r->method));
		return;
	}
	if (srv_decode_body(r, &b, &res) < 0) {
		srv_reply_result(r, &res);
		return;
	}
	srv_bind(r->srv, ns, name, b, &o, &res);
	json_decref(b);
	srv_reply_result(r, &res);
}

static void sub_scale(srv_req *r, const api_kind *k, const char *ns, const char *name)
{
	srv_write_opts o = {.dry_run = dry_run(r)};
	srv_result res = {0};
	enum srv_patch_type t;
	json_t *body;

	if (!strcmp(r->method, "GET")) {
		srv_scale_get(r->srv, k, ns, name, &res);
	} else if (!strcmp(r->method, "PUT")) {
		if (srv_decode_body(r, &body, &res) < 0) {
			srv_reply_result(r, &res);
			return;
		}
		srv_scale_update(r->srv, k, ns, name, body, &o, &res);
		json_decref(body);
	} else if (!strcmp(r->method, "PATCH")) {
		if (parse_patch(r, &t, &body) < 0)
			return;
		srv_scale_patch(r->srv, k, ns, name, t, body, &o, &res);
		json_decref(body);
	} else {
		srv_reply_status(r, api_status_method_not_allowed(k, r->method));
		return;
	}
	srv_reply_result(r, &res);
}

static const struct {
	const char *resource; /* NULL: any kind that lists the subresource */
	const char *name;
	sub_handler fn;
} sub_routes[] = {
	{NULL, "status", sub_status},	     {"namespaces", "finalize", sub_finalize},
	{"pods", "binding", sub_binding},    {"deployments", "scale", sub_scale},
	{"replicasets", "scale", sub_scale}, {"pods", "log", srv_pod_log},
	{"pods", "exec", srv_pod_exec},
};

static void do_subresource(srv_req *r, const api_kind *k, const char *ns, const char *name,
			   const char *sub)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(sub_routes); i++) {
		if (strcmp(sub_routes[i].name, sub) != 0)
			continue;
		if (sub_routes[i].resource ? strcmp(sub_routes[i].resource, k->resource) != 0
					   : !api_kind_subresource(k, sub))
			continue;
		sub_routes[i].fn(r, k, ns, name);
		return;
	}
	srv_reply_status(r, api_status_not_found(NULL, NULL));
}

/* ---- dispatch ------------------------------------------------------------------------ */

static bool has_verb(const api_kind *k, const char *verb)
{
	for (const char *const *v = k->verbs; v && *v; v++)
		if (!strcmp(*v, verb))
			return true;
	return false;
}

struct route {
	const api_kind *kind;
	const char *ns; /* NULL: cluster scope or every namespace */
	const char *name;
	const char *sub;
	bool watch; /* the legacy /watch/ prefix */
};

/* Resolve the part after the group-version. false when no resource
 * matches. */
static bool resolve(const char *group, const char *version, char **rest, size_t n, struct route *rt)
{
	memset(rt, 0, sizeof(*rt));
	if (n && !strcmp(rest[0], "watch")) {
		rt->watch = true;
		rest++;
		n--;
	}
	if (n == 0)
		return false;
	/* namespaces/{ns}/{resource}... for namespaced resources */
	if (!strcmp(rest[0], "namespaces") && n >= 3) {
		const api_kind *k = api_kind_by_resource(group, rest[2]);
		if (k && k->namespaced && !strcmp(k->version, version)) {
			if (n > 5)
				return false;
			rt->kind = k;
			rt->ns = rest[1];
			rt->name = n >= 4 ? rest[3] : NULL;
			rt->sub = n == 5 ? rest[4] : NULL;
			return true;
		}
	}
	const api_kind *k = api_kind_by_resource(group, rest[0]);
	if (!k || strcmp(k->version, version) != 0 || n > 3)
		return false;
	/* a namespaced resource without a namespace is a list across all */
	if (k->namespaced && n > 1)
		return false;
	rt->kind = k;
	rt->name = n >= 2 ? rest[1] : NULL;
	rt->sub = n == 3 ? rest[2] : NULL;
	return true;
}

static void dispatch(srv_req *r, struct route *rt)
{
	const char *m = r->method;
	const api_kind *k = rt->kind;

	if (rt->sub) {
		do_subresource(r, k, rt->ns, rt->name, rt->sub);
		return;
	}
	bool watch = rt->watch || query_true(r, "watch");
	if (!rt->name) {
		if (!strcmp(m, "GET"))
			watch ? do_watch(r, k, rt->ns, NULL) : do_list(r, k, rt->ns);
		else if (!strcmp(m, "POST") && (rt->ns || !k->namespaced))
			do_create(r, k, rt->ns);
		else if (!strcmp(m, "DELETE") && has_verb(k, "deletecollection"))
			do_delete_collection(r, k, rt->ns);
		else
			srv_reply_status(r, api_status_method_not_allowed(k, m));
		return;
	}
	if (!strcmp(m, "GET"))
		watch ? do_watch(r, k, rt->ns, rt->name) : do_get(r, k, rt->ns, rt->name);
	else if (!strcmp(m, "PUT"))
		do_update(r, k, rt->ns, rt->name, NULL);
	else if (!strcmp(m, "PATCH"))
		do_patch(r, k, rt->ns, rt->name, NULL);
	else if (!strcmp(m, "DELETE"))
		do_delete(r, k, rt->ns, rt->name);
	else
		srv_reply_status(r, api_status_method_not_allowed(k, m));
}

static void reply_text(srv_req *r, int code, const char *text)
{
	srv_reply(r, code, "text/plain; charset=utf-8", sk_strdup(text), strlen(text));
}

static void do_version(srv_req *r)
{
	json_t *v =
		json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "major", SRV_VERSION_MAJOR,
			  "minor", SRV_VERSION_MINOR, "gitVersion", SRV_VERSION_GIT, "gitCommit",
			  "0000000000000000000000000000000000000000", "gitTreeState", "clean",
			  "buildDate", "2026-11-25T00:00:00Z", "goVersion", "none (C)", "compiler",
			  "gcc", "platform", "linux/amd64");
	srv_reply_json(r, 200, v);
}

/* Prometheus text format, as the apiserver's /metrics. */
static void do_metrics(srv_req *r)
{
	srv_server *s = r->srv;
	uint64_t writes, txns;
	sk_buf b;

	srv_store_stats(s->store, &writes, &txns);
	sk_buf_init(&b);
	sk_buf_printf(&b,
		      "# TYPE skiff_requests_total counter\nskiff_requests_total %llu\n"
		      "# TYPE skiff_store_writes_total counter\nskiff_store_writes_total %llu\n"
		      "# TYPE skiff_store_transactions_total counter\n"
		      "skiff_store_transactions_total %llu\n"
		      "# TYPE skiff_store_revision gauge\nskiff_store_revision %lld\n"
		      "# TYPE skiff_store_compacted_revision gauge\n"
		      "skiff_store_compacted_revision %lld\n"
		      "# TYPE skiff_objects gauge\nskiff_objects %zu\n"
		      "# TYPE skiff_watches gauge\nskiff_watches %zu\n",
		      (unsigned long long)atomic_load(&s->requests), (unsigned long long)writes,
		      (unsigned long long)txns, (long long)srv_store_current_rev(s->store),
		      (long long)srv_store_compact_rev(s->store), srv_cache_count(s->cache),
		      srv_cache_watch_count(s->cache));
	size_t len = b.len;
	srv_reply(r, 200, "text/plain; version=0.0.4", sk_buf_steal(&b), len);
}

static bool handle_fixed(srv_req *r)
{
	const char *p0 = r->nsegs ? r->segs[0] : "";

	if (r->nsegs == 1 &&
	    (!strcmp(p0, "healthz") || !strcmp(p0, "livez") || !strcmp(p0, "readyz"))) {
		reply_text(r, 200, "ok");
		return true;
	}
	if (r->nsegs == 1 && !strcmp(p0, "version")) {
		do_version(r);
		return true;
	}
	if (r->nsegs == 1 && !strcmp(p0, "cacerts") && r->srv->ca_pem) {
		reply_text(r, 200, r->srv->ca_pem);
		return true;
	}
	if (r->nsegs == 1 && !strcmp(p0, "metrics")) {
		do_metrics(r);
		return true;
	}
	/* kubectl's validation reads the OpenAPI document as protobuf; an
	 * empty one is a valid empty document (no schemas, so client-side
	 * validation is skipped). See shared/kubectl/COMPAT.md. */
	if (r->nsegs == 2 && !strcmp(p0, "openapi") && !strcmp(r->segs[1], "v2")) {
		srv_reply(r, 200, "application/octet-stream", NULL, 0);
		return true;
	}
	return false;
}

void srv_rest_handle(srv_req *r)
{
	struct route rt;
	bool ok = false;

	if (handle_fixed(r) || srv_discovery_handle(r))
		return;
	if (r->nsegs >= 3 && !strcmp(r->segs[0], "api") && !strcmp(r->segs[1], "v1"))
		ok = resolve("", "v1", r->segs + 2, r->nsegs - 2, &rt);
	else if (r->nsegs >= 4 && !strcmp(r->segs[0], "apis"))
		ok = resolve(r->segs[1], r->segs[2], r->segs + 3, r->nsegs - 3, &rt);
	if (!ok) {
		srv_reply_status(r, api_status_not_found(NULL, NULL));
		return;
	}
	dispatch(r, &rt);
}
