/* The garbage collector: cascading deletion by ownerReferences (see
 * controllers.h for the three policies).
 *
 * It keeps a graph of every object it has seen, by uid: each node knows its
 * owners and its dependents. Owners referenced but never seen are
 * "virtual" nodes. The graph is fed by one watch on every kind, so once the
 * initial events are in (CTL_SYNCED), an owner uid that is not live is
 * known to be gone. Work is queued per uid and done between events; work
 * that fails for a transient reason (a conflict) is queued again. */
#include "controllers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#define GC_BUCKETS 4096

enum gc_action { GC_ATTEMPT_DELETE, GC_FOREGROUND, GC_ORPHAN };

struct gc_owner {
	char uid[40];
	bool block; /* blockOwnerDeletion */
};

struct gc_node {
	char uid[40];
	const api_kind *kind;
	char *ns, *name;
	bool live;
	bool deleting;	 /* deletionTimestamp set */
	bool foreground; /* ... with the foregroundDeletion finalizer */
	bool orphan;	 /* ... with the orphan finalizer */
	struct gc_owner *owners;
	size_t nowners;
	char (*deps)[40]; /* uids of dependents */
	size_t ndeps, capdeps;
	struct gc_node *next; /* hash chain */
};

struct gc_work {
	enum gc_action action;
	char uid[40];
};

struct ctl_gc {
	ctl_client *c;
	pthread_t thread;
	atomic_bool stop;
	ctl_watch *watch;
	struct gc_node *buckets[GC_BUCKETS];
	size_t nlive;
	bool synced;
	struct gc_work *work;
	size_t nwork, capwork;
};

/* ---- the graph ------------------------------------------------------------------- */

static unsigned hash_uid(const char *uid)
{
	unsigned h = 5381;

	for (; *uid; uid++)
		h = h * 33 + (unsigned char)*uid;
	return h % GC_BUCKETS;
}

static struct gc_node *node_find(ctl_gc *gc, const char *uid)
{
	for (struct gc_node *n = gc->buckets[hash_uid(uid)]; n; n = n->next)
		if (!strcmp(n->uid, uid))
			return n;
	return NULL;
}

static struct gc_node *node_get(ctl_gc *gc, const char *uid)
{
	struct gc_node *n = node_find(gc, uid);
	unsigned h;

	if (n)
		return n;
	n = sk_calloc(1, sizeof(*n));
	snprintf(n->uid, sizeof(n->uid), "%s", uid);
	h = hash_uid(uid);
	n->next = gc->buckets[h];
	gc->buckets[h] = n;
	return n;
}

static void node_free(struct gc_node *n)
{
	free(n->ns);
	free(n->name);
	free(n->owners);
	free(n->deps);
	free(n);
}

/* Drop a node that is neither live nor referenced. */
static void node_maybe_drop(ctl_gc *gc, struct gc_node *n)
{
	struct gc_node **pp;

	if (n->live || n->ndeps || n->nowners)
		return;
	for (pp = &gc->buckets[hash_uid(n->uid)]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			node_free(n);
			return;
		}
	}
}

static void dep_add(struct gc_node *owner, const char *uid)
{
	for (size_t i = 0; i < owner->ndeps; i++)
		if (!strcmp(owner->deps[i], uid))
			return;
	if (owner->ndeps == owner->capdeps) {
		owner->capdeps = owner->capdeps ? owner->capdeps * 2 : 4;
		owner->deps = sk_realloc(owner->deps, owner->capdeps * sizeof(*owner->deps));
	}
	snprintf(owner->deps[owner->ndeps++], 40, "%s", uid);
}

static void dep_remove(struct gc_node *owner, const char *uid)
{
	for (size_t i = 0; i < owner->ndeps; i++) {
		if (!strcmp(owner->deps[i], uid)) {
			memmove(&owner->deps[i], &owner->deps[i + 1],
				(owner->ndeps - i - 1) * sizeof(*owner->deps));
			owner->ndeps--;
			return;
		}
	}
}

static void queue_work(ctl_gc *gc, enum gc_action a, const char *uid)
{
	for (size_t i = 0; i < gc->nwork; i++)
		if (gc->work[i].action == a && !strcmp(gc->work[i].uid, uid))
			return;
	if (gc->nwork == gc->capwork) {
		gc->capwork = gc->capwork ? gc->capwork * 2 : 64;
		gc->work = sk_realloc(gc->work, gc->capwork * sizeof(*gc->work));
	}
	gc->work[gc->nwork].action = a;
	snprintf(gc->work[gc->nwork].uid, 40, "%s", uid);
	gc->nwork++;
}

