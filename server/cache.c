/* The watch cache: see cache.h. One rwlock guards the per-resource
 * sorted arrays and the watcher lists; each watch has its own mutex for
 * its queue. The sink takes the write lock, so watchers always receive
 * events in revision order. */
#include "cache.h"

#include <errno.h>
#include <time.h>

#define DEFAULT_MAX_QUEUE 100000

/* ---- objects ------------------------------------------------------------- */

srv_obj *srv_obj_ref(srv_obj *o)
{
	if (o)
		atomic_fetch_add(&o->refs, 1);
	return o;
}

void srv_obj_unref(srv_obj *o)
{
	if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	json_decref(o->labels);
	json_decref(o->fields);
	free(o->key);
	free(o->json);
	free(o->names);
	free(o);
}

void srv_obj_unrefp(srv_obj **o)
{
	srv_obj_unref(*o);
	*o = NULL;
}

json_t *srv_obj_parse(const srv_obj *o)
{
	return json_loadb(o->json, o->len, 0, NULL);
}

static const char *resource_key(const api_kind *k, char *buf, size_t n)
{
	if (k->group && *k->group)
		snprintf(buf, n, "%s.%s", k->resource, k->group);
	else
		snprintf(buf, n, "%s", k->resource);
	return buf;
}

char *srv_key(const api_kind *k, const char *ns, const char *name)
{
	char rk[128];

	resource_key(k, rk, sizeof(rk));
	if (k->namespaced)
		return sk_asprintf("%s/%s/%s", rk, ns ? ns : "", name);
	return sk_asprintf("%s/%s", rk, name);
}

char *srv_key_prefix(const api_kind *k, const char *ns)
{
	char rk[128];

	resource_key(k, rk, sizeof(rk));
	if (k->namespaced && ns && *ns)
		return sk_asprintf("%s/%s/", rk, ns);
	return sk_asprintf("%s/", rk);
}

/* The resource part of every kind's keys, computed once. */
static struct {
	char rk[128];
	size_t len;
	const api_kind *kind;
} * resource_keys;
static size_t n_resource_keys;
static pthread_once_t resource_keys_once = PTHREAD_ONCE_INIT;

static void resource_keys_init(void)
{
	const api_kind *kinds = api_kinds(&n_resource_keys);

	resource_keys = sk_calloc(n_resource_keys, sizeof(*resource_keys));
	for (size_t i = 0; i < n_resource_keys; i++) {
		resource_key(&kinds[i], resource_keys[i].rk, sizeof(resource_keys[i].rk));
		resource_keys[i].len = strlen(resource_keys[i].rk);
		resource_keys[i].kind = &kinds[i];
	}
}

/* The kind whose keys start with the key's first segment. */
static const api_kind *kind_of_key(const char *key)
{
	const char *slash = strchr(key, '/');
	size_t len = slash ? (size_t)(slash - key) : strlen(key);

	pthread_once(&resource_keys_once, resource_keys_init);
	for (size_t i = 0; i < n_resource_keys; i++)
		if (resource_keys[i].len == len && !memcmp(resource_keys[i].rk, key, len))
			return resource_keys[i].kind;
	return NULL;
}

srv_obj *srv_obj_new(const char *key, const char *json, size_t len, int64_t rev, int64_t create_rev,
		     json_t *tree)
{
	json_t *parsed = NULL;
	srv_obj *o;

	if (!tree) {
		parsed = json_loadb(json, len, 0, NULL);
		tree = parsed;
	}
	if (!json_is_object(tree)) {
		json_decref(parsed);
		return NULL;
	}
	o = sk_calloc(1, sizeof(*o));
	atomic_init(&o->refs, 1);
	o->rev = rev;
	o->create_rev = create_rev;
	o->key = sk_strdup(key);
	o->json = sk_malloc(len + 1);
	memcpy(o->json, json, len);
	o->json[len] = '\0';
	o->len = len;
	o->kind = kind_of_key(key);
	const char *ns = api_meta_namespace(tree), *name = api_meta_name(tree);
	size_t nl = ns ? strlen(ns) : 0, ml = name ? strlen(name) : 0;
	o->names = sk_malloc(nl + ml + 2);
	memcpy(o->names, ns ? ns : "", nl + 1);
	memcpy(o->names + nl + 1, name ? name : "", ml + 1);
	o->ns = o->names;
	o->name = o->names + nl + 1;
	json_t *labels = api_meta_labels(tree);
	/* a copy: the tree passed in belongs to a request and may change */
	if (json_is_object(labels) && json_object_size(labels))
		o->labels = json_deep_copy(labels);
	if (o->kind)
		o->fields = api_field_set(o->kind, tree);
	json_t *refs = api_meta_owner_refs(tree), *fins = api_get(tree, "metadata.finalizers");
	o->owned = json_is_array(refs) && json_array_size(refs);
	o->finalizers = json_is_array(fins) && json_array_size(fins);
	o->deleting = api_meta_deletion_timestamp(tree) != NULL;
	const char *uid = api_meta_uid(tree);
	snprintf(o->uid, sizeof(o->uid), "%s", uid ? uid : "");
	json_decref(parsed);
	return o;
}

