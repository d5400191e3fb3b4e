/* The watch cache over a real store: reads, lists, and watches (from a
 * revision through the store's log, live events, selector transitions,
 * initial events, a consumer that falls behind). */
#include "../../server/cache.h"
#include "tap.h"

#include <errno.h>

static srv_store *st;
static srv_cache *cache;
static const api_kind *cm;

static int encode(int64_t rev, void *ctx, char **value, size_t *len, sk_err *err)
{
	json_t *o = json_loads(ctx, 0, NULL);

	(void)err;
	api_meta_set_resource_version_int(o, rev);
	*value = json_dumps(o, JSON_COMPACT);
	*len = strlen(*value);
	json_decref(o);
	return 0;
}

/* Write ConfigMap NAME with LABELS (a JSON object text, or NULL). */
static int64_t put(enum srv_store_op_kind kind, const char *name, const char *labels)
{
	_cleanup_free_ char *key = srv_key(cm, "default", name);
	_cleanup_free_ char *json = sk_asprintf(
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\","
		"\"namespace\":\"default\",\"uid\":\"uid-%s\",\"labels\":%s}}",
		name, name, labels ? labels : "{}");
	srv_store_op op = {.kind = kind, .key = key, .encode = encode, .encode_ctx = json};
	sk_err err = {0};

	if (srv_store_write(st, &op, &err) < 0) {
		printf("# write %s: %s\n", name, err.msg);
		return -1;
	}
	return op.rev;
}

static char *drain(srv_watch *w)
{
	srv_watch_item it;
	sk_buf b;

	sk_buf_init(&b);
	while (srv_watch_next(w, &it, 100) == 1) {
		static const char *names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
		sk_buf_printf(&b, "%s %s;", names[it.type], it.obj ? it.obj->name : "-");
		srv_watch_item_clear(&it);
	}
	return sk_buf_steal(&b);
}

