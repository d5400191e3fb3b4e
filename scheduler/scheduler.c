/* The in-process scheduler: a thread that keeps every Pod and Node it
 * needs from one watch, schedules pending pods between batches of
 * events, binds them through pods/binding and reports failures on the
 * pod (PodScheduled=False, Unschedulable) and as Events, as
 * kube-scheduler does. */
#include "scheduler.h"

#include "../api/api.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#define BATCH_MAX 2000	     /* events handled before a scheduling round */
#define BACKOFF_MIN_MS 500   /* after an API error */
#define BACKOFF_MAX_MS 10000 /* kube-scheduler's podMaxBackoffDuration */

struct pod_entry {
	sched_pod pod;	    /* pod.node_name: the node it is on, or was bound to by us */
	bool pending;	    /* waiting for a node */
	bool accounted;	    /* counted on nodes[pod.node_name] */
	bool assumed;	    /* bound by us: a stale unbound event is ignored */
	bool unschedulable; /* the last try failed: wait for something to change */
	uint64_t seq;
	uint64_t fingerprint; /* of spec and labels: a change is worth a new try */
	int64_t retry_at_ns;
	int backoff_ms;
	int64_t rev;
	/* the PodScheduled condition as the pod has it */
	char *cond_status, *cond_reason, *cond_message, *cond_ltt;
};

struct sched_scheduler {
	ctl_client *c;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	ctl_watch *watch;
	ctl_recorder *rec;
	sk_map *pods;  /* uid -> struct pod_entry */
	sk_map *nodes; /* name -> sched_node */
	bool synced;
	bool kick; /* try the unschedulable pods again */
	uint64_t seq;
	int64_t last_retry_ns;
	atomic_ullong bound;
};

static const api_kind *pods_kind(void)
{
	return api_kind_by_resource("", "pods");
}

static bool is_core(const api_kind *k, const char *kind)
{
	return k && !*k->group && !strcmp(k->kind, kind);
}

static void entry_free(void *p)
{
	struct pod_entry *e = p;

	sched_pod_clear(&e->pod);
	free(e->cond_status);
	free(e->cond_reason);
	free(e->cond_message);
	free(e->cond_ltt);
	free(e);
}

static void node_free(void *p)
{
	sched_node_clear(p);
	free(p);
}

/* ---- accounting ------------------------------------------------------------------ */

static void account(sched_scheduler *s, struct pod_entry *e)
{
	sched_node *n;

	if (e->accounted || e->pod.terminal || !e->pod.node_name)
		return;
	n = sk_map_get(s->nodes, e->pod.node_name);
	if (!n)
		return; /* counted when its node appears */
	sched_node_add_pod(n, &e->pod);
	e->accounted = true;
}

/* Returns whether something was freed on a node. */
static bool unaccount(sched_scheduler *s, struct pod_entry *e)
{
	sched_node *n;

	if (!e->accounted)
		return false;
	e->accounted = false;
	n = sk_map_get(s->nodes, e->pod.node_name);
	if (n)
		sched_node_remove_pod(n, &e->pod);
	return n != NULL;
}

/* ---- pods -------------------------------------------------------------------------- */

static uint64_t fingerprint(json_t *pod)
{
	json_t *parts = json_pack("[O?,O?]", api_get(pod, "spec"), api_meta_labels(pod));
	char *text = json_dumps(parts, JSON_COMPACT | JSON_SORT_KEYS);
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = text; p && *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	free(text);
	json_decref(parts);
	return h;
}

/* v may be *dst itself */
static void set_str(char **dst, const char *v)
{
	char *old = *dst;

	*dst = v ? sk_strdup(v) : NULL;
	free(old);
}

static void read_condition(struct pod_entry *e, json_t *pod)
{
	json_t *c;
	size_t i;

	set_str(&e->cond_status, NULL);
	set_str(&e->cond_reason, NULL);
	set_str(&e->cond_message, NULL);
	set_str(&e->cond_ltt, NULL);
	json_array_foreach (api_get(pod, "status.conditions"), i, c) {
		if (!sk_streq(api_get_str(c, "type"), "PodScheduled"))
			continue;
		set_str(&e->cond_status, api_get_str(c, "status"));
		set_str(&e->cond_reason, api_get_str(c, "reason"));
		set_str(&e->cond_message, api_get_str(c, "message"));
		set_str(&e->cond_ltt, api_get_str(c, "lastTransitionTime"));
	}
}