/* Set n's owners from obj's ownerReferences, keeping the reverse edges. */
static void set_owners(ctl_gc *gc, struct gc_node *n, json_t *obj)
{
	json_t *refs = obj ? api_meta_owner_refs(obj) : NULL, *ref;
	size_t i;

	for (i = 0; i < n->nowners; i++) {
		struct gc_node *o = node_find(gc, n->owners[i].uid);
		if (o) {
			dep_remove(o, n->uid);
			node_maybe_drop(gc, o);
		}
	}
	free(n->owners);
	n->owners = NULL;
	n->nowners = 0;
	if (!json_is_array(refs) || !json_array_size(refs))
		return;
	n->owners = sk_calloc(json_array_size(refs), sizeof(*n->owners));
	json_array_foreach (refs, i, ref) {
		const char *uid = api_get_str(ref, "uid");
		if (!uid || !*uid)
			continue;
		struct gc_node *o = node_get(gc, uid);
		if (!o->kind)
			o->kind = api_kind_by_gvk(api_get_str(ref, "apiVersion"),
						  api_get_str(ref, "kind"));
		if (!o->name)
			o->name =
				sk_strdup(api_get_str(ref, "name") ? api_get_str(ref, "name") : "");
		dep_add(o, n->uid);
		snprintf(n->owners[n->nowners].uid, 40, "%s", uid);
		n->owners[n->nowners].block = api_get_bool(ref, "blockOwnerDeletion", false);
		n->nowners++;
	}
}

static void set_identity(ctl_gc *gc, struct gc_node *n, ctl_event *ev)
{
	if (!n->live)
		gc->nlive++;
	n->live = true;
	n->kind = ev->kind;
	if (!sk_streq(n->ns, ev->ns)) {
		free(n->ns);
		n->ns = sk_strdup(ev->ns);
	}
	if (!sk_streq(n->name, ev->name)) {
		free(n->name);
		n->name = sk_strdup(ev->name);
	}
}

/* A new or changed object. Most objects have no owners and are not being
 * deleted: for them the identity is enough, and nothing is parsed. */
static void observe(ctl_gc *gc, ctl_event *ev)
{
	struct gc_node *n;

	if (!ev->uid || !*ev->uid)
		return;
	n = node_get(gc, ev->uid);
	set_identity(gc, n, ev);
	if (!ev->owned && !n->nowners && !ev->deleting) {
		n->deleting = n->foreground = n->orphan = false;
		return;
	}
	json_t *obj = ctl_event_obj(ev);
	if (!obj)
		return;
	n->deleting = ev->deleting;
	n->foreground = n->deleting && api_meta_has_finalizer(obj, "foregroundDeletion");
	n->orphan = n->deleting && api_meta_has_finalizer(obj, "orphan");
	set_owners(gc, n, obj);
	if (n->foreground)
		queue_work(gc, GC_FOREGROUND, n->uid);
	if (n->orphan)
		queue_work(gc, GC_ORPHAN, n->uid);
	if (gc->synced && n->nowners)
		queue_work(gc, GC_ATTEMPT_DELETE, n->uid);
}

static void forget(ctl_gc *gc, ctl_event *ev)
{
	struct gc_node *n = ev->uid && *ev->uid ? node_find(gc, ev->uid) : NULL;

	if (!n)
		return;
	if (n->live)
		gc->nlive--;
	n->live = false;
	n->deleting = n->foreground = n->orphan = false;
	/* owners waiting for their dependents may be done now */
	for (size_t i = 0; i < n->nowners; i++) {
		struct gc_node *o = node_find(gc, n->owners[i].uid);
		if (o && o->foreground)
			queue_work(gc, GC_FOREGROUND, o->uid);
	}
	set_owners(gc, n, NULL);
	/* its dependents lost an owner */
	for (size_t i = 0; i < n->ndeps; i++)
		queue_work(gc, GC_ATTEMPT_DELETE, n->deps[i]);
	node_maybe_drop(gc, n);
}

/* ---- the work ---------------------------------------------------------------------- */

/* 1: done, 0: retry later. */
static int delete_node(ctl_gc *gc, struct gc_node *n, const char *policy)
{
	ctl_delete_opts o = {.propagation = policy, .grace = -1, .uid = n->uid};
	sk_err err = {0};

	if (!n->kind || n->deleting)
		return 1;
	if (gc->c->delete (gc->c, n->kind, n->ns, n->name, &o, &err) < 0) {
		if (err.code == 404)
			return 1;
		sk_debug("gc: delete %s %s/%s: %s", n->kind->resource, n->ns, n->name, err.msg);
		return err.code == 409 ? 0 : 1;
	}
	sk_debug("gc: deleted %s %s/%s (%s)", n->kind->resource, n->ns, n->name, policy);
	return 1;
}

