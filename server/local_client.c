/* The ctl_client of in-process controllers: the registry's verbs called
 * directly (same admission, validation and finalizer handling as HTTP
 * requests, without encoding them), and watches straight on the cache. */
#include "srv_internal.h"

#include <errno.h>

struct ctl_watch {
	srv_watch *w;
};

static srv_server *server_of(ctl_client *c)
{
	return c->impl;
}

/* A failed registry call as the client reports it: the HTTP status in
 * err->code, the Status message as the text. */
static int result_err(srv_result *res, sk_err *err)
{
	const char *msg = api_get_str(res->body, "message");

	sk_err_set(err, res->code ? res->code : 500, "%s", msg ? msg : "request failed");
	srv_result_clear(res);
	return -1;
}

static int take_result(srv_result *res, json_t **out)
{
	if (out)
		*out = res->body;
	else
		json_decref(res->body);
	res->body = NULL;
	free(res->text);
	res->text = NULL;
	return 0;
}

static int lc_get(ctl_client *c, const api_kind *k, const char *ns, const char *name, json_t **out,
		  sk_err *err)
{
	srv_result res = {0};

	if (srv_get(server_of(c), k, ns, name, &res) < 0)
		return result_err(&res, err);
	return take_result(&res, out);
}

static int lc_list(ctl_client *c, const api_kind *k, const char *ns, const char *label_selector,
		   json_t **items, int64_t *rev, sk_err *err)
{
	_cleanup_selector_ api_selector *sel = NULL;
	srv_list_opts o = {.ns = ns};
	srv_list l = {0};
	srv_result res = {0};

	if (label_selector && *label_selector &&
	    api_label_selector_parse(label_selector, &sel, err) < 0)
		return -1;
	o.labels = sel;
	if (srv_list_objects(server_of(c), k, &o, &l, &res) < 0)
		return result_err(&res, err);
	*items = json_array();
	for (size_t i = 0; i < l.n; i++) {
		json_t *obj = srv_obj_parse(l.items[i]);
		if (obj)
			json_array_append_new(*items, obj);
	}
	if (rev)
		*rev = l.rev;
	srv_list_clear(&l);
	return 0;
}

static int lc_create(ctl_client *c, const api_kind *k, const char *ns, json_t *obj, json_t **out,
		     sk_err *err)
{
	srv_write_opts o = {0};
	srv_result res = {0};

	if (srv_create(server_of(c), k, ns, json_deep_copy(obj), &o, &res) < 0)
		return result_err(&res, err);
	return take_result(&res, out);
}

static int lc_update(ctl_client *c, const api_kind *k, json_t *obj, const char *subresource,
		     json_t **out, sk_err *err)
{
	srv_write_opts o = {.subresource = subresource};
	srv_result res = {0};
	const char *name = api_meta_name(obj);

	if (!name)
		return sk_err_set(err, 422, "update: the object has no name");
	if (srv_update(server_of(c), k, api_meta_namespace(obj), name, json_deep_copy(obj), &o,
		       &res) < 0)
		return result_err(&res, err);
	return take_result(&res, out);
}

static int lc_patch(ctl_client *c, const api_kind *k, const char *ns, const char *name,
		    const char *subresource, const char *patch_type, json_t *patch, json_t **out,
		    sk_err *err)
{
	srv_write_opts o = {.subresource = subresource};
	srv_result res = {0};
	enum srv_patch_type t;

	if (sk_streq(patch_type, "merge"))
		t = SRV_PATCH_MERGE;
	else if (sk_streq(patch_type, "json"))
		t = SRV_PATCH_JSON;
	else if (sk_streq(patch_type, "strategic"))
		t = SRV_PATCH_STRATEGIC;
	else
		return sk_err_set(err, 415, "unknown patch type %s", patch_type ? patch_type : "");
	if (srv_patch(server_of(c), k, ns, name, t, patch, &o, &res) < 0)
		return result_err(&res, err);
	return take_result(&res, out);
}