static struct pod_entry *entry_parse(json_t *pod)
{
	struct pod_entry *e = sk_calloc(1, sizeof(*e));
	sk_err err = {0};

	if (sched_pod_parse(pod, &e->pod, &err) < 0) {
		sk_warn("scheduler: %s", err.msg);
		free(e);
		return NULL;
	}
	return e;
}

static bool is_terminal(json_t *pod)
{
	const char *phase = api_get_str(pod, "status.phase");

	return sk_streq(phase, "Succeeded") || sk_streq(phase, "Failed");
}

/* A bound pod only holds resources and ports: its selectors and
 * tolerations are not needed any more (for 10,000 pods, megabytes). */
static void drop_filters(sched_pod *p)
{
	json_decref(p->node_selector);
	json_decref(p->affinity);
	json_decref(p->tolerations);
	p->node_selector = p->affinity = p->tolerations = NULL;
}

/* A pod on a node: count what it holds there. Its node and phase come
 * from the cache's field set, so the many updates of running pods
 * (status) cost no parsing. */
static void pod_bound(sched_scheduler *s, ctl_event *ev, json_t *facts, const char *node)
{
	const char *uid = ev->uid;
	struct pod_entry *e = sk_map_get(s->pods, uid);
	bool terminal = is_terminal(facts);

	if (e && !e->pending && sk_streq(e->pod.node_name, node) && e->pod.terminal == terminal) {
		e->rev = ev->rev;
		e->assumed = false;
		return; /* nothing that matters here changed */
	}
	if (e && unaccount(s, e))
		s->kick = true;
	int64_t rev = ev->rev;
	struct pod_entry *n = entry_parse(ctl_event_obj(ev));
	if (!n) {
		sk_map_del(s->pods, uid);
		return;
	}
	n->rev = rev;
	drop_filters(&n->pod);
	sk_map_set(s->pods, uid, n);
	account(s, n);
}

/* Should this unbound pod wait for this scheduler? */
static bool wants_us(ctl_event *ev, json_t *facts)
{
	const char *name = api_get_str(facts, "spec.schedulerName");

	if ((name && *name && strcmp(name, SCHED_NAME) != 0) || ev->deleting || is_terminal(facts))
		return false;
	return !json_array_size(api_get(ctl_event_obj(ev), "spec.schedulingGates"));
}

static void pod_unbound(sched_scheduler *s, ctl_event *ev, json_t *facts)
{
	const char *uid = ev->uid;
	int64_t rev = ev->rev;
	struct pod_entry *e = sk_map_get(s->pods, uid);

	if (e && e->assumed)
		return; /* we bound it; this event predates the binding */
	if (!wants_us(ev, facts)) {
		if (e && unaccount(s, e))
			s->kick = true;
		sk_map_del(s->pods, uid);
		return;
	}
	json_t *pod = ctl_event_obj(ev);
	uint64_t fp = fingerprint(pod);
	if (e && e->pending && e->fingerprint == fp) {
		e->rev = rev;
		read_condition(e, pod);
		return; /* a status write (ours, maybe): no reason to try again */
	}
	if (e && unaccount(s, e))
		s->kick = true;
	struct pod_entry *n = entry_parse(pod);
	if (!n) {
		sk_map_del(s->pods, uid);
		return;
	}
	n->pending = true;
	n->fingerprint = fp;
	n->seq = e ? e->seq : ++s->seq;
	n->rev = rev;
	read_condition(n, pod);
	sk_map_set(s->pods, uid, n);
}