/* Remove the references to the given owners from n (read, edit, write
 * back at that resourceVersion). 1: done, 0: retry later. */
static int remove_refs(ctl_gc *gc, struct gc_node *n, char (*uids)[40], size_t nuids)
{
	json_t *obj = NULL, *refs, *kept, *ref, *out = NULL;
	sk_err err = {0};
	size_t i;

	if (!n->kind || gc->c->get(gc->c, n->kind, n->ns, n->name, &obj, &err) < 0)
		return 1;
	if (!sk_streq(api_meta_uid(obj), n->uid)) {
		json_decref(obj);
		return 1;
	}
	refs = api_meta_owner_refs(obj);
	kept = json_array();
	json_array_foreach (refs, i, ref) {
		bool drop = false;
		for (size_t j = 0; j < nuids; j++)
			drop = drop || sk_streq(api_get_str(ref, "uid"), uids[j]);
		if (!drop)
			json_array_append(kept, ref);
	}
	api_set(obj, "metadata.ownerReferences", kept);
	if (!json_array_size(kept))
		api_del(obj, "metadata.ownerReferences");
	int r = gc->c->update(gc->c, n->kind, obj, NULL, &out, &err);
	json_decref(obj);
	json_decref(out);
	if (r < 0 && err.code == 409)
		return 0;
	return 1;
}

/* A dependent lost (or may have lost) an owner: what Kubernetes' GC's
 * attemptToDeleteItem decides. */
static int attempt_delete(ctl_gc *gc, struct gc_node *n)
{
	char(*gone)[40] = NULL;
	size_t ngone = 0, nsolid = 0, nwaiting = 0;
	int r = 1;

	if (!n->live || !n->nowners)
		return 1;
	gone = sk_calloc(n->nowners, sizeof(*gone));
	for (size_t i = 0; i < n->nowners; i++) {
		struct gc_node *o = node_find(gc, n->owners[i].uid);
		if (!o || (!o->live && o->kind))
			snprintf(gone[ngone++], 40, "%s", n->owners[i].uid);
		else if (o->live && o->foreground)
			nwaiting++;
		else
			nsolid++; /* live, or of a kind this server does not know */
	}
	if (nsolid) {
		if (ngone)
			r = remove_refs(gc, n, gone, ngone);
	} else if (nwaiting) {
		r = delete_node(gc, n, "Foreground");
	} else {
		r = delete_node(gc, n, "Background");
	}
	free(gone);
	return r;
}

static int remove_finalizer(ctl_gc *gc, struct gc_node *n, const char *fin)
{
	json_t *obj = NULL, *out = NULL;
	sk_err err = {0};

	if (!n->kind || gc->c->get(gc->c, n->kind, n->ns, n->name, &obj, &err) < 0)
		return 1;
	if (!sk_streq(api_meta_uid(obj), n->uid) || !api_meta_remove_finalizer(obj, fin)) {
		json_decref(obj);
		return 1;
	}
	int r = gc->c->update(gc->c, n->kind, obj, NULL, &out, &err);
	json_decref(obj);
	json_decref(out);
	if (r < 0 && err.code == 409)
		return 0;
	sk_debug("gc: removed %s from %s %s/%s", fin, n->kind->resource, n->ns, n->name);
	return 1;
}

/* An owner deleted in the foreground: delete its dependents (they block
 * it while they exist, when they say blockOwnerDeletion), then let it go. */
static int foreground(ctl_gc *gc, struct gc_node *n)
{
	size_t blocking = 0;
	int r = 1;

	if (!n->live || !n->foreground)
		return 1;
	for (size_t i = 0; i < n->ndeps; i++) {
		struct gc_node *d = node_find(gc, n->deps[i]);
		if (!d || !d->live)
			continue;
		for (size_t j = 0; j < d->nowners; j++)
			if (!strcmp(d->owners[j].uid, n->uid) && d->owners[j].block)
				blocking++;
		if (!d->deleting && delete_node(gc, d, "Foreground") == 0)
			r = 0;
	}
	if (blocking)
		return r;
	return remove_finalizer(gc, n, "foregroundDeletion") && r;
}

/* An owner deleted with orphans: its dependents lose the reference to it,
 * then it goes. */
