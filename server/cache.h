/* cache: the server's in-memory view of the store (Kubernetes' "watch
 * cache"): the current object of every key, kept as compact JSON text plus
 * what selectors need, and the fan-out of changes to watchers.
 *
 * The store's sink feeds it from the writer thread, so a write is in the
 * cache before the writer is told it succeeded. Reads (GET, LIST) never
 * touch the disk. Watchers get a queue of references to immutable
 * objects; whoever consumes a watch (an HTTP stream, an in-process
 * controller) filters and formats in its own thread, so one write costs
 * the writer thread a queue push per interested watcher. Internal header
 * of server/. */
#ifndef SKIFF_SERVER_CACHE_H
#define SKIFF_SERVER_CACHE_H

#include <pthread.h>
#include <stdatomic.h>

#include "../api/api.h"
#include "store.h"

/* A stored object as the cache holds it: immutable once published,
 * shared by reference counting. */
typedef struct srv_obj {
	atomic_int refs;
	int64_t rev;	    /* metadata.resourceVersion */
	int64_t create_rev; /* the store's create revision of the key */
	char *key;	    /* "pods/default/web", "namespaces/default" */
	const char *ns;	    /* "" when cluster-scoped */
	const char *name;
	char *json; /* the object, compact JSON, resourceVersion included */
	size_t len;
	json_t *labels; /* metadata.labels or NULL; shared, read-only */
	json_t *fields; /* what field selectors read (api_field_set); read-only */
	const api_kind *kind;
	bool owned, finalizers, deleting; /* metadata facts for controllers */
	char uid[40];
	char *names; /* storage for ns and name */
} srv_obj;

srv_obj *srv_obj_ref(srv_obj *o);
void srv_obj_unref(srv_obj *o);
void srv_obj_unrefp(srv_obj **o);
#define _cleanup_obj_ _cleanup_(srv_obj_unrefp)
/* A new tree of the object (the caller owns it). */
json_t *srv_obj_parse(const srv_obj *o);
/* Build from stored bytes (and optionally the already parsed tree); NULL
 * when the bytes are not a JSON object. */
srv_obj *srv_obj_new(const char *key, const char *json, size_t len, int64_t rev, int64_t create_rev,
		     json_t *tree);

/* The store key of an object: "<resource>[.<group>]/<ns>/<name>", or
 * without the namespace for cluster-scoped kinds. New string. */
char *srv_key(const api_kind *k, const char *ns, const char *name);
/* The key prefix of a kind's objects, optionally in one namespace:
 * "pods/", "pods/default/". New string. */
char *srv_key_prefix(const api_kind *k, const char *ns);

typedef struct srv_cache srv_cache;

srv_cache *srv_cache_new(void);
void srv_cache_free(srv_cache *c);
/* The store sink (srv_store_set_sink(st, srv_cache_sink, cache)). */
void srv_cache_sink(const srv_store_event *ev, void *data);
/* Fill the cache with the store's current state. */
int srv_cache_load(srv_cache *c, srv_store *st, sk_err *err);
/* The revision the cache reflects. */
int64_t srv_cache_rev(srv_cache *c);
/* Number of objects held (all kinds). */
size_t srv_cache_count(srv_cache *c);
/* The object at key, referenced; NULL when absent. */
srv_obj *srv_cache_get(srv_cache *c, const char *key);

/* The objects of kind k (in namespace ns, or all when NULL) in key order,
 * starting after `after` (a key; NULL from the start), that `match`
 * accepts (NULL: all), at most limit (0: all). *more tells whether more
 * matching objects remain; *rev is the revision of the snapshot. The
 * array and its references belong to the caller (srv_objs_free). */
typedef bool (*srv_obj_match_fn)(const srv_obj *o, void *data);
int srv_cache_list(srv_cache *c, const api_kind *k, const char *ns, const char *after,
		   srv_obj_match_fn match, void *data, size_t limit, srv_obj ***out, size_t *n,
		   bool *more, int64_t *rev);
void srv_objs_free(srv_obj **objs, size_t n);

/* ---- watches ------------------------------------------------------------- */
enum srv_watch_type {
	SRV_WATCH_ADDED,
	SRV_WATCH_MODIFIED,
	SRV_WATCH_DELETED,
	SRV_WATCH_BOOKMARK,
	SRV_WATCH_ERROR, /* obj NULL; the watch ends after it */
};

typedef struct srv_watch_item {
	enum srv_watch_type type;
	srv_obj *obj;	  /* the new state (for DELETED the last one); referenced */
	srv_obj *old;	  /* the state before, or NULL; referenced */
	int64_t rev;	  /* for bookmarks */
	bool initial_end; /* a bookmark closing the initial events */
} srv_watch_item;
void srv_watch_item_clear(srv_watch_item *it);

typedef struct srv_watch srv_watch;
typedef struct srv_watch_opts {
	const api_kind *kind;  /* NULL: every kind (in-process consumers) */
	const char *ns;	       /* NULL: every namespace */
	const char *name;      /* NULL: every name */
	api_selector *labels;  /* taken over by the watch; NULL: all */
	api_selector *fields;  /* taken over by the watch; NULL: all */
	int64_t from_rev;      /* send the changes after this revision */
	bool initial;	       /* first, ADDED for every current object */
	bool initial_bookmark; /* then a bookmark marking their end */
	bool bookmarks;	       /* periodic BOOKMARK events */
	int64_t deadline_ns;   /* monotonic; 0: none */
	size_t max_queue;      /* a consumer this far behind is dropped; 0: default */
	/* Called (under the watch's lock) when an item arrives for a consumer
	 * that found the queue empty, or when the watch ends. */
	void (*wake)(void *data);
	void *wake_data;
} srv_watch_opts;

/* Start a watch. Changes between from_rev and the cache's revision come
 * from the store's log: a revision already compacted fails with
 * SRV_STORE_COMPACTED (410 Expired). On failure the selectors are freed. */
int srv_cache_watch(srv_cache *c, srv_store *st, srv_watch_opts *o, srv_watch **out, sk_err *err);
/* Stop and free a watch (its consumer is done with it). */
void srv_watch_close(srv_watch *w);
/* The next item that passes the watch's filters: 1 with *it filled, 0
 * when none is queued (then on_empty(ctx) runs under the watch's lock, so
 * that a consumer can suspend itself without missing a wake), -1 when the
 * watch has ended. */
int srv_watch_pop(srv_watch *w, srv_watch_item *it, void (*on_empty)(void *), void *ctx);
/* Blocking variant for in-process consumers: wait up to timeout_ms
 * (-1: forever) for an item; 0 on timeout. */
int srv_watch_next(srv_watch *w, srv_watch_item *it, int timeout_ms);
/* End the watch from outside (shutdown); the consumer sees -1 after the
 * queued items. */
void srv_watch_end(srv_watch *w);
/* Periodic housekeeping: end watches past their deadline, send bookmarks
 * to idle watches that asked for them. */
void srv_cache_tick(srv_cache *c, bool send_bookmarks);
/* End every watch (shutdown): consumers see their queues, then the end. */
void srv_cache_end_watches(srv_cache *c);
/* Number of open watches. */
size_t srv_cache_watch_count(srv_cache *c);

#endif