static void pod_event(sched_scheduler *s, ctl_event *ev)
{
	if (ev->type == CTL_DELETED) {
		struct pod_entry *e = sk_map_take(s->pods, ev->uid);
		if (e) {
			if (unaccount(s, e))
				s->kick = true;
			entry_free(e);
		}
		return;
	}
	/* spec.nodeName, spec.schedulerName, status.phase: from the cache's
	 * field set when there is one */
	json_t *facts = ev->fields ? ev->fields : ctl_event_obj(ev);
	const char *node = api_get_str(facts, "spec.nodeName");
	if (node && *node)
		pod_bound(s, ev, facts, node);
	else
		pod_unbound(s, ev, facts);
}

/* ---- nodes --------------------------------------------------------------------------- */

static bool res_equal(const sched_res *a, const sched_res *b)
{
	if (a->cpu != b->cpu || a->memory != b->memory || a->ephemeral != b->ephemeral ||
	    a->pods != b->pods || a->nscalars != b->nscalars)
		return false;
	for (size_t i = 0; i < a->nscalars; i++)
		if (strcmp(a->scalars[i].name, b->scalars[i].name) ||
		    a->scalars[i].value != b->scalars[i].value)
			return false;
	return true;
}

/* What a Node update changes for scheduling (kube-scheduler ignores
 * heartbeats the same way). */
static bool node_props_equal(const sched_node *a, const sched_node *b)
{
	if (a->unschedulable != b->unschedulable || a->ntaints != b->ntaints ||
	    !res_equal(&a->allocatable, &b->allocatable) || !json_equal(a->labels, b->labels))
		return false;
	for (size_t i = 0; i < a->ntaints; i++)
		if (strcmp(a->taints[i].key, b->taints[i].key) ||
		    strcmp(a->taints[i].value, b->taints[i].value) ||
		    strcmp(a->taints[i].effect, b->taints[i].effect))
			return false;
	return true;
}

/* Count every pod already known to be on this node. */
static void account_node_pods(sched_scheduler *s, const char *name)
{
	sk_map_iter it = {0};
	void *v;

	while (sk_map_next(s->pods, &it, NULL, &v)) {
		struct pod_entry *e = v;
		if (!e->accounted && sk_streq(e->pod.node_name, name))
			account(s, e);
	}
}

static void node_event(sched_scheduler *s, ctl_event *ev)
{
	sched_node *old = sk_map_get(s->nodes, ev->name);
	sk_err err = {0};

	if (ev->type == CTL_DELETED) {
		sk_map_iter it = {0};
		void *v;
		while (sk_map_next(s->pods, &it, NULL, &v)) {
			struct pod_entry *e = v;
			if (e->accounted && sk_streq(e->pod.node_name, ev->name))
				e->accounted = false;
		}
		sk_map_del(s->nodes, ev->name);
		return;
	}
	sched_node *n = sk_calloc(1, sizeof(*n));
	if (sched_node_parse(ctl_event_obj(ev), n, &err) < 0) {
		sk_warn("scheduler: %s", err.msg);
		free(n);
		return;
	}
	if (old) {
		if (!node_props_equal(old, n))
			s->kick = true;
		sched_node_take_pods(n, old);
		sk_map_set(s->nodes, ev->name, n); /* frees old */
		return;
	}
	sk_map_set(s->nodes, ev->name, n);
	account_node_pods(s, ev->name);
	s->kick = true;
}

static void handle(sched_scheduler *s, ctl_event *ev)
{
	if (ev->type == CTL_SYNCED) {
		s->synced = true;
		return;
	}
	if (is_core(ev->kind, "Pod"))
		pod_event(s, ev);
	else if (is_core(ev->kind, "Node"))
		node_event(s, ev);
}

/* ---- scheduling ---------------------------------------------------------------------- */

/* The involved object of the scheduler's Events. */
static json_t *pod_ref(struct pod_entry *e)
{
	char rv[32];

	snprintf(rv, sizeof(rv), "%lld", (long long)e->rev);
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:s}}", "apiVersion", "v1", "kind", "Pod",
			 "metadata", "name", e->pod.name, "namespace", e->pod.ns, "uid", e->pod.uid,
			 "resourceVersion", rv);
}

static void retry_later(struct pod_entry *e)
{
	e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (e->backoff_ms > BACKOFF_MAX_MS)
		e->backoff_ms = BACKOFF_MAX_MS;
	e->retry_at_ns = sk_monotonic_ns() + (int64_t)e->backoff_ms * 1000000;
}