static int orphan(ctl_gc *gc, struct gc_node *n)
{
	char uid[1][40];

	if (!n->live || !n->orphan)
		return 1;
	snprintf(uid[0], 40, "%s", n->uid);
	for (size_t i = 0; i < n->ndeps; i++) {
		struct gc_node *d = node_find(gc, n->deps[i]);
		if (d && d->live && remove_refs(gc, d, uid, 1) == 0)
			return 0;
	}
	return remove_finalizer(gc, n, "orphan");
}

static void run_work(ctl_gc *gc)
{
	struct gc_work *work = gc->work;
	size_t n = gc->nwork;

	gc->work = NULL;
	gc->nwork = gc->capwork = 0;
	for (size_t i = 0; i < n && !atomic_load(&gc->stop); i++) {
		struct gc_node *node = node_find(gc, work[i].uid);
		int done = 1;
		if (!node)
			continue;
		switch (work[i].action) {
		case GC_ATTEMPT_DELETE:
			done = attempt_delete(gc, node);
			break;
		case GC_FOREGROUND:
			done = foreground(gc, node);
			break;
		case GC_ORPHAN:
			done = orphan(gc, node);
			break;
		}
		if (!done)
			queue_work(gc, work[i].action, work[i].uid);
	}
	free(work);
}

static void on_synced(ctl_gc *gc)
{
	gc->synced = true;
	for (size_t b = 0; b < GC_BUCKETS; b++)
		for (struct gc_node *n = gc->buckets[b]; n; n = n->next)
			if (n->live && n->nowners)
				queue_work(gc, GC_ATTEMPT_DELETE, n->uid);
}

static void handle(ctl_gc *gc, ctl_event *ev)
{
	switch (ev->type) {
	case CTL_SYNCED:
		on_synced(gc);
		break;
	case CTL_ADDED:
	case CTL_MODIFIED:
		observe(gc, ev);
		break;
	case CTL_DELETED:
		forget(gc, ev);
		break;
	}
}

static void *gc_main(void *arg)
{
	ctl_gc *gc = arg;
	pthread_setname_np(pthread_self(), "ctl-gc");
	ctl_event ev;

	while (!atomic_load(&gc->stop)) {
		/* retry pending work every second when nothing happens */
		int r = gc->c->next(gc->c, gc->watch, &ev, gc->nwork ? 1000 : 5000);
		if (r < 0)
			break;
		if (r > 0) {
			handle(gc, &ev);
			ctl_event_clear(&ev);
			/* take in everything queued before acting on it */
			while (gc->c->next(gc->c, gc->watch, &ev, 0) > 0) {
				handle(gc, &ev);
				ctl_event_clear(&ev);
			}
		}
		if (gc->synced)
			run_work(gc);
	}
	return NULL;
}

json_t *ctl_event_obj(ctl_event *ev)
{
	if (!ev->obj_ && ev->src_ && ev->parse_)
		ev->obj_ = ev->parse_(ev->src_);
	return ev->obj_;
}

json_t *ctl_event_old(ctl_event *ev)
{
	if (!ev->old_ && ev->src_old_ && ev->parse_)
		ev->old_ = ev->parse_(ev->src_old_);
	return ev->old_;
}

void ctl_event_clear(ctl_event *ev)
{
	json_decref(ev->obj_);
	json_decref(ev->old_);
	if (ev->release_) {
		ev->release_(ev->src_);
		ev->release_(ev->src_old_);
	}
	memset(ev, 0, sizeof(*ev));
}

int ctl_gc_start(ctl_client *c, ctl_gc **out, sk_err *err)
{
	ctl_gc *gc = sk_calloc(1, sizeof(*gc));
	int r;

	gc->c = c;
	if (c->watch(c, NULL, &gc->watch, err) < 0) {
		free(gc);
		return sk_err_wrap(err, "garbage collector: watch");
	}
	if ((r = pthread_create(&gc->thread, NULL, gc_main, gc)) != 0) {
		c->watch_close(c, gc->watch);
		free(gc);
		return sk_err_sys(err, r, "garbage collector: thread");
	}
	*out = gc;
	return 0;
}

void ctl_gc_stop(ctl_gc *gc)
{
	if (!gc)
		return;
	atomic_store(&gc->stop, true);
	gc->c->watch_stop(gc->c, gc->watch);
	pthread_join(gc->thread, NULL);
	gc->c->watch_close(gc->c, gc->watch);
	for (size_t b = 0; b < GC_BUCKETS; b++) {
		while (gc->buckets[b]) {
			struct gc_node *n = gc->buckets[b];
			gc->buckets[b] = n->next;
			node_free(n);
		}
	}
	free(gc->work);
	free(gc);
}

size_t ctl_gc_tracked(ctl_gc *gc)
{
	return gc->nlive;
}