int main(void)
{
	char dir[] = "/tmp/skiff-cache-XXXXXX";
	srv_store_backend *be;
	sk_err err = {0};
	srv_obj **objs;
	size_t n;
	bool more;
	int64_t rev, r0;

	if (!mkdtemp(dir))
		return 1;
	cm = api_kind_by_resource("", "configmaps");
	ok(srv_sqlite_open(dir, SRV_SYNC_FULL, &be, &err) == 0 &&
		   srv_store_open(be, &st, &err) == 0,
	   "a store");
	cache = srv_cache_new();
	srv_store_set_sink(st, srv_cache_sink, cache);
	ok(srv_cache_load(cache, st, &err) == 0, "load the (empty) cache");

	put(SRV_OP_CREATE, "a", "{\"app\":\"web\"}");
	put(SRV_OP_CREATE, "b", "{\"app\":\"db\"}");
	r0 = put(SRV_OP_CREATE, "c", NULL);
	is_int(srv_cache_rev(cache), r0, "the cache follows the store's revision");
	is_int(srv_cache_count(cache), 3, "three objects");
	srv_obj *o = srv_cache_get(cache, "configmaps/default/b");
	ok(o && !strcmp(o->name, "b") && !strcmp(o->ns, "default") && o->kind == cm,
	   "get: name, namespace and kind");
	like(o ? o->json : NULL, "\"resourceVersion\":\"2\"",
	     "... the stored text carries its revision");
	srv_obj_unref(o);

	srv_cache_list(cache, cm, "default", NULL, NULL, NULL, 2, &objs, &n, &more, &rev);
	ok(n == 2 && more && !strcmp(objs[0]->name, "a") && !strcmp(objs[1]->name, "b"),
	   "list with limit 2: a, b, and more");
	srv_objs_free(objs, n);
	srv_cache_list(cache, cm, "default", "configmaps/default/b", NULL, NULL, 0, &objs, &n,
		       &more, &rev);
	ok(n == 1 && !strcmp(objs[0]->name, "c") && !more, "list after b: c");
	srv_objs_free(objs, n);
	srv_cache_list(cache, cm, "other", NULL, NULL, NULL, 0, &objs, &n, &more, &rev);
	is_int(n, 0, "another namespace: nothing");
	srv_objs_free(objs, n);

	/* a watch from an older revision: the store's log fills the gap */
	srv_watch *w;
	srv_watch_opts o1 = {.kind = cm, .from_rev = 1};
	ok(srv_cache_watch(cache, st, &o1, &w, &err) == 0, "watch from revision 1");
	put(SRV_OP_UPDATE, "a", "{\"app\":\"web\",\"v\":\"2\"}");
	char *s = drain(w);
	is_str(s, "ADDED b;ADDED c;MODIFIED a;", "backfill from the log, then live, in order");
	free(s);
	srv_watch_close(w);

	/* selector transitions */
	srv_watch_opts o2 = {.kind = cm, .from_rev = srv_cache_rev(cache)};
	api_label_selector_parse("app=web", &o2.labels, &err);
	ok(srv_cache_watch(cache, st, &o2, &w, &err) == 0, "watch app=web from now");
	put(SRV_OP_UPDATE, "b", "{\"app\":\"web\"}");
	put(SRV_OP_UPDATE, "a", "{\"app\":\"api\"}");
	put(SRV_OP_UPDATE, "c", "{\"x\":\"y\"}");
	put(SRV_OP_DELETE, "b", "{\"app\":\"web\"}");
	s = drain(w);
	is_str(s, "ADDED b;DELETED a;DELETED b;",
	       "starts matching: ADDED; stops: DELETED; unrelated: nothing");
	free(s);
	srv_watch_close(w);

	/* initial events */
	srv_watch_opts o3 = {.kind = cm, .initial = true, .initial_bookmark = true};
	ok(srv_cache_watch(cache, st, &o3, &w, &err) == 0, "watch with initial events");
	s = drain(w);
	is_str(s, "ADDED a;ADDED c;BOOKMARK -;", "ADDED for each object, then the bookmark");
	free(s);
	srv_watch_close(w);

	/* a consumer that falls behind is dropped */
	srv_watch_opts o4 = {.kind = cm, .from_rev = srv_cache_rev(cache), .max_queue = 3};
	ok(srv_cache_watch(cache, st, &o4, &w, &err) == 0, "a watch with a queue of 3");
	for (int i = 0; i < 5; i++)
		put(SRV_OP_UPDATE, "c", i % 2 ? "{\"i\":\"1\"}" : "{\"i\":\"0\"}");
	srv_watch_item it;
	int got = 0, r;
	while ((r = srv_watch_next(w, &it, 100)) == 1) {
		got++;
		srv_watch_item_clear(&it);
	}
	ok(got == 3 && r == -1, "it gets what was queued, then the end (%d events)", got);
	srv_watch_close(w);

	/* deadlines */
	srv_watch_opts o5 = {
		.kind = cm, .from_rev = srv_cache_rev(cache), .deadline_ns = sk_monotonic_ns() - 1};
	ok(srv_cache_watch(cache, st, &o5, &w, &err) == 0, "a watch past its deadline");
	srv_cache_tick(cache, false);
	is_int(srv_watch_next(w, &it, 100), -1, "the tick ends it");
	srv_watch_close(w);
	is_int(srv_cache_watch_count(cache), 0, "no watch left");

	/* compaction */
	ok(srv_store_compact(st, srv_cache_rev(cache) - 1, &err) == 0, "compact");
	srv_watch_opts o6 = {.kind = cm, .from_rev = 1};
	ok(srv_cache_watch(cache, st, &o6, &w, &err) < 0 && err.code == SRV_STORE_COMPACTED,
	   "a watch from before the compaction: SRV_STORE_COMPACTED");

	srv_store_close(st);
	srv_cache_free(cache);
	sk_rm_rf(dir, &err);
	return done_testing();
}
