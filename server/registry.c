/* The registry: each verb with the apiserver's semantics (genericregistry
 * Store and the per-kind strategies), on top of the store and the cache.
 *
 * Reads come from the cache. Writes are compare-and-swap against the
 * revision read: a read-modify-write that loses a race is retried from a
 * fresh read unless the client named the revision it expected (then 409
 * Conflict, as Kubernetes). A write that changes nothing is not stored, so
 * resourceVersion does not move (controllers would loop otherwise). */
#include "srv_internal.h"

#include <errno.h>
#include <gnutls/gnutls.h>

#define RETRIES 16
/* Kubernetes' SimpleNameGenerator: 5 random characters after a base cut
 * to 58 so the name stays a valid 63-character label. */
#define GENERATE_SUFFIX 5
#define GENERATE_BASE_MAX 58

void srv_result_clear(srv_result *r)
{
	json_decref(r->body);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

int srv_fail(srv_result *res, json_t *status)
{
	json_decref(res->body);
	free(res->text);
	res->text = NULL;
	res->body = status;
	res->code = api_status_code(status);
	return res->code < 300 ? 0 : -1;
}

static int succeed(srv_result *res, int code, json_t *obj)
{
	json_decref(res->body);
	free(res->text);
	res->text = NULL;
	res->body = obj;
	res->code = code;
	return 0;
}

static json_t *internal_error(const sk_err *err)
{
	return api_status_internal(err->msg);
}

/* ---- store writes ------------------------------------------------------------- */

static int encode_obj(int64_t rev, void *ctx, char **value, size_t *len, sk_err *err)
{
	json_t *obj = ctx;
	char *s;

	api_meta_set_resource_version_int(obj, rev);
	s = json_dumps(obj, JSON_COMPACT);
	if (!s)
		return sk_err_set(err, EINVAL, "cannot encode the object");
	*value = s;
	*len = strlen(s);
	return 0;
}

/* One store write of obj at key; obj gets its new resourceVersion. With
 * text, the stored JSON comes back (the response is that text). */
static int store_write_text(srv_server *s, enum srv_store_op_kind kind, const char *key,
			    json_t *obj, int64_t expect, char **text, size_t *len, sk_err *err)
{
	srv_store_op op = {
		.kind = kind,
		.key = key,
		.expect_rev = expect,
		.encode = encode_obj,
		.encode_ctx = obj,
		.hint = obj,
		.keep_value = text != NULL,
	};

	srv_writer_reached_store(s);
	if (srv_store_write(s->store, &op, err) < 0)
		return -1;
	if (text) {
		*text = op.value;
		*len = op.len;
	}
	return 0;
}

static int store_write(srv_server *s, enum srv_store_op_kind kind, const char *key, json_t *obj,
		       int64_t expect, sk_err *err)
{
	return store_write_text(s, kind, key, obj, expect, NULL, NULL, err);
}

/* Success with the stored text as the response. */
static int succeed_text(srv_result *res, int code, json_t *obj, char *text, size_t len)
{
	succeed(res, code, obj);
	res->text = text;
	res->len = len;
	return 0;
}

/* ---- helpers -------------------------------------------------------------------- */

static srv_obj *lookup(srv_server *s, const api_kind *k, const char *ns, const char *name)
{
	_cleanup_free_ char *key = srv_key(k, ns, name);

	return srv_cache_get(s->cache, key);
}

static json_t *invalid1(const api_kind *k, const char *name, const char *reason, const char *field,
			const char *msg)
{
	json_t *causes =
		json_pack("[{s:s,s:s,s:s}]", "reason", reason, "message", msg, "field", field);
	json_t *st = api_status_invalid(k, name, causes);

	json_decref(causes);
	return st;
}

static bool is_namespace(const api_kind *k)
{
	return !strcmp(k->kind, "Namespace") && !*k->group;
}

static bool is_pod(const api_kind *k)
{
	return !strcmp(k->kind, "Pod") && !*k->group;
}

/* Kinds whose PUT creates a missing object (AllowCreateOnUpdate). */
static bool create_on_update(const api_kind *k)
{
	static const char *const kinds[] = {"Endpoints", "Event", "Lease", "Service"};

	for (size_t i = 0; i < SK_ARRAY_SIZE(kinds); i++)
		if (!strcmp(k->kind, kinds[i]))
			return true;
	return false;
}

static bool has_finalizers(json_t *obj)
{
	json_t *f = api_get(obj, "metadata.finalizers");

	return json_is_array(f) && json_array_size(f) > 0;
}

static bool ns_has_spec_finalizers(const api_kind *k, json_t *obj)
{
	json_t *f = api_get(obj, "spec.finalizers");

	return is_namespace(k) && json_is_array(f) && json_array_size(f) > 0;
}

/* After an update, an object being deleted whose finalizers are all gone
 * (and whose grace period is over) is removed: genericregistry's
 * shouldDeleteDuringUpdate. */
static bool should_delete_now(const api_kind *k, json_t *obj)
{
	return api_meta_deletion_timestamp(obj) && !has_finalizers(obj) &&
	       !ns_has_spec_finalizers(k, obj) &&
	       api_get_int(obj, "metadata.deletionGracePeriodSeconds", 0) == 0;
}

/* ---- get and list ----------------------------------------------------------------- */

int srv_get(srv_server *s, const api_kind *k, const char *ns, const char *name, srv_result *res)
{
	_cleanup_obj_ srv_obj *o = lookup(s, k, ns, name);
	json_t *obj;

	if (!o)
		return srv_fail(res, api_status_not_found(k, name));
	obj = srv_obj_parse(o);
	if (!obj)
		return srv_fail(res, api_status_internal("stored object is not JSON"));
	return succeed(res, 200, obj);
}

bool srv_obj_selected(const srv_obj *o, api_selector *labels, api_selector *fields,
		      const char *name)
{
	if (name && strcmp(o->name, name) != 0)
		return false;
	if (labels && !api_label_selector_matches(labels, o->labels))
		return false;
	if (fields && !(o->fields && api_field_selector_matches(fields, o->fields)))
		return false;
	return true;
}

struct select_ctx {
	const srv_list_opts *o;
};

static bool select_match(const srv_obj *o, void *data)
{
	const srv_list_opts *lo = ((struct select_ctx *)data)->o;

	return srv_obj_selected(o, lo->labels, lo->fields, lo->name);
}

void srv_list_clear(srv_list *l)
{
	srv_objs_free(l->items, l->n);
	free(l->cont);
	memset(l, 0, sizeof(*l));
}

/* Continue tokens are opaque to clients; like the apiserver's they carry
 * the list's revision and the key to resume after, base64 of JSON. */
static char *continue_encode(int64_t rev, const char *key)
{
	json_t *t = json_pack("{s:s,s:I,s:s}", "v", "meta.k8s.io/v1", "rv", (json_int_t)rev,
			      "start", key);
	_cleanup_free_ char *s = json_dumps(t, JSON_COMPACT);
	gnutls_datum_t in = {.data = (unsigned char *)s, .size = (unsigned)strlen(s)}, out = {0};
	char *tok;

	json_decref(t);
	if (gnutls_base64_encode2(&in, &out) < 0)
		return NULL;
	tok = sk_strndup((const char *)out.data, out.size);
	srv_gnutls_free(out.data);
	return tok;
}

static int continue_decode(const char *tok, int64_t *rev, char **key)
{
	gnutls_datum_t in = {.data = (unsigned char *)tok, .size = (unsigned)strlen(tok)},
		       out = {0};
	json_t *t;
	int ret = -1;

	if (gnutls_base64_decode2(&in, &out) < 0)
		return -1;
	t = json_loadb((const char *)out.data, out.size, 0, NULL);
	srv_gnutls_free(out.data);
	if (json_is_object(t) && json_is_integer(json_object_get(t, "rv")) &&
	    json_is_string(json_object_get(t, "start"))) {
		*rev = json_integer_value(json_object_get(t, "rv"));
		*key = sk_strdup(json_string_value(json_object_get(t, "start")));
		ret = *rev > 0 ? 0 : -1;
	}
	json_decref(t);
	return ret;
}

struct store_list_ctx {
	const srv_list_opts *o;
	srv_list *out;
	size_t cap;
	bool more;
};

static int store_list_one(const srv_kv *kv, void *data)
{
	struct store_list_ctx *c = data;
	srv_obj *o = srv_obj_new(kv->key, kv->value, kv->len, kv->mod_rev, kv->create_rev, NULL);

	if (!o)
		return 0;
	if (!srv_obj_selected(o, c->o->labels, c->o->fields, c->o->name)) {
		srv_obj_unref(o);
		return 0;
	}
	if (c->o->limit && c->out->n == c->o->limit) {
		c->more = true;
		srv_obj_unref(o);
		return -1; /* stop: one more than the page proves there is more */
	}
	if (c->out->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->out->items = sk_realloc(c->out->items, c->cap * sizeof(*c->out->items));
	}
	c->out->items[c->out->n++] = o;
	return 0;
}

/* A list at an older revision (a continue token, or resourceVersionMatch
 * Exact): from the store's log. */
static int list_from_store(srv_server *s, const api_kind *k, const srv_list_opts *o, int64_t rev,
			   const char *after, srv_list *out, srv_result *res, bool from_token)
{
	_cleanup_free_ char *prefix = srv_key_prefix(k, o->ns);
	struct store_list_ctx c = {.o = o, .out = out};
	sk_err err = {0};

	out->rev = rev;
	if (srv_store_range(s->store, prefix, after, rev, 0, store_list_one, &c, NULL, &err) < 0 &&
	    !c.more) {
		if (err.code == SRV_STORE_COMPACTED)
			return srv_fail(
				res,
				from_token
					? api_status_gone("The provided continue parameter is "
							  "too old to display a consistent list "
							  "result. You can start a new list "
							  "without the continue parameter.")
					: api_status_expired(rev, srv_store_compact_rev(s->store)));
		if (err.code == SRV_STORE_FUTURE)
			return srv_fail(res, api_status_new(504, "Timeout", err.msg, NULL));
		return srv_fail(res, internal_error(&err));
	}
	if (c.more && out->n)
		out->cont = continue_encode(rev, out->items[out->n - 1]->key);
	return 0;
}

int srv_list_objects(srv_server *s, const api_kind *k, const srv_list_opts *o, srv_list *out,
		     srv_result *res)
{
	struct select_ctx sc = {.o = o};
	int64_t want = 0;
	bool more = false;

	memset(out, 0, sizeof(*out));
	if (o->cont && *o->cont) {
		_cleanup_free_ char *after = NULL;
		int64_t rev;
		if (continue_decode(o->cont, &rev, &after) < 0)
			return srv_fail(res, api_status_bad_request("invalid continue token"));
		_cleanup_free_ char *prefix = srv_key_prefix(k, o->ns);
		if (!sk_startswith(after, prefix))
			return srv_fail(res, api_status_bad_request(
						     "continue token does not match the request"));
		return list_from_store(s, k, o, rev, after, out, res, true);
	}
	if (o->rv && *o->rv && strcmp(o->rv, "0") != 0) {
		if (sk_parse_int64(o->rv, 1, INT64_MAX, &want, NULL) < 0)
			return srv_fail(
				res, api_status_bad_request("invalid resource version: %s", o->rv));
		if (o->rv_match && !strcmp(o->rv_match, "Exact"))
			return list_from_store(s, k, o, want, NULL, out, res, false);
	}
	srv_cache_list(s->cache, k, o->ns, NULL, select_match, &sc, o->limit, &out->items, &out->n,
		       &more, &out->rev);
	if (want > out->rev) {
		srv_list_clear(out);
		json_t *details = json_pack("{s:[{s:s,s:s}],s:i}", "causes", "reason",
					    "ResourceVersionTooLarge", "message",
					    "Too large resource version", "retryAfterSeconds", 1);
		char msg[128];
		snprintf(msg, sizeof(msg), "Too large resource version: %lld, current: %lld",
			 (long long)want, (long long)srv_cache_rev(s->cache));
		return srv_fail(res, api_status_new(504, "Timeout", msg, details));
	}
	if (more && out->n)
		out->cont = continue_encode(out->rev, out->items[out->n - 1]->key);
	return 0;
}

/* ---- create ------------------------------------------------------------------------ */

/* Namespace in URL vs body: the body may omit it; a different one is a
 * 400 (the apiserver's EnsureObjectNamespaceMatchesRequestNamespace). */
static int settle_namespace(const api_kind *k, const char *ns, json_t *obj, srv_result *res)
{
	const char *body_ns = api_meta_namespace(obj);

	if (!k->namespaced) {
		if (body_ns && *body_ns)
			api_meta_set_namespace(obj, NULL);
		return 0;
	}
	if (body_ns && *body_ns && ns && strcmp(body_ns, ns) != 0)
		return srv_fail(res, api_status_bad_request(
					     "the namespace of the provided object does not match "
					     "the namespace sent on the request"));
	if (!ns || !*ns)
		ns = body_ns && *body_ns ? body_ns : "default";
	_cleanup_free_ char *copy = sk_strdup(ns);
	api_meta_set_namespace(obj, copy);
	return 0;
}

static void generate_name(json_t *obj)
{
	const char *name = api_meta_name(obj), *gen = api_meta_generate_name(obj);
	char suffix[GENERATE_SUFFIX + 1];

	if ((name && *name) || !gen || !*gen)
		return;
	sk_random_alnum(suffix, GENERATE_SUFFIX);
	_cleanup_free_ char *n = sk_asprintf(
		"%.*s%s", (int)(strlen(gen) > GENERATE_BASE_MAX ? GENERATE_BASE_MAX : strlen(gen)),
		gen, suffix);
	api_meta_set_name(obj, n);
}

static void server_fields(json_t *obj)
{
	char uid[40];

	sk_uuid4(uid, sizeof(uid));
	api_meta_set_uid(obj, uid);
	api_meta_set_creation_timestamp(obj, sk_now_ns() / 1000000000LL);
	api_meta_set_resource_version(obj, NULL);
	api_del(obj, "metadata.selfLink");
}

static int check_valid(const api_kind *k, json_t *obj, json_t *old, bool status, srv_result *res)
{
	json_t *causes = status ? api_validate_status(k, obj, old) : api_validate(k, obj, old);

	if (causes && json_array_size(causes)) {
		srv_fail(res, api_status_invalid(k, api_meta_name(obj), causes));
		json_decref(causes);
		return -1;
	}
	json_decref(causes);
	return 0;
}

int srv_create(srv_server *s, const api_kind *k, const char *ns, json_t *obj,
	       const srv_write_opts *o, srv_result *res)
{
	_cleanup_free_ char *key = NULL;
	sk_err err = {0};

	if (api_kind_check(k, obj, &err) < 0) {
		json_decref(obj);
		return srv_fail(res, api_status_bad_request("%s", err.msg));
	}
	if (settle_namespace(k, ns, obj, res) < 0 ||
	    srv_admit_namespace(s, k, api_meta_namespace(obj), api_meta_name(obj), res) < 0) {
		json_decref(obj);
		return -1;
	}
	generate_name(obj);
	api_default(k, obj);
	api_prepare_create(k, obj);
	server_fields(obj);
	if (check_valid(k, obj, NULL, false, res) < 0 || srv_admit_create(s, k, obj, res) < 0) {
		json_decref(obj);
		return -1;
	}
	if (o && o->dry_run) {
		srv_admit_abort(s, k, obj, NULL);
		return succeed(res, 201, obj);
	}
	key = srv_key(k, api_meta_namespace(obj), api_meta_name(obj));
	char *text = NULL;
	size_t len = 0;
	if (store_write_text(s, SRV_OP_CREATE, key, obj, 0, &text, &len, &err) < 0) {
		srv_admit_abort(s, k, obj, NULL);
		if (err.code == SRV_STORE_EXISTS)
			srv_fail(res, api_status_already_exists(k, api_meta_name(obj)));
		else
			srv_fail(res, internal_error(&err));
		json_decref(obj);
		return -1;
	}
	return succeed_text(res, 201, obj, text, len);
}

/* ---- update ------------------------------------------------------------------------ */

/* Finalizers may only be removed once deletion has started. */
static int check_no_new_finalizers(const api_kind *k, json_t *obj, json_t *old, srv_result *res)
{
	json_t *nf = api_get(obj, "metadata.finalizers"), *f;
	size_t i;

	if (!api_meta_deletion_timestamp(old) || !json_is_array(nf))
		return 0;
	json_array_foreach (nf, i, f) {
		if (json_is_string(f) && !api_meta_has_finalizer(old, json_string_value(f))) {
			_cleanup_free_ char *msg = sk_asprintf(
				"Forbidden: no new finalizers can be added if the object is being "
				"deleted, found new finalizers [\"%s\"]",
				json_string_value(f));
			return srv_fail(res, invalid1(k, api_meta_name(old), "FieldValueForbidden",
						      "metadata.finalizers", msg));
		}
	}
	return 0;
}

/* namespaces/NAME/finalize changes spec.finalizers and nothing else. */
static void prepare_finalize(json_t *obj, json_t *old)
{
	json_t *fin = json_incref(api_get(obj, "spec.finalizers"));
	json_t *copy = json_deep_copy(old);

	json_object_update(obj, copy);
	json_object_clear(obj);
	json_object_update(obj, copy);
	json_decref(copy);
	if (fin)
		api_set(obj, "spec.finalizers", fin);
	else
		api_del(obj, "spec.finalizers");
}

static void prepare(const api_kind *k, const char *sub, json_t *obj, json_t *old)
{
	if (sub && !strcmp(sub, "status")) {
		api_prepare_status_update(k, obj, old);
	} else if (sub && !strcmp(sub, "finalize")) {
		prepare_finalize(obj, old);
	} else if (sub && !strcmp(sub, "binding")) {
		/* the binding's mutation is the whole change (spec.nodeName and
		 * the PodScheduled condition) */
	} else {
		api_default(k, obj);
		api_prepare_update(k, obj, old);
	}
}

/* The deleting half of an update: the last finalizer went away. */
static int finish_deletion(srv_server *s, const api_kind *k, const char *key, json_t *obj,
			   int64_t expect, srv_result *res, bool *retry)
{
	sk_err err = {0};

	*retry = false;
	if (store_write(s, SRV_OP_DELETE, key, obj, expect, &err) < 0) {
		if (err.code == SRV_STORE_CONFLICT || err.code == SRV_STORE_NOT_FOUND) {
			*retry = err.code == SRV_STORE_CONFLICT;
			if (!*retry)
				srv_fail(res, api_status_not_found(k, api_meta_name(obj)));
			return -1;
		}
		return srv_fail(res, internal_error(&err));
	}
	srv_release(s, k, obj);
	return succeed(res, 200, json_incref(obj));
}

/* One attempt of a read-modify-write. 1: retry (lost a race). */
static int update_once(srv_server *s, const api_kind *k, const char *ns, const char *name,
		       srv_mutate_fn mutate, void *ctx, const srv_write_opts *o, srv_result *res)
{
	_cleanup_free_ char *key = srv_key(k, ns, name);
	_cleanup_obj_ srv_obj *cur = srv_cache_get(s->cache, key);
	json_t *old = NULL, *obj = NULL, *status = NULL;
	const char *sub = o ? o->subresource : NULL;
	sk_err err = {0};
	int ret = -1;

	if (!cur)
		return srv_fail(res, api_status_not_found(k, name));
	old = srv_obj_parse(cur);
	obj = json_deep_copy(old);
	if (!old || !obj) {
		ret = srv_fail(res, api_status_internal("stored object is not JSON"));
		goto out;
	}
	if (mutate(&obj, ctx, &status) < 0) {
		srv_fail(res, status ? status : api_status_internal("update failed"));
		goto out;
	}
	int64_t want = api_meta_resource_version_int(obj);
	if (want < 0) {
		srv_fail(res, invalid1(k, name, "FieldValueInvalid", "metadata.resourceVersion",
				       "Invalid value: must be an integer"));
		goto out;
	}
	if (want > 0 && want != cur->rev) {
		srv_fail(res, api_status_conflict(k, name, NULL));
		goto out;
	}
	prepare(k, sub, obj, old);
	api_meta_set_resource_version_int(obj, cur->rev);
	if (srv_admit_update(s, k, obj, old, res) < 0)
		goto out;
	/* a binding is the scheduler's assignment, not a pod update: the
	 * apiserver's BindingREST does not run update validation */
	bool binding = sub && !strcmp(sub, "binding");
	if ((!binding && check_valid(k, obj, old, sub && !strcmp(sub, "status"), res) < 0) ||
	    check_no_new_finalizers(k, obj, old, res) < 0) {
		srv_admit_abort(s, k, obj, old);
		goto out;
	}
	if (should_delete_now(k, obj)) {
		bool retry;
		if (o && o->dry_run) {
			srv_admit_abort(s, k, obj, old);
			ret = succeed(res, 200, json_incref(obj));
			goto out;
		}
		ret = finish_deletion(s, k, key, obj, cur->rev, res, &retry);
		srv_admit_abort(s, k, obj, old);
		if (retry)
			ret = want > 0 ? srv_fail(res, api_status_conflict(k, name, NULL)) : 1;
		goto out;
	}
	if (api_semantic_equal(obj, old) || (o && o->dry_run)) {
		srv_admit_abort(s, k, obj, old);
		ret = succeed(res, 200, json_incref(o && o->dry_run ? obj : old));
		goto out;
	}
	char *text = NULL;
	size_t len = 0;
	if (store_write_text(s, SRV_OP_UPDATE, key, obj, cur->rev, &text, &len, &err) < 0) {
		srv_admit_abort(s, k, obj, old);
		if (err.code == SRV_STORE_CONFLICT)
			ret = want > 0 ? srv_fail(res, api_status_conflict(k, name, NULL)) : 1;
		else if (err.code == SRV_STORE_NOT_FOUND)
			srv_fail(res, api_status_not_found(k, name));
		else
			srv_fail(res, internal_error(&err));
		goto out;
	}
	srv_release_replaced(s, k, obj, old);
	ret = succeed_text(res, 200, json_incref(obj), text, len);
out:
	json_decref(old);
	json_decref(obj);
	return ret;
}

int srv_update_with(srv_server *s, const api_kind *k, const char *ns, const char *name,
		    srv_mutate_fn mutate, void *ctx, const srv_write_opts *o, srv_result *res)
{
	for (int i = 0; i < RETRIES; i++) {
		int r = update_once(s, k, ns, name, mutate, ctx, o, res);
		if (r <= 0)
			return r;
	}
	return srv_fail(res, api_status_conflict(
				     k, name, "the object is being changed too often; try again"));
}

struct put_ctx {
	const api_kind *k;
	const char *ns, *name;
	json_t *body;
};

/* PUT: the body replaces the object; its resourceVersion, when given, is
 * the precondition. */
static int put_mutate(json_t **obj, void *ctx, json_t **status)
{
	struct put_ctx *c = ctx;
	const char *bname = api_meta_name(c->body), *bns = api_meta_namespace(c->body);
	sk_err err = {0};

	if (api_kind_check(c->k, c->body, &err) < 0) {
		*status = api_status_bad_request("%s", err.msg);
		return -1;
	}
	if (bname && *bname && strcmp(bname, c->name) != 0) {
		*status = api_status_bad_request(
			"the name of the object (%s) does not match the name on the URL (%s)",
			bname, c->name);
		return -1;
	}
	if (c->k->namespaced && bns && *bns && c->ns && strcmp(bns, c->ns) != 0) {
		*status = api_status_bad_request("the namespace of the provided object does not "
						 "match the namespace sent on the request");
		return -1;
	}
	json_t *n = json_deep_copy(c->body);
	api_meta_set_name(n, c->name);
	if (c->k->namespaced)
		api_meta_set_namespace(n, c->ns);
	json_decref(*obj);
	*obj = n;
	return 0;
}

int srv_update(srv_server *s, const api_kind *k, const char *ns, const char *name, json_t *obj,
	       const srv_write_opts *o, srv_result *res)
{
	struct put_ctx c = {.k = k, .ns = ns, .name = name, .body = obj};
	const char *bname = api_meta_name(obj);
	int ret;

	if (bname && *bname && strcmp(bname, name) != 0) {
		json_t *st = api_status_bad_request("the name of the object (%s) does not match "
						    "the name on the URL (%s)",
						    bname, name);
		json_decref(obj);
		return srv_fail(res, st);
	}
	if (!o || !o->subresource) {
		_cleanup_obj_ srv_obj *cur = lookup(s, k, ns, name);
		if (!cur && create_on_update(k)) {
			api_meta_set_name(obj, name);
			api_meta_set_resource_version(obj, NULL);
			return srv_create(s, k, ns, obj, o, res);
		}
	}
	ret = srv_update_with(s, k, ns, name, put_mutate, &c, o, res);
	json_decref(obj);
	return ret;
}

/* ---- patch -------------------------------------------------------------------------- */

struct patch_ctx {
	const api_kind *k;
	enum srv_patch_type type;
	json_t *patch;
};

static int patch_mutate(json_t **obj, void *ctx, json_t **status)
{
	struct patch_ctx *c = ctx;
	json_t *out = NULL;
	sk_err err = {0};
	int r;

	switch (c->type) {
	case SRV_PATCH_MERGE:
		r = api_merge_patch(*obj, c->patch, &out, &err);
		break;
	case SRV_PATCH_JSON:
		r = api_json_patch(*obj, c->patch, &out, &err);
		break;
	default:
		r = api_strategic_merge_patch(c->k, *obj, c->patch, &out, &err);
		break;
	}
	if (r < 0) {
		if (err.code == EPROTO || err.code == E2BIG)
			*status = invalid1(c->k, api_meta_name(*obj), "FieldValueInvalid", "",
					   err.msg);
		else
			*status = api_status_bad_request("%s", err.msg);
		return -1;
	}
	if (!json_is_object(out)) {
		json_decref(out);
		*status = api_status_bad_request("the patch did not produce an object");
		return -1;
	}
	json_decref(*obj);
	*obj = out;
	return 0;
}

int srv_patch(srv_server *s, const api_kind *k, const char *ns, const char *name,
	      enum srv_patch_type type, json_t *patch, const srv_write_opts *o, srv_result *res)
{
	struct patch_ctx c = {.k = k, .type = type, .patch = patch};

	return srv_update_with(s, k, ns, name, patch_mutate, &c, o, res);
}

/* ---- delete ------------------------------------------------------------------------ */

int srv_delete_opts_parse(json_t *body, srv_delete_opts *o, srv_result *res)
{
	json_t *v;

	memset(o, 0, sizeof(*o));
	o->grace = -1;
	if (!body)
		return 0;
	if (!json_is_object(body))
		return srv_fail(res, api_status_bad_request("DeleteOptions must be an object"));
	if ((v = json_object_get(body, "gracePeriodSeconds")) && !json_is_null(v)) {
		if (!json_is_integer(v))
			return srv_fail(res, api_status_bad_request(
						     "gracePeriodSeconds must be an integer"));
		o->grace = json_integer_value(v) < 0 ? 0 : json_integer_value(v);
	}
	if ((v = json_object_get(body, "propagationPolicy")) && !json_is_null(v)) {
		const char *p = json_string_value(v);
		if (!p ||
		    (strcmp(p, "Orphan") && strcmp(p, "Background") && strcmp(p, "Foreground")))
			return srv_fail(res, api_status_bad_request(
						     "propagationPolicy must be Orphan, Background "
						     "or Foreground"));
		o->propagation = p;
	}
	if ((v = json_object_get(body, "orphanDependents")) && json_is_boolean(v)) {
		if (o->propagation)
			return srv_fail(res, api_status_bad_request(
						     "orphanDependents and propagationPolicy "
						     "cannot both be set"));
		o->propagation = json_is_true(v) ? "Orphan" : "Background";
		o->accepted = !json_is_true(v);
	}
	o->uid = api_get_str(body, "preconditions.uid");
	o->rv = api_get_str(body, "preconditions.resourceVersion");
	json_t *dr = json_object_get(body, "dryRun");
	o->dry_run = json_is_array(dr) && json_array_size(dr) > 0;
	return 0;
}

/* Kubernetes forbids deleting these (the NamespaceLifecycle plugin). */
static bool immortal_namespace(const api_kind *k, const char *name)
{
	return is_namespace(k) && (!strcmp(name, "default") || !strcmp(name, "kube-system") ||
				   !strcmp(name, "kube-public"));
}

/* The grace period of a deletion: pods that are bound and still running
 * get one (their node must stop them first); everything else goes now. */
static int64_t grace_period(const api_kind *k, json_t *obj, const srv_delete_opts *o)
{
	if (!is_pod(k))
		return 0;
	const char *node = api_get_str(obj, "spec.nodeName"),
		   *phase = api_get_str(obj, "status.phase");
	if (!node || !*node || sk_streq(phase, "Succeeded") || sk_streq(phase, "Failed"))
		return 0;
	if (o->grace >= 0)
		return o->grace;
	return api_get_int(obj, "spec.terminationGracePeriodSeconds", 30);
}

static int check_preconditions(const api_kind *k, json_t *obj, int64_t rev,
			       const srv_delete_opts *o, srv_result *res)
{
	const char *uid = api_meta_uid(obj);
	char why[256];

	if (o->uid && !sk_streq(o->uid, uid)) {
		snprintf(why, sizeof(why),
			 "Precondition failed: UID in precondition: %s, UID in object meta: %s",
			 o->uid, uid ? uid : "");
		return srv_fail(res, api_status_conflict(k, api_meta_name(obj), why));
	}
	if (o->rv && *o->rv) {
		char cur[32];
		snprintf(cur, sizeof(cur), "%lld", (long long)rev);
		if (strcmp(o->rv, cur) != 0) {
			snprintf(why, sizeof(why),
				 "Precondition failed: ResourceVersion in precondition: %s, "
				 "ResourceVersion in meta: %s",
				 o->rv, cur);
			return srv_fail(res, api_status_conflict(k, api_meta_name(obj), why));
		}
	}
	return 0;
}

/* Mark obj as being deleted: finalizers for the propagation policy, the
 * deletion timestamp and grace period, a namespace's Terminating phase.
 * Returns whether anything changed. */
static bool mark_deleting(const api_kind *k, json_t *obj, const char *policy, int64_t grace)
{
	json_t *before = json_deep_copy(obj);
	int64_t now = sk_now_ns() / 1000000000LL;
	bool changed;

	if (sk_streq(policy, "Foreground")) {
		api_meta_remove_finalizer(obj, "orphan");
		api_meta_add_finalizer(obj, "foregroundDeletion");
	} else if (sk_streq(policy, "Orphan")) {
		api_meta_remove_finalizer(obj, "foregroundDeletion");
		api_meta_add_finalizer(obj, "orphan");
	}
	if (!api_meta_deletion_timestamp(obj)) {
		api_meta_set_deletion_timestamp(obj, now + grace);
		api_set_int(obj, "metadata.deletionGracePeriodSeconds", grace);
	} else if (grace < api_get_int(obj, "metadata.deletionGracePeriodSeconds", 0)) {
		/* a shorter grace period may replace a longer one */
		api_meta_set_deletion_timestamp(obj, now + grace);
		api_set_int(obj, "metadata.deletionGracePeriodSeconds", grace);
	}
	if (is_namespace(k))
		api_set_str(obj, "status.phase", "Terminating");
	changed = !json_equal(before, obj);
	json_decref(before);
	return changed;
}

/* One attempt; 1: retry (lost a race). */
static int delete_once(srv_server *s, const api_kind *k, const char *ns, const char *name,
		       const srv_delete_opts *o, srv_result *res)
{
	_cleanup_free_ char *key = srv_key(k, ns, name);
	_cleanup_obj_ srv_obj *cur = srv_cache_get(s->cache, key);
	json_t *obj = NULL;
	sk_err err = {0};
	int ret = -1;

	if (!cur)
		return srv_fail(res, api_status_not_found(k, name));
	obj = srv_obj_parse(cur);
	if (!obj)
		return srv_fail(res, api_status_internal("stored object is not JSON"));
	if (check_preconditions(k, obj, cur->rev, o, res) < 0)
		goto out;
	json_t *marked = json_deep_copy(obj);
	bool changed = mark_deleting(k, marked, o->propagation, grace_period(k, obj, o));
	bool pending = has_finalizers(marked) || ns_has_spec_finalizers(k, marked) ||
		       api_get_int(marked, "metadata.deletionGracePeriodSeconds", 0) > 0;
	if (pending) {
		/* the object stays, marked; finalizers or its node finish it */
		if (changed && !o->dry_run &&
		    store_write(s, SRV_OP_UPDATE, key, marked, cur->rev, &err) < 0) {
			json_decref(marked);
			ret = err.code == SRV_STORE_CONFLICT ? 1
			      : err.code == SRV_STORE_NOT_FOUND
				      ? srv_fail(res, api_status_not_found(k, name))
				      : srv_fail(res, internal_error(&err));
			goto out;
		}
		/* 202 only where the apiserver gives it: orphanDependents=false */
		ret = succeed(res, o->accepted ? 202 : 200, marked);
		goto out;
	}
	/* a pod's last state carries its deletion timestamp, as Kubernetes' */
	if (is_pod(k)) {
		json_decref(obj);
		obj = marked;
	} else {
		json_decref(marked);
	}
	if (o->dry_run) {
		ret = succeed(res, 200,
			      is_pod(k) ? move_ptr(obj)
					: api_status_success(k, name, api_meta_uid(obj)));
		goto out;
	}
	if (store_write(s, SRV_OP_DELETE, key, obj, cur->rev, &err) < 0) {
		ret = err.code == SRV_STORE_CONFLICT ? 1
		      : err.code == SRV_STORE_NOT_FOUND
			      ? srv_fail(res, api_status_not_found(k, name))
			      : srv_fail(res, internal_error(&err));
		goto out;
	}
	srv_release(s, k, obj);
	/* the apiserver answers a deleted pod with the pod, other kinds with a
	 * Success Status carrying the uid */
	ret = succeed(res, 200,
		      is_pod(k) ? move_ptr(obj) : api_status_success(k, name, api_meta_uid(obj)));
out:
	json_decref(obj);
	return ret;
}

int srv_delete(srv_server *s, const api_kind *k, const char *ns, const char *name,
	       const srv_delete_opts *o, srv_result *res)
{
	if (immortal_namespace(k, name))
		return srv_fail(res,
				api_status_forbidden(k, name, "this namespace may not be deleted"));
	for (int i = 0; i < RETRIES; i++) {
		int r = delete_once(s, k, ns, name, o, res);
		if (r <= 0)
			return r;
	}
	return srv_fail(res, api_status_conflict(
				     k, name, "the object is being changed too often; try again"));
}