static void bind_pod(sched_scheduler *s, struct pod_entry *e, sched_node *n)
{
	json_t *b = json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:{s:s,s:s,s:s}}", "apiVersion", "v1",
			      "kind", "Binding", "metadata", "name", e->pod.name, "namespace",
			      e->pod.ns, "uid", e->pod.uid, "target", "apiVersion", "v1", "kind",
			      "Node", "name", n->name);
	sk_err err = {0};
	int r = s->c->create_sub(s->c, pods_kind(), e->pod.ns, e->pod.name, "binding", b, NULL,
				 &err);

	json_decref(b);
	if (r < 0) {
		if (err.code == 404 || err.code == 409) {
			/* gone, being deleted, recreated, or bound by someone
			 * else: the watch will say which */
			sk_debug("scheduler: bind %s/%s: %s", e->pod.ns, e->pod.name, err.msg);
			e->pending = false;
			return;
		}
		sk_warn("scheduler: bind %s/%s to %s: %s", e->pod.ns, e->pod.name, n->name,
			err.msg);
		retry_later(e);
		return;
	}
	set_str(&e->pod.node_name, n->name);
	drop_filters(&e->pod);
	e->pending = false;
	e->assumed = true;
	e->backoff_ms = 0;
	account(s, e);
	atomic_fetch_add(&s->bound, 1);
	json_t *ref = pod_ref(e);
	ctl_eventf(s->rec, ref, "Normal", "Scheduled", "Successfully assigned %s/%s to %s",
		   e->pod.ns, e->pod.name, n->name);
	json_decref(ref);
}

/* PodScheduled=False, reason Unschedulable, with the message; written
 * only when it differs from what the pod has. */
static void mark_unschedulable(sched_scheduler *s, struct pod_entry *e, const char *msg)
{
	char now[32];
	sk_err err = {0};

	if (sk_streq(e->cond_status, "False") && sk_streq(e->cond_reason, "Unschedulable") &&
	    sk_streq(e->cond_message, msg))
		return;
	sk_rfc3339(sk_now_ns() / 1000000000LL, now, sizeof(now));
	const char *ltt = sk_streq(e->cond_status, "False") && e->cond_ltt ? e->cond_ltt : now;
	json_t *patch =
		json_pack("{s:{s:[{s:s,s:s,s:s,s:s,s:n,s:s}]}}", "status", "conditions", "type",
			  "PodScheduled", "status", "False", "reason", "Unschedulable", "message",
			  msg, "lastProbeTime", "lastTransitionTime", ltt);
	int r = s->c->patch(s->c, pods_kind(), e->pod.ns, e->pod.name, "status", "strategic", patch,
			    NULL, &err);
	json_decref(patch);
	if (r < 0) {
		if (err.code != 404)
			sk_warn("scheduler: status of %s/%s: %s", e->pod.ns, e->pod.name, err.msg);
		return;
	}
	set_str(&e->cond_ltt, ltt);
	set_str(&e->cond_status, "False");
	set_str(&e->cond_reason, "Unschedulable");
	set_str(&e->cond_message, msg);
}

static void schedule_one(sched_scheduler *s, struct pod_entry *e, sched_node **nodes, size_t n)
{
	_cleanup_free_ char *msg = NULL;
	ssize_t i = sched_pick(&e->pod, nodes, n, &msg);

	if (i >= 0) {
		bind_pod(s, e, nodes[i]);
		return;
	}
	e->unschedulable = true;
	sk_debug("scheduler: %s/%s: %s", e->pod.ns, e->pod.name, msg);
	mark_unschedulable(s, e, msg);
	json_t *ref = pod_ref(e);
	ctl_eventf(s->rec, ref, "Warning", "FailedScheduling", "%s", msg);
	json_decref(ref);
}

/* kube-scheduler's PrioritySort: higher priority first, then the order
 * pods arrived in. */