/* ---- the cache ----------------------------------------------------------- */

struct queue {
	srv_watch_item *items;
	size_t head, count, cap;
};

struct srv_watch {
	srv_cache *c;
	struct cache_res *res; /* NULL: a watch on every resource */
	srv_watch *prev, *next;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct queue backlog, live;
	bool backfilling, ended, want_wake, registered;
	const api_kind *kind;
	char *ns, *name;
	api_selector *labels, *fields;
	int64_t min_rev;
	int64_t deadline_ns;
	bool bookmarks;
	size_t max_queue;
	void (*wake)(void *data);
	void *wake_data;
};

struct cache_res {
	char *prefix; /* "pods/" */
	const api_kind *kind;
	srv_obj **items; /* sorted by key */
	size_t n, cap;
	srv_watch *watchers;
};

struct srv_cache {
	pthread_rwlock_t lock;
	struct cache_res *res;
	size_t nres;
	srv_watch *global; /* watches on every resource */
	size_t nwatches;
	size_t nobjs;
	int64_t rev;
};

srv_cache *srv_cache_new(void)
{
	srv_cache *c = sk_calloc(1, sizeof(*c));
	size_t n;
	const api_kind *kinds = api_kinds(&n);

	pthread_rwlock_init(&c->lock, NULL);
	c->res = sk_calloc(n, sizeof(*c->res));
	for (size_t i = 0; i < n; i++) {
		c->res[i].prefix = srv_key_prefix(&kinds[i], NULL);
		c->res[i].kind = &kinds[i];
	}
	c->nres = n;
	return c;
}

static void queue_clear(struct queue *q)
{
	for (size_t i = 0; i < q->count; i++)
		srv_watch_item_clear(&q->items[(q->head + i) % q->cap]);
	free(q->items);
	memset(q, 0, sizeof(*q));
}

void srv_cache_free(srv_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nres; i++) {
		for (size_t j = 0; j < c->res[i].n; j++)
			srv_obj_unref(c->res[i].items[j]);
		free(c->res[i].items);
		free(c->res[i].prefix);
	}
	free(c->res);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

static struct cache_res *res_of_key(srv_cache *c, const char *key)
{
	for (size_t i = 0; i < c->nres; i++)
		if (sk_startswith(key, c->res[i].prefix))
			return &c->res[i];
	return NULL;
}

static struct cache_res *res_of_kind(srv_cache *c, const api_kind *k)
{
	for (size_t i = 0; i < c->nres; i++)
		if (c->res[i].kind == k)
			return &c->res[i];
	return NULL;
}

/* Index of key in r, or of where it would go (*found false). */
static size_t res_find(struct cache_res *r, const char *key, bool *found)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(r->items[mid]->key, key);
		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Put o in place of the key's current object; returns the old one. */
static srv_obj *res_put(srv_cache *c, struct cache_res *r, srv_obj *o)
{
	bool found;
	size_t i = res_find(r, o->key, &found);
	srv_obj *old;

	if (found) {
		old = r->items[i];
		r->items[i] = o;
		return old;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->items = sk_realloc(r->items, r->cap * sizeof(*r->items));
	}
	memmove(&r->items[i + 1], &r->items[i], (r->n - i) * sizeof(*r->items));
	r->items[i] = o;
	r->n++;
	c->nobjs++;
	return NULL;
}

static srv_obj *res_remove(srv_cache *c, struct cache_res *r, const char *key)
{
	bool found;
	size_t i = res_find(r, key, &found);
	srv_obj *old;

	if (!found)
		return NULL;
	old = r->items[i];
	memmove(&r->items[i], &r->items[i + 1], (r->n - i - 1) * sizeof(*r->items));
	r->n--;
	c->nobjs--;
	return old;
}

/* ---- watch queues -------------------------------------------------------- */

