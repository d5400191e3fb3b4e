/* Namespace deletion: a Namespace being deleted keeps its `kubernetes`
 * finalizer (spec.finalizers) until this controller has deleted
 * everything in it; then the finalizer is removed through
 * namespaces/NAME/finalize and the server removes the Namespace.
 *
 * It watches every kind: namespaces tell it what to empty, deletions in a
 * terminating namespace tell it when to look again. Objects that take
 * time to go (pods with a grace period, objects with finalizers) are
 * waited for, with a look every few seconds. */
#include "controllers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#define RECHECK_MS 2000

struct ctl_namespace {
	ctl_client *c;
	pthread_t thread;
	atomic_bool stop;
	ctl_watch *watch;
	char **terminating; /* namespaces being emptied */
	char **dirty;	    /* those to look at now */
	bool synced;
};

static bool strv_has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

static char **strv_remove(char **v, const char *s)
{
	size_t n = sk_strv_len(v), j = 0;

	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i], s))
			free(v[i]);
		else
			v[j++] = v[i];
	}
	if (v)
		v[j] = NULL;
	return v;
}

static bool is_ns_kind(const api_kind *k)
{
	return k && !*k->group && !strcmp(k->kind, "Namespace");
}

static bool spec_finalizer(json_t *ns)
{
	json_t *f = api_get(ns, "spec.finalizers"), *v;
	size_t i;

	json_array_foreach (f, i, v)
		if (sk_streq(json_string_value(v), "kubernetes"))
			return true;
	return false;
}

static void mark_dirty(ctl_namespace *nc, const char *ns)
{
	if (!strv_has(nc->dirty, ns))
		nc->dirty = sk_strv_push(nc->dirty, ns);
}

static void handle(ctl_namespace *nc, ctl_event *ev)
{
	if (ev->type == CTL_SYNCED) {
		nc->synced = true;
		for (char **t = nc->terminating; t && *t; t++)
			mark_dirty(nc, *t);
		return;
	}
	if (is_ns_kind(ev->kind)) {
		json_t *obj = ev->deleting ? ctl_event_obj(ev) : NULL;
		bool term = ev->type != CTL_DELETED && obj && spec_finalizer(obj);
		if (term && !strv_has(nc->terminating, ev->name)) {
			nc->terminating = sk_strv_push(nc->terminating, ev->name);
			mark_dirty(nc, ev->name);
		} else if (!term && strv_has(nc->terminating, ev->name)) {
			nc->terminating = strv_remove(nc->terminating, ev->name);
			nc->dirty = strv_remove(nc->dirty, ev->name);
		}
		return;
	}
	if (*ev->ns && strv_has(nc->terminating, ev->ns))
		mark_dirty(nc, ev->ns);
}

/* Delete what is left in ns; the number of objects still there. */
static size_t empty_namespace(ctl_namespace *nc, const char *ns)
{
	size_t nkinds, left = 0;
	const api_kind *kinds = api_kinds(&nkinds);

	for (size_t i = 0; i < nkinds; i++) {
		const api_kind *k = &kinds[i];
		json_t *items = NULL, *obj;
		sk_err err = {0};
		size_t j;
		if (!k->namespaced)
			continue;
		if (nc->c->list(nc->c, k, ns, NULL, &items, NULL, &err) < 0) {
			sk_warn("namespace %s: list %s: %s", ns, k->resource, err.msg);
			left++;
			continue;
		}
		json_array_foreach (items, j, obj) {
			left++;
			if (api_meta_deletion_timestamp(obj))
				continue;
			ctl_delete_opts o = {
				.propagation = "Background", .grace = -1, .uid = api_meta_uid(obj)};
			if (nc->c->delete (nc->c, k, ns, api_meta_name(obj), &o, &err) < 0 &&
			    err.code != 404)
				sk_warn("namespace %s: delete %s %s: %s", ns, k->resource,
					api_meta_name(obj), err.msg);
		}
		json_decref(items);
	}
	return left;
}

/* Remove the `kubernetes` finalizer: the server then deletes the
 * Namespace. 0 when done (or gone). */
static int finalize(ctl_namespace *nc, const char *name)
{
	const api_kind *k = api_kind_by_resource("", "namespaces");
	json_t *ns = NULL, *kept, *f, *out = NULL;
	sk_err err = {0};
	size_t i;

	if (nc->c->get(nc->c, k, NULL, name, &ns, &err) < 0)
		return err.code == 404 ? 0 : -1;
	kept = json_array();
	json_array_foreach (api_get(ns, "spec.finalizers"), i, f)
		if (!sk_streq(json_string_value(f), "kubernetes"))
			json_array_append(kept, f);
	api_set(ns, "spec.finalizers", kept);
	int r = nc->c->update(nc->c, k, ns, "finalize", &out, &err);
	json_decref(ns);
	json_decref(out);
	if (r < 0 && err.code != 404) {
		sk_warn("namespace %s: finalize: %s", name, err.msg);
		return -1;
	}
	return 0;
}

static void work(ctl_namespace *nc)
{
	char **dirty = nc->dirty;

	nc->dirty = NULL;
	for (char **d = dirty; d && *d && !atomic_load(&nc->stop); d++) {
		if (!strv_has(nc->terminating, *d))
			continue;
		if (empty_namespace(nc, *d) == 0)
			finalize(nc, *d);
	}
	sk_strv_free(dirty);
}

static void *ns_main(void *arg)
{
	ctl_namespace *nc = arg;
	pthread_setname_np(pthread_self(), "ctl-namespace");
	ctl_event ev;

	while (!atomic_load(&nc->stop)) {
		int r = nc->c->next(nc->c, nc->watch, &ev, RECHECK_MS);
		if (r < 0)
			break;
		if (r > 0) {
			handle(nc, &ev);
			ctl_event_clear(&ev);
			while (nc->c->next(nc->c, nc->watch, &ev, 0) > 0) {
				handle(nc, &ev);
				ctl_event_clear(&ev);
			}
		} else {
			/* quiet: look again at what is still terminating */
			for (char **t = nc->terminating; t && *t; t++)
				mark_dirty(nc, *t);
		}
		if (nc->synced)
			work(nc);
	}
	return NULL;
}

int ctl_namespace_start(ctl_client *c, ctl_namespace **out, sk_err *err)
{
	ctl_namespace *nc = sk_calloc(1, sizeof(*nc));
	int r;

	nc->c = c;
	if (c->watch(c, NULL, &nc->watch, err) < 0) {
		free(nc);
		return sk_err_wrap(err, "namespace controller: watch");
	}
	if ((r = pthread_create(&nc->thread, NULL, ns_main, nc)) != 0) {
		c->watch_close(c, nc->watch);
		free(nc);
		return sk_err_sys(err, r, "namespace controller: thread");
	}
	*out = nc;
	return 0;
}

void ctl_namespace_stop(ctl_namespace *nc)
{
	if (!nc)
		return;
	atomic_store(&nc->stop, true);
	nc->c->watch_stop(nc->c, nc->watch);
	pthread_join(nc->thread, NULL);
	nc->c->watch_close(nc->c, nc->watch);
	sk_strv_free(nc->terminating);
	sk_strv_free(nc->dirty);
	free(nc);
}