static int cmp_pending(const void *a, const void *b)
{
	const struct pod_entry *x = *(struct pod_entry *const *)a;
	const struct pod_entry *y = *(struct pod_entry *const *)b;

	if (x->pod.priority != y->pod.priority)
		return x->pod.priority > y->pod.priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void schedule_round(sched_scheduler *s)
{
	int64_t now = sk_monotonic_ns();
	struct pod_entry **todo = NULL;
	sched_node **nodes;
	size_t ntodo = 0, nnodes = 0;
	sk_map_iter it = {0};
	void *v;

	if (now - s->last_retry_ns >= (int64_t)SCHED_RETRY_S * 1000000000LL) {
		s->last_retry_ns = now;
		s->kick = true;
	}
	while (sk_map_next(s->pods, &it, NULL, &v)) {
		struct pod_entry *e = v;
		if (!e->pending || (e->unschedulable && !s->kick) || e->retry_at_ns > now)
			continue;
		todo = sk_realloc(todo, (ntodo + 1) * sizeof(*todo));
		todo[ntodo++] = e;
	}
	s->kick = false;
	if (!ntodo)
		return;
	qsort(todo, ntodo, sizeof(*todo), cmp_pending);
	nodes = sk_calloc(sk_map_len(s->nodes) + 1, sizeof(*nodes));
	memset(&it, 0, sizeof(it));
	while (sk_map_next(s->nodes, &it, NULL, &v))
		nodes[nnodes++] = v;
	for (size_t i = 0; i < ntodo && !atomic_load(&s->stop); i++) {
		todo[i]->unschedulable = false;
		schedule_one(s, todo[i], nodes, nnodes);
	}
	free(nodes);
	free(todo);
}

/* ---- the thread -------------------------------------------------------------------------- */

static void reset(sched_scheduler *s)
{
	sk_map_clear(s->pods);
	sk_map_clear(s->nodes);
	s->synced = false;
}

static void *sched_main(void *arg)
{
	sched_scheduler *s = arg;
	ctl_event ev;

	pthread_setname_np(pthread_self(), "scheduler");
	while (!atomic_load(&s->stop)) {
		int r = s->c->next(s->c, s->watch, &ev, 500);
		if (r < 0) {
			sk_err err = {0};
			if (atomic_load(&s->stop))
				break;
			/* the watch ended: start over from a fresh one */
			s->c->watch_close(s->c, s->watch);
			s->watch = NULL;
			reset(s);
			if (s->c->watch(s->c, NULL, &s->watch, &err) < 0) {
				sk_warn("scheduler: watch: %s", err.msg);
				break;
			}
			continue;
		}
		for (int n = 0; r > 0; n++) {
			handle(s, &ev);
			ctl_event_clear(&ev);
			if (n >= BATCH_MAX)
				break;
			r = s->c->next(s->c, s->watch, &ev, 0);
		}
		if (s->synced)
			schedule_round(s);
	}
	return NULL;
}

int sched_start(ctl_client *c, sched_scheduler **out, sk_err *err)
{
	sched_scheduler *s = sk_calloc(1, sizeof(*s));
	int r;

	s->c = c;
	s->pods = sk_map_new(entry_free);
	s->nodes = sk_map_new(node_free);
	s->rec = ctl_recorder_new(c, SCHED_NAME);
	s->last_retry_ns = sk_monotonic_ns();
	if (c->watch(c, NULL, &s->watch, err) < 0) {
		sched_stop(s);
		return sk_err_wrap(err, "scheduler: watch");
	}
	r = pthread_create(&s->thread, NULL, sched_main, s);
	if (r != 0) {
		sched_stop(s);
		return sk_err_sys(err, r, "scheduler: start its thread");
	}
	s->started = true;
	*out = s;
	return 0;
}

void sched_stop(sched_scheduler *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	if (s->watch)
		s->c->watch_stop(s->c, s->watch);
	if (s->started)
		pthread_join(s->thread, NULL);
	if (s->watch)
		s->c->watch_close(s->c, s->watch);
	sk_map_free(s->pods);
	sk_map_free(s->nodes);
	ctl_recorder_free(s->rec);
	free(s);
}

uint64_t sched_bound_count(sched_scheduler *s)
{
	return s ? atomic_load(&s->bound) : 0;
}