void srv_watch_item_clear(srv_watch_item *it)
{
	srv_obj_unref(it->obj);
	srv_obj_unref(it->old);
	memset(it, 0, sizeof(*it));
}

static void queue_push(struct queue *q, const srv_watch_item *it)
{
	if (q->count == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		srv_watch_item *n = sk_malloc(cap * sizeof(*n));
		for (size_t i = 0; i < q->count; i++)
			n[i] = q->items[(q->head + i) % q->cap];
		free(q->items);
		q->items = n;
		q->head = 0;
		q->cap = cap;
	}
	q->items[(q->head + q->count) % q->cap] = *it;
	q->count++;
}

static bool queue_shift(struct queue *q, srv_watch_item *it)
{
	if (!q->count)
		return false;
	*it = q->items[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	if (!q->count)
		q->head = 0;
	return true;
}

static void watch_wake_locked(srv_watch *w)
{
	if (w->want_wake) {
		w->want_wake = false;
		if (w->wake)
			w->wake(w->wake_data);
	}
	pthread_cond_broadcast(&w->cond);
}

/* Queue an item (references taken) unless the namespace or name filter
 * already rules it out. Called with the cache lock held. */
static void watch_offer(srv_watch *w, enum srv_watch_type type, srv_obj *obj, srv_obj *old)
{
	if (w->ns && strcmp(obj->ns, w->ns) != 0 && (!old || strcmp(old->ns, w->ns) != 0))
		return;
	if (w->name && strcmp(obj->name, w->name) != 0)
		return;
	srv_watch_item it = {.type = type, .obj = srv_obj_ref(obj), .old = srv_obj_ref(old)};
	pthread_mutex_lock(&w->lock);
	if (w->ended) {
		pthread_mutex_unlock(&w->lock);
		srv_watch_item_clear(&it);
		return;
	}
	if (w->live.count >= w->max_queue) {
		/* a consumer this far behind would hold memory without bound;
		 * Kubernetes drops such watchers too, and clients re-watch */
		sk_warn("watch on %s fell %zu events behind: closing it",
			w->res ? w->res->prefix : "everything", w->live.count);
		srv_watch_item_clear(&it);
		w->ended = true;
	} else {
		queue_push(&w->live, &it);
	}
	watch_wake_locked(w);
	pthread_mutex_unlock(&w->lock);
}

static void fan_out(srv_cache *c, struct cache_res *r, enum srv_watch_type type, srv_obj *obj,
		    srv_obj *old)
{
	for (srv_watch *w = r ? r->watchers : NULL; w; w = w->next)
		watch_offer(w, type, obj, old);
	for (srv_watch *w = c->global; w; w = w->next)
		watch_offer(w, type, obj, old);
}

/* ---- the sink and loading -------------------------------------------------- */

void srv_cache_sink(const srv_store_event *ev, void *data)
{
	srv_cache *c = data;
	srv_obj *o = srv_obj_new(ev->key, ev->value, ev->len, ev->rev, ev->create_rev, ev->hint);
	srv_obj *old = NULL;
	struct cache_res *r;

	if (!o) {
		sk_error("cache: %s at revision %lld is not a JSON object", ev->key,
			 (long long)ev->rev);
		pthread_rwlock_wrlock(&c->lock);
		c->rev = ev->rev;
		pthread_rwlock_unlock(&c->lock);
		return;
	}
	pthread_rwlock_wrlock(&c->lock);
	r = res_of_key(c, ev->key);
	if (ev->type == SRV_EV_DELETE) {
		old = r ? res_remove(c, r, ev->key) : NULL;
		fan_out(c, r, SRV_WATCH_DELETED, o, old);
		srv_obj_unref(o);
	} else {
		old = r ? res_put(c, r, o) : NULL;
		fan_out(c, r, ev->prev_rev ? SRV_WATCH_MODIFIED : SRV_WATCH_ADDED, o, old);
		if (!r)
			srv_obj_unref(o);
	}
	c->rev = ev->rev;
	pthread_rwlock_unlock(&c->lock);
	srv_obj_unref(old);
}

static int load_one(const srv_kv *kv, void *data)
{
	srv_cache *c = data;
	srv_obj *o = srv_obj_new(kv->key, kv->value, kv->len, kv->mod_rev, kv->create_rev, NULL);
	struct cache_res *r = res_of_key(c, kv->key);

	if (!o || !r) {
		sk_warn("cache: skipping stored key %s (%s)", kv->key,
			o ? "unknown resource" : "not a JSON object");
		srv_obj_unref(o);
		return 0;
	}
	srv_obj_unref(res_put(c, r, o));
	return 0;
}

int srv_cache_load(srv_cache *c, srv_store *st, sk_err *err)
{
	int64_t rev = srv_store_current_rev(st);
	int ret;

	pthread_rwlock_wrlock(&c->lock);
	ret = srv_store_range(st, "", NULL, rev, 0, load_one, c, NULL, err);
	c->rev = rev;
	pthread_rwlock_unlock(&c->lock);
	if (ret < 0)
		return sk_err_wrap(err, "load the cache");
	return 0;
}

int64_t srv_cache_rev(srv_cache *c)
{
	int64_t rev;

	pthread_rwlock_rdlock(&c->lock);
	rev = c->rev;
	pthread_rwlock_unlock(&c->lock);
	return rev;
}

size_t srv_cache_count(srv_cache *c)
{
	size_t n;

	pthread_rwlock_rdlock(&c->lock);
	n = c->nobjs;
	pthread_rwlock_unlock(&c->lock);
	return n;
}

srv_obj *srv_cache_get(srv_cache *c, const char *key)
{
	srv_obj *o = NULL;
	struct cache_res *r;
	bool found;

	pthread_rwlock_rdlock(&c->lock);
	r = res_of_key(c, key);
	if (r) {
		size_t i = res_find(r, key, &found);
		if (found)
			o = srv_obj_ref(r->items[i]);
	}
	pthread_rwlock_unlock(&c->lock);
	return o;
}

void srv_objs_free(srv_obj **objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		srv_obj_unref(objs[i]);
	free(objs);
}

int srv_cache_list(srv_cache *c, const api_kind *k, const char *ns, const char *after,
		   srv_obj_match_fn match, void *data, size_t limit, srv_obj ***out, size_t *n,
		   bool *more, int64_t *rev)
{
	_cleanup_free_ char *prefix = srv_key_prefix(k, ns);
	srv_obj **objs = NULL;
	size_t count = 0, cap = 0, i;
	struct cache_res *r;
	bool found;

	*more = false;
	pthread_rwlock_rdlock(&c->lock);
	*rev = c->rev;
	r = res_of_kind(c, k);
	if (!r)
		goto out;
	i = res_find(r, after && strcmp(after, prefix) > 0 ? after : prefix, &found);
	if (found && after)
		i++;
	for (; i < r->n; i++) {
		srv_obj *o = r->items[i];
		if (!sk_startswith(o->key, prefix))
			break;
		if (match && !match(o, data))
			continue;
		if (limit && count == limit) {
			*more = true;
			break;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			objs = sk_realloc(objs, cap * sizeof(*objs));
		}
		objs[count++] = srv_obj_ref(o);
	}
out:
	pthread_rwlock_unlock(&c->lock);
	*out = objs;
	*n = count;
	return 0;
}

/* ---- watches ---------------------------------------------------------------- */

static void watch_free(srv_watch *w)
{
	queue_clear(&w->backlog);
	queue_clear(&w->live);
	api_selector_free(w->labels);
	api_selector_free(w->fields);
	free(w->ns);
	free(w->name);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
}

static void watch_link(srv_cache *c, srv_watch *w)
{
	srv_watch **head = w->res ? &w->res->watchers : &c->global;

	w->prev = NULL;
	w->next = *head;
	if (*head)
		(*head)->prev = w;
	*head = w;
	w->registered = true;
	c->nwatches++;
}

static void watch_unlink(srv_cache *c, srv_watch *w)
{
	srv_watch **head = w->res ? &w->res->watchers : &c->global;

	if (!w->registered)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		*head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->registered = false;
	c->nwatches--;
}

struct backfill {
	srv_watch *w;
};

static int backfill_one(const srv_store_event *ev, void *data)
{
	struct backfill *b = data;
	srv_obj *o = srv_obj_new(ev->key, ev->value, ev->len, ev->rev, ev->create_rev, NULL);
	srv_obj *old = NULL;

	if (!o)
		return 0;
	if (ev->prev_value)
		old = srv_obj_new(ev->key, ev->prev_value, ev->prev_len, ev->prev_rev,
				  ev->create_rev, NULL);
	srv_watch_item it = {
		.type = ev->type == SRV_EV_DELETE ? SRV_WATCH_DELETED
			: ev->prev_rev		  ? SRV_WATCH_MODIFIED
						  : SRV_WATCH_ADDED,
		.obj = o,
		.old = old,
	};
	if ((b->w->ns && strcmp(o->ns, b->w->ns) != 0 && (!old || strcmp(old->ns, b->w->ns))) ||
	    (b->w->name && strcmp(o->name, b->w->name) != 0)) {
		srv_watch_item_clear(&it);
		return 0;
	}
	pthread_mutex_lock(&b->w->lock);
	queue_push(&b->w->backlog, &it);
	pthread_mutex_unlock(&b->w->lock);
	return 0;
}

static void push_initial_res(srv_watch *w, struct cache_res *r)
{
	_cleanup_free_ char *prefix = srv_key_prefix(r->kind, w->ns);

	for (size_t i = 0; i < r->n; i++) {
		srv_obj *o = r->items[i];
		if (!sk_startswith(o->key, prefix) || (w->name && strcmp(o->name, w->name)))
			continue;
		srv_watch_item it = {.type = SRV_WATCH_ADDED, .obj = srv_obj_ref(o)};
		queue_push(&w->backlog, &it);
	}
}

/* ADDED for every current object the watch covers, in key order (for a
 * watch on everything, kind by kind in discovery order). */
static void push_initial(srv_cache *c, srv_watch *w)
{
	if (w->res) {
		push_initial_res(w, w->res);
		return;
	}
	for (size_t i = 0; i < c->nres; i++)
		push_initial_res(w, &c->res[i]);
}

int srv_cache_watch(srv_cache *c, srv_store *st, srv_watch_opts *o, srv_watch **out, sk_err *err)
{
	srv_watch *w = sk_calloc(1, sizeof(*w));
	int64_t cur;

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->c = c;
	w->kind = o->kind;
	w->ns = o->ns ? sk_strdup(o->ns) : NULL;
	w->name = o->name ? sk_strdup(o->name) : NULL;
	w->labels = move_ptr(o->labels);
	w->fields = move_ptr(o->fields);
	w->deadline_ns = o->deadline_ns;
	w->bookmarks = o->bookmarks;
	w->max_queue = o->max_queue ? o->max_queue : DEFAULT_MAX_QUEUE;
	w->wake = o->wake;
	w->wake_data = o->wake_data;
	w->min_rev = o->from_rev;

	pthread_rwlock_wrlock(&c->lock);
	cur = c->rev;
	w->res = o->kind ? res_of_kind(c, o->kind) : NULL;
	if (o->kind && !w->res) {
		pthread_rwlock_unlock(&c->lock);
		watch_free(w);
		return sk_err_set(err, EINVAL, "no such resource: %s", o->kind->resource);
	}
	if (o->initial) {
		push_initial(c, w);
		w->min_rev = 0;
		if (o->initial_bookmark) {
			srv_watch_item it = {
				.type = SRV_WATCH_BOOKMARK, .rev = cur, .initial_end = true};
			queue_push(&w->backlog, &it);
		}
	} else if (o->from_rev < cur) {
		w->backfilling = true;
	}
	watch_link(c, w);
	pthread_rwlock_unlock(&c->lock);

	if (w->backfilling) {
		/* The watch is registered, so events after cur queue up in
		 * `live`; the store's log supplies (from_rev, cur]. */
		struct backfill b = {.w = w};
		_cleanup_free_ char *prefix = w->res ? sk_strdup(w->res->prefix) : sk_strdup("");
		if (srv_store_replay(st, prefix, o->from_rev, cur, backfill_one, &b, err) < 0) {
			srv_watch_close(w);
			return -1;
		}
		pthread_mutex_lock(&w->lock);
		w->backfilling = false;
		watch_wake_locked(w);
		pthread_mutex_unlock(&w->lock);
	}
	*out = w;
	return 0;
}

void srv_watch_close(srv_watch *w)
{
	if (!w)
		return;
	pthread_rwlock_wrlock(&w->c->lock);
	watch_unlink(w->c, w);
	pthread_rwlock_unlock(&w->c->lock);
	watch_free(w);
}

void srv_watch_end(srv_watch *w)
{
	pthread_mutex_lock(&w->lock);
	w->ended = true;
	w->want_wake = true;
	watch_wake_locked(w);
	pthread_mutex_unlock(&w->lock);
}

static bool obj_matches(srv_watch *w, const srv_obj *o)
{
	if (w->ns && strcmp(o->ns, w->ns) != 0)
		return false;
	if (w->name && strcmp(o->name, w->name) != 0)
		return false;
	if (w->labels && !api_label_selector_matches(w->labels, o->labels))
		return false;
	if (w->fields && !(o->fields && api_field_selector_matches(w->fields, o->fields)))
		return false;
	return true;
}

/* Decide what a consumer sees of an item, as Kubernetes' cacheWatcher
 * does: an object that starts matching is ADDED, one that stops matching
 * is DELETED. false: nothing to send. */
static bool item_filter(srv_watch *w, srv_watch_item *it)
{
	bool now, before;

	if (it->type == SRV_WATCH_BOOKMARK || it->type == SRV_WATCH_ERROR)
		return true;
	if (it->obj->rev <= w->min_rev)
		return false;
	now = obj_matches(w, it->obj);
	switch (it->type) {
	case SRV_WATCH_ADDED:
	case SRV_WATCH_DELETED:
		return now;
	case SRV_WATCH_MODIFIED:
		before = it->old && obj_matches(w, it->old);
		if (now && !before)
			it->type = SRV_WATCH_ADDED;
		else if (!now && before)
			it->type = SRV_WATCH_DELETED;
		return now || before;
	default:
		return false;
	}
}

int srv_watch_pop(srv_watch *w, srv_watch_item *it, void (*on_empty)(void *), void *ctx)
{
	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct queue *q = w->backlog.count ? &w->backlog : w->backfilling ? NULL : &w->live;
		if (q && queue_shift(q, it)) {
			if (item_filter(w, it)) {
				pthread_mutex_unlock(&w->lock);
				return 1;
			}
			srv_watch_item_clear(it);
			continue;
		}
		if (w->ended) {
			pthread_mutex_unlock(&w->lock);
			return -1;
		}
		w->want_wake = true;
		if (on_empty)
			on_empty(ctx);
		pthread_mutex_unlock(&w->lock);
		return 0;
	}
}