static int lc_delete(ctl_client *c, const api_kind *k, const char *ns, const char *name,
		     const ctl_delete_opts *co, sk_err *err)
{
	srv_delete_opts o = {.grace = -1};
	srv_result res = {0};

	if (co) {
		o.propagation = co->propagation;
		o.grace = co->grace;
		o.uid = co->uid;
	}
	if (srv_delete(server_of(c), k, ns, name, &o, &res) < 0)
		return result_err(&res, err);
	srv_result_clear(&res);
	return 0;
}

/* The subresources controllers POST to: pods/NAME/binding. */
static int lc_create_sub(ctl_client *c, const api_kind *k, const char *ns, const char *name,
			 const char *subresource, json_t *obj, json_t **out, sk_err *err)
{
	srv_write_opts o = {0};
	srv_result res = {0};

	if (!k || strcmp(k->resource, "pods") != 0 || !sk_streq(subresource, "binding"))
		return sk_err_set(err, 404, "no subresource %s/%s", k ? k->resource : "?",
				  subresource ? subresource : "");
	if (srv_bind(server_of(c), ns, name, obj, &o, &res) < 0)
		return result_err(&res, err);
	return take_result(&res, out);
}

static int lc_watch(ctl_client *c, const api_kind *k, ctl_watch **out, sk_err *err)
{
	srv_server *s = server_of(c);
	srv_watch_opts o = {.kind = k,
			    .initial = true,
			    .initial_bookmark = true,
			    /* a controller may fall far behind under a burst of
			     * writes; it must not be dropped for it */
			    .max_queue = SIZE_MAX};
	ctl_watch *w = sk_calloc(1, sizeof(*w));

	if (srv_cache_watch(s->cache, s->store, &o, &w->w, err) < 0) {
		free(w);
		return -1;
	}
	*out = w;
	return 0;
}

static json_t *parse_src(void *src)
{
	return srv_obj_parse(src);
}

static void release_src(void *src)
{
	srv_obj_unref(src);
}

static int lc_next(ctl_client *c, ctl_watch *w, ctl_event *ev, int timeout_ms)
{
	srv_watch_item it;
	int r;

	(void)c;
	memset(ev, 0, sizeof(*ev));
	for (;;) {
		r = srv_watch_next(w->w, &it, timeout_ms);
		if (r <= 0)
			return r;
		if (it.type == SRV_WATCH_BOOKMARK) {
			bool end = it.initial_end;
			ev->rev = it.rev;
			srv_watch_item_clear(&it);
			if (!end)
				continue;
			ev->type = CTL_SYNCED;
			return 1;
		}
		if (!it.obj->kind) {
			srv_watch_item_clear(&it);
			continue;
		}
		ev->type = it.type == SRV_WATCH_ADDED	   ? CTL_ADDED
			   : it.type == SRV_WATCH_MODIFIED ? CTL_MODIFIED
							   : CTL_DELETED;
		ev->kind = it.obj->kind;
		ev->rev = it.obj->rev;
		ev->ns = it.obj->ns;
		ev->name = it.obj->name;
		ev->uid = it.obj->uid;
		ev->owned = it.obj->owned;
		ev->finalizers = it.obj->finalizers;
		ev->deleting = it.obj->deleting;
		ev->old_owned = it.old && it.old->owned;
		ev->labels = it.obj->labels;
		ev->fields = it.obj->fields;
		/* the event holds the references the item had */
		ev->src_ = it.obj;
		ev->src_old_ = it.old;
		ev->parse_ = parse_src;
		ev->release_ = release_src;
		return 1;
	}
}

static void lc_watch_stop(ctl_client *c, ctl_watch *w)
{
	(void)c;
	srv_watch_end(w->w);
}

static void lc_watch_close(ctl_client *c, ctl_watch *w)
{
	(void)c;
	if (!w)
		return;
	srv_watch_close(w->w);
	free(w);
}

void srv_local_client_init(srv_server *s, ctl_client *c)
{
	*c = (ctl_client){
		.impl = s,
		.get = lc_get,
		.list = lc_list,
		.create = lc_create,
		.update = lc_update,
		.patch = lc_patch,
		.delete = lc_delete,
		.watch = lc_watch,
		.next = lc_next,
		.watch_stop = lc_watch_stop,
		.watch_close = lc_watch_close,
		.create_sub = lc_create_sub,
	};
}
