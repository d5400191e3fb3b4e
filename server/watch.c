/* Watch streams: a chunked response of newline-terminated JSON events,
 * fed from the cache's watch queue. The consumer (this connection's HTTP
 * thread) filters and formats, so the writer thread only queues
 * references. With nothing queued, the connection is suspended until the
 * watch wakes it; it ends at timeoutSeconds (or a random 30-60 minutes, as
 * the apiserver), after which clients watch again. */
#include "srv_internal.h"

#include <errno.h>
#include <sys/random.h>

#define FILL_TARGET (16 * 1024)

static const char *type_name(enum srv_watch_type t)
{
	switch (t) {
	case SRV_WATCH_ADDED:
		return "ADDED";
	case SRV_WATCH_MODIFIED:
		return "MODIFIED";
	case SRV_WATCH_DELETED:
		return "DELETED";
	case SRV_WATCH_BOOKMARK:
		return "BOOKMARK";
	default:
		return "ERROR";
	}
}

static void format_table_event(srv_req *r, const srv_watch_item *it)
{
	json_t *obj = srv_obj_parse(it->obj), *items = json_array(), *t;
	char rv[32];
	char *s;

	if (obj)
		json_array_append_new(items, obj);
	snprintf(rv, sizeof(rv), "%lld", (long long)it->obj->rev);
	t = api_table(r->kind, items, rv, sk_now_ns() / 1000000000LL, r->table);
	s = json_dumps(t, JSON_COMPACT);
	sk_buf_printf(&r->out, "{\"type\":\"%s\",\"object\":%s}\n", type_name(it->type),
		      s ? s : "{}");
	free(s);
	json_decref(t);
	json_decref(items);
}

static void format_bookmark(srv_req *r, const srv_watch_item *it)
{
	sk_buf_printf(&r->out,
		      "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s\","
		      "\"metadata\":{\"resourceVersion\":\"%lld\"%s}}}\n",
		      r->kind->kind, r->kind->api_version, (long long)it->rev,
		      it->initial_end ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}"
				      : "");
}

static void format_item(srv_req *r, const srv_watch_item *it)
{
	if (it->type == SRV_WATCH_BOOKMARK) {
		format_bookmark(r, it);
	} else if (r->as_table) {
		format_table_event(r, it);
	} else {
		sk_buf_printf(&r->out, "{\"type\":\"%s\",\"object\":", type_name(it->type));
		sk_buf_append(&r->out, it->obj->json, it->obj->len);
		sk_buf_puts(&r->out, "}\n");
	}
}

static void suspend(void *ctx)
{
	srv_req *r = ctx;

	MHD_suspend_connection(r->conn);
	r->suspended = true;
}

static int watch_fill(srv_req *r)
{
	srv_watch_item it;
	bool got = false;
	int p;

	while (r->out.len < FILL_TARGET) {
		p = srv_watch_pop(r->watch, &it, NULL, NULL);
		if (p == 1) {
			format_item(r, &it);
			srv_watch_item_clear(&it);
			got = true;
			continue;
		}
		if (p < 0)
			return got ? 1 : -1;
		break;
	}
	if (got)
		return 1;
	/* nothing queued: give the buffer back (a thousand idle watches
	 * should not hold a thousand buffers), then suspend, atomically with
	 * the watch's wake-up */
	sk_buf_free(&r->out);
	r->out_off = 0;
	p = srv_watch_pop(r->watch, &it, suspend, r);
	if (p == 1) {
		format_item(r, &it);
		srv_watch_item_clear(&it);
		return 1;
	}
	return p;
}

static int64_t default_timeout_s(void)
{
	uint32_t rnd = 0;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = 0;
	return 1800 + rnd % 1800;
}

static bool query_true(srv_req *r, const char *key)
{
	const char *v = srv_req_query(r, key);

	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

void srv_watch_serve(srv_req *r, const api_kind *k, const char *ns, api_selector *labels,
		     api_selector *fields, const char *name)
{
	const char *rv = srv_req_query(r, "resourceVersion"),
		   *ts = srv_req_query(r, "timeoutSeconds");
	const char *accept = srv_req_header(r, MHD_HTTP_HEADER_ACCEPT);
	const char *inc = srv_req_query(r, "includeObject");
	srv_watch_opts o = {
		.kind = k,
		.ns = ns,
		.name = name,
		.labels = labels,
		.fields = fields,
		.bookmarks = query_true(r, "allowWatchBookmarks"),
		.wake = srv_req_wake,
		.wake_data = r,
	};
	int64_t timeout = 0;
	sk_err err = {0};

	if (ts && *ts && sk_parse_int64(ts, 0, INT32_MAX, &timeout, NULL) < 0) {
		api_selector_free(labels);
		api_selector_free(fields);
		srv_reply_status(r, api_status_bad_request("invalid timeoutSeconds: %s", ts));
		return;
	}
	if (!timeout)
		timeout = default_timeout_s();
	o.deadline_ns = sk_monotonic_ns() + timeout * 1000000000LL;
	if (query_true(r, "sendInitialEvents")) {
		o.initial = true;
		o.initial_bookmark = true;
	} else if (!rv || !*rv || !strcmp(rv, "0")) {
		o.initial = true;
	} else if (sk_parse_int64(rv, 1, INT64_MAX, &o.from_rev, NULL) < 0) {
		api_selector_free(labels);
		api_selector_free(fields);
		srv_reply_status(r, api_status_bad_request("invalid resource version: %s", rv));
		return;
	}
	r->kind = k;
	r->as_table = accept && strstr(accept, "as=Table") && strstr(accept, "g=meta.k8s.io");
	r->table = inc && !strcmp(inc, "Object") ? API_TABLE_OBJECT
		   : inc && !strcmp(inc, "None") ? API_TABLE_NONE
						 : API_TABLE_METADATA;
	if (srv_cache_watch(r->srv->cache, r->srv->store, &o, &r->watch, &err) < 0) {
		if (err.code == SRV_STORE_COMPACTED)
			srv_reply_status(r, api_status_expired(o.from_rev, srv_store_compact_rev(
										   r->srv->store)));
		else
			srv_reply_status(r, api_status_internal(err.msg));
		return;
	}
	r->fill = watch_fill;
	srv_reply_stream(r, "application/json");
}