int srv_watch_next(srv_watch *w, srv_watch_item *it, int timeout_ms)
{
	struct timespec until;
	int r;

	clock_gettime(CLOCK_REALTIME, &until);
	if (timeout_ms > 0) {
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	for (;;) {
		r = srv_watch_pop(w, it, NULL, NULL);
		if (r != 0 || timeout_ms == 0)
			return r;
		pthread_mutex_lock(&w->lock);
		if (!w->live.count && !w->backlog.count && !w->ended) {
			int wr = timeout_ms < 0
					 ? pthread_cond_wait(&w->cond, &w->lock)
					 : pthread_cond_timedwait(&w->cond, &w->lock, &until);
			if (wr == ETIMEDOUT) {
				pthread_mutex_unlock(&w->lock);
				return 0;
			}
		}
		pthread_mutex_unlock(&w->lock);
	}
}

static void tick_one(srv_watch *w, int64_t now, int64_t rev, bool send_bookmarks)
{
	pthread_mutex_lock(&w->lock);
	if (w->deadline_ns && now >= w->deadline_ns && !w->ended) {
		w->ended = true;
		w->want_wake = true;
		watch_wake_locked(w);
	} else if (send_bookmarks && w->bookmarks && !w->ended && !w->live.count &&
		   !w->backlog.count && !w->backfilling) {
		srv_watch_item it = {.type = SRV_WATCH_BOOKMARK, .rev = rev};
		queue_push(&w->live, &it);
		watch_wake_locked(w);
	}
	pthread_mutex_unlock(&w->lock);
}

void srv_cache_tick(srv_cache *c, bool send_bookmarks)
{
	int64_t now = sk_monotonic_ns();

	pthread_rwlock_rdlock(&c->lock);
	for (size_t i = 0; i < c->nres; i++)
		for (srv_watch *w = c->res[i].watchers; w; w = w->next)
			tick_one(w, now, c->rev, send_bookmarks);
	for (srv_watch *w = c->global; w; w = w->next)
		tick_one(w, now, c->rev, send_bookmarks);
	pthread_rwlock_unlock(&c->lock);
}

void srv_cache_end_watches(srv_cache *c)
{
	pthread_rwlock_rdlock(&c->lock);
	for (size_t i = 0; i < c->nres; i++)
		for (srv_watch *w = c->res[i].watchers; w; w = w->next)
			srv_watch_end(w);
	for (srv_watch *w = c->global; w; w = w->next)
		srv_watch_end(w);
	pthread_rwlock_unlock(&c->lock);
}

size_t srv_cache_watch_count(srv_cache *c)
{
	size_t n;

	pthread_rwlock_rdlock(&c->lock);
	n = c->nwatches;
	pthread_rwlock_unlock(&c->lock);
	return n;
}
