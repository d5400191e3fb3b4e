/* Node lifecycle, as kube-controller-manager's node lifecycle controller
 * and its taint eviction manager do it:
 * - health: a heartbeat is a change of the node's Lease renewTime (in
 *   kube-node-lease) or of its Ready condition's lastHeartbeatTime; the
 *   time is taken from this machine's clock when the change is seen, so
 *   clocks of other machines do not matter. After the grace period
 *   without one, Ready and the pressure conditions become Unknown
 *   (NodeStatusUnknown) and the node's pods are marked not Ready;
 * - taints follow the conditions (TaintNodesByCondition and the
 *   NoExecute taints of taint-based eviction);
 * - pods on a node with a NoExecute taint they do not tolerate are
 *   deleted, at once or once their tolerationSeconds have passed since
 *   the controller first saw them there. */
#include "controllers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#define TICK_MS 1000
#define DEFAULT_GRACE_S 40

#define TAINT_NOT_READY "node.kubernetes.io/not-ready"
#define TAINT_UNREACHABLE "node.kubernetes.io/unreachable"

/* The taints this controller owns, with the condition that sets each
 * NoSchedule one (TaintNodesByCondition). */
static const struct {
	const char *key, *condition;
} CONDITION_TAINTS[] = {
	{"node.kubernetes.io/memory-pressure", "MemoryPressure"},
	{"node.kubernetes.io/disk-pressure", "DiskPressure"},
	{"node.kubernetes.io/pid-pressure", "PIDPressure"},
	{"node.kubernetes.io/network-unavailable", "NetworkUnavailable"},
};
#define TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"

static const char *const HEALTH_CONDITIONS[] = {"Ready", "MemoryPressure", "DiskPressure",
						"PIDPressure"};

struct node_state {
	json_t *node;	  /* the latest object */
	int64_t probe_ns; /* when the last heartbeat was seen (monotonic) */
	char *lease_renew;
	char *heartbeat;
	char *last_ready; /* Ready's status as last seen: a change from True marks pods */
};

/* A toleration that can tolerate a NoExecute taint (effect NoExecute or
 * empty), kept small: every pod has two (DefaultTolerationSeconds). */
struct toleration {
	char *key, *op, *value, *effect;
	bool has_seconds; /* tolerationSeconds is set */
	int64_t seconds;
};

struct pod_state {
	char *ns, *name, *uid, *node;
	bool deleting;
	struct toleration *tols;
	size_t ntols;
	int64_t seen_tainted_ns; /* first seen on a node with NoExecute taints; 0: not */
};

struct ctl_node_lifecycle {
	ctl_client *c;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	ctl_watch *watch;
	ctl_recorder *rec;
	int64_t grace_ns;
	sk_map *nodes; /* name -> node_state */
	sk_map *pods;  /* uid -> pod_state */
	bool synced;
};

static const api_kind *kind_of(const char *resource)
{
	return api_kind_by_resource("", resource);
}

static void node_state_free(void *p)
{
	struct node_state *n = p;

	json_decref(n->node);
	free(n->lease_renew);
	free(n->heartbeat);
	free(n->last_ready);
	free(n);
}

static void pod_state_free(void *p)
{
	struct pod_state *s = p;

	free(s->ns);
	free(s->name);
	free(s->uid);
	free(s->node);
	for (size_t i = 0; i < s->ntols; i++) {
		free(s->tols[i].key);
		free(s->tols[i].op);
		free(s->tols[i].value);
		free(s->tols[i].effect);
	}
	free(s->tols);
	free(s);
}

/* v may be *dst itself */
static void set_str(char **dst, const char *v)
{
	char *old = *dst;

	*dst = v ? sk_strdup(v) : NULL;
	free(old);
}

static json_t *condition(json_t *obj, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach (api_get(obj, "status.conditions"), i, c)
		if (sk_streq(api_get_str(c, "type"), type))
			return c;
	return NULL;
}

static void now_rfc3339(char buf[32])
{
	sk_rfc3339(sk_now_ns() / 1000000000LL, buf, 32);
}

/* ---- watch events ------------------------------------------------------------------ */

static void node_event(ctl_node_lifecycle *nl, ctl_event *ev)
{
	if (ev->type == CTL_DELETED) {
		sk_map_del(nl->nodes, ev->name);
		return;
	}
	json_t *node = ctl_event_obj(ev);
	struct node_state *n = sk_map_get(nl->nodes, ev->name);
	const char *hb = api_get_str(condition(node, "Ready"), "lastHeartbeatTime");
	if (!n) {
		n = sk_calloc(1, sizeof(*n));
		n->probe_ns = sk_monotonic_ns(); /* a new node gets the whole grace period */
		set_str(&n->last_ready, api_get_str(condition(node, "Ready"), "status"));
		sk_map_set(nl->nodes, ev->name, n);
	} else if (hb && !sk_streq(hb, n->heartbeat)) {
		n->probe_ns = sk_monotonic_ns();
	}
	set_str(&n->heartbeat, hb);
	json_decref(n->node);
	n->node = json_incref(node);
}

static void lease_event(ctl_node_lifecycle *nl, ctl_event *ev)
{
	struct node_state *n;

	if (ev->type == CTL_DELETED || strcmp(ev->ns, "kube-node-lease") != 0)
		return;
	n = sk_map_get(nl->nodes, ev->name);
	if (!n)
		return; /* the Node comes with its own grace period */
	const char *renew = api_get_str(ctl_event_obj(ev), "spec.renewTime");
	if (renew && !sk_streq(renew, n->lease_renew)) {
		n->probe_ns = sk_monotonic_ns();
		set_str(&n->lease_renew, renew);
	}
}

static char *dup_str(const char *s)
{
	return sk_strdup(s ? s : "");
}

static void read_tolerations(struct pod_state *p, json_t *tols)
{
	json_t *t;
	size_t i;

	json_array_foreach (tols, i, t) {
		const char *effect = api_get_str(t, "effect");
		json_t *secs = json_object_get(t, "tolerationSeconds");
		if (effect && *effect && strcmp(effect, "NoExecute") != 0)
			continue;
		p->tols = sk_realloc(p->tols, (p->ntols + 1) * sizeof(*p->tols));
		p->tols[p->ntols++] = (struct toleration){
			.key = dup_str(api_get_str(t, "key")),
			.op = dup_str(api_get_str(t, "operator")),
			.value = dup_str(api_get_str(t, "value")),
			.effect = dup_str(effect),
			.has_seconds = json_is_integer(secs),
			.seconds = json_is_integer(secs) ? json_integer_value(secs) : 0,
		};
	}
}

/* Pods are many and change often; only the bound ones matter, and of
 * those only their node, tolerations (set at creation) and deletion.
 * The cache's field set says where a pod is without parsing it, so a
 * pod is parsed once, when it is first seen on a node. */
static void pod_event(ctl_node_lifecycle *nl, ctl_event *ev)
{
	if (ev->type == CTL_DELETED) {
		sk_map_del(nl->pods, ev->uid);
		return;
	}
	struct pod_state *p = sk_map_get(nl->pods, ev->uid);
	if (p) {
		p->deleting = ev->deleting;
		return; /* spec.nodeName never changes once set */
	}
	json_t *pod = ev->fields ? NULL : ctl_event_obj(ev);
	const char *node = api_get_str(ev->fields ? ev->fields : pod, "spec.nodeName");
	if (!node || !*node)
		return;
	if (!pod)
		pod = ctl_event_obj(ev);
	p = sk_calloc(1, sizeof(*p));
	p->ns = sk_strdup(ev->ns);
	p->name = sk_strdup(ev->name);
	p->uid = sk_strdup(ev->uid);
	p->node = sk_strdup(node);
	p->deleting = ev->deleting;
	read_tolerations(p, api_get(pod, "spec.tolerations"));
	sk_map_set(nl->pods, ev->uid, p);
}

static bool is_kind(const api_kind *k, const char *group, const char *kind)
{
	return k && !strcmp(k->group, group) && !strcmp(k->kind, kind);
}

static void handle(ctl_node_lifecycle *nl, ctl_event *ev)
{
	if (ev->type == CTL_SYNCED)
		nl->synced = true;
	else if (is_kind(ev->kind, "", "Node"))
		node_event(nl, ev);
	else if (is_kind(ev->kind, "coordination.k8s.io", "Lease"))
		lease_event(nl, ev);
	else if (is_kind(ev->kind, "", "Pod"))
		pod_event(nl, ev);
}

/* ---- health ----------------------------------------------------------------------------- */

/* Ready and the pressure conditions to Unknown, as tryUpdateNodeHealth
 * does once the grace period has passed. true when node changed. */
static bool conditions_unknown(json_t *node, const char *now)
{
	json_t *conds = api_get(node, "status.conditions");
	bool changed = false;

	if (!json_is_array(conds)) {
		conds = json_array();
		api_set(node, "status.conditions", conds);
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(HEALTH_CONDITIONS); i++) {
		json_t *c = condition(node, HEALTH_CONDITIONS[i]);
		if (!c) {
			const char *created = api_meta_creation_timestamp(node);
			json_array_append_new(
				conds,
				json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", HEALTH_CONDITIONS[i],
					  "status", "Unknown", "lastHeartbeatTime",
					  created ? created : now, "lastTransitionTime", now,
					  "reason", "NodeStatusNeverUpdated", "message",
					  "Kubelet never posted node status."));
			changed = true;
		} else if (!sk_streq(api_get_str(c, "status"), "Unknown")) {
			json_object_set_new(c, "status", json_string("Unknown"));
			json_object_set_new(c, "reason", json_string("NodeStatusUnknown"));
			json_object_set_new(c, "message",
					    json_string("Kubelet stopped posting node status."));
			json_object_set_new(c, "lastTransitionTime", json_string(now));
			changed = true;
		}
	}
	return changed;
}

static void mark_unknown(ctl_node_lifecycle *nl, const char *name)
{
	json_t *node = NULL, *out = NULL;
	sk_err err = {0};
	char now[32];

	if (nl->c->get(nl->c, kind_of("nodes"), NULL, name, &node, &err) < 0)
		return;
	now_rfc3339(now);
	if (conditions_unknown(node, now) &&
	    nl->c->update(nl->c, kind_of("nodes"), node, "status", &out, &err) < 0) {
		if (err.code != 409 && err.code != 404)
			sk_warn("node lifecycle: node %s: %s", name, err.msg);
	} else if (out) {
		sk_info("node lifecycle: node %s stopped posting its status: Ready Unknown", name);
		struct node_state *n = sk_map_get(nl->nodes, name);
		if (n) { /* the watch brings the same; taints can follow now */
			json_decref(n->node);
			n->node = json_incref(out);
		}
	}
	json_decref(out);
	json_decref(node);
}

static bool pod_ready(json_t *pod)
{
	return sk_streq(api_get_str(condition(pod, "Ready"), "status"), "True");
}

/* MarkPodsNotReady: the pods of a node that went from Ready to not Ready
 * leave their Services. Rare (a node fails), so each pod is read here
 * rather than tracked. */
static void mark_pods_not_ready(ctl_node_lifecycle *nl, const char *node)
{
	sk_map_iter it = {0};
	void *v;
	char now[32];

	now_rfc3339(now);
	while (sk_map_next(nl->pods, &it, NULL, &v)) {
		struct pod_state *p = v;
		json_t *pod = NULL;
		sk_err err = {0};
		if (strcmp(p->node, node) != 0)
			continue;
		if (nl->c->get(nl->c, kind_of("pods"), p->ns, p->name, &pod, &err) < 0)
			continue;
		bool ready = pod_ready(pod);
		json_decref(pod);
		if (!ready)
			continue;
		json_t *patch = json_pack("{s:{s:[{s:s,s:s,s:s}]}}", "status", "conditions", "type",
					  "Ready", "status", "False", "lastTransitionTime", now);
		if (nl->c->patch(nl->c, kind_of("pods"), p->ns, p->name, "status", "strategic",
				 patch, NULL, &err) < 0 &&
		    err.code != 404)
			sk_warn("node lifecycle: mark pod %s/%s not ready: %s", p->ns, p->name,
				err.msg);
		json_decref(patch);
	}
}

static void node_status_event(ctl_node_lifecycle *nl, json_t *node, const char *what)
{
	ctl_eventf(nl->rec, node, "Normal", what, "Node %s status is now: %s", api_meta_name(node),
		   what);
}

/* ---- taints --------------------------------------------------------------------------- */

static bool managed(const char *key)
{
	if (sk_streq(key, TAINT_NOT_READY) || sk_streq(key, TAINT_UNREACHABLE) ||
	    sk_streq(key, TAINT_UNSCHEDULABLE))
		return true;
	for (size_t i = 0; i < SK_ARRAY_SIZE(CONDITION_TAINTS); i++)
		if (sk_streq(key, CONDITION_TAINTS[i].key))
			return true;
	return false;
}

static void want(json_t *taints, const char *key, const char *effect)
{
	json_array_append_new(taints, json_pack("{s:s,s:s}", "key", key, "effect", effect));
}

/* The taints the node's conditions call for. */
static json_t *desired_taints(json_t *node)
{
	json_t *t = json_array();
	const char *ready = api_get_str(condition(node, "Ready"), "status");

	if (sk_streq(ready, "False")) {
		want(t, TAINT_NOT_READY, "NoSchedule");
		want(t, TAINT_NOT_READY, "NoExecute");
	} else if (sk_streq(ready, "Unknown")) {
		want(t, TAINT_UNREACHABLE, "NoSchedule");
		want(t, TAINT_UNREACHABLE, "NoExecute");
	}
	for (size_t i = 0; i < SK_ARRAY_SIZE(CONDITION_TAINTS); i++)
		if (sk_streq(api_get_str(condition(node, CONDITION_TAINTS[i].condition), "status"),
			     "True"))
			want(t, CONDITION_TAINTS[i].key, "NoSchedule");
	if (api_get_bool(node, "spec.unschedulable", false))
		want(t, TAINT_UNSCHEDULABLE, "NoSchedule");
	return t;
}

static json_t *find_taint(json_t *taints, const char *key, const char *effect)
{
	json_t *t;
	size_t i;

	json_array_foreach (taints, i, t)
		if (sk_streq(api_get_str(t, "key"), key) &&
		    sk_streq(api_get_str(t, "effect"), effect))
			return t;
	return NULL;
}

/* The node's taints with the managed ones replaced by the desired ones
 * (kept as they are when already there, so timeAdded stays); NULL when
 * nothing changes. */
static json_t *reconcile_taints(json_t *node)
{
	json_t *cur = api_get(node, "spec.taints"), *desired = desired_taints(node), *out, *t;
	bool changed = false;
	char now[32];
	size_t i;

	out = json_array();
	json_array_foreach (cur, i, t) {
		const char *key = api_get_str(t, "key"), *effect = api_get_str(t, "effect");
		if (!managed(key) || find_taint(desired, key, effect))
			json_array_append(out, t);
		else
			changed = true;
	}
	now_rfc3339(now);
	json_array_foreach (desired, i, t) {
		const char *key = api_get_str(t, "key"), *effect = api_get_str(t, "effect");
		if (find_taint(cur, key, effect))
			continue;
		if (!strcmp(effect, "NoExecute"))
			json_object_set_new(t, "timeAdded", json_string(now));
		json_array_append(out, t);
		changed = true;
	}
	json_decref(desired);
	if (!changed) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static void update_taints(ctl_node_lifecycle *nl, struct node_state *n)
{
	json_t *taints = reconcile_taints(n->node), *node = NULL, *out = NULL;
	const char *name = api_meta_name(n->node);
	sk_err err = {0};

	if (!taints)
		return;
	node = json_deep_copy(n->node);
	if (json_array_size(taints))
		api_set(node, "spec.taints", taints);
	else {
		json_decref(taints);
		api_del(node, "spec.taints");
	}
	if (nl->c->update(nl->c, kind_of("nodes"), node, NULL, &out, &err) < 0) {
		/* 409: the watch brings the newer node; again at the next tick */
		if (err.code != 409 && err.code != 404)
			sk_warn("node lifecycle: taints of node %s: %s", name, err.msg);
	} else {
		json_decref(n->node);
		n->node = json_incref(out);
	}
	json_decref(out);
	json_decref(node);
}

/* ---- taint-based eviction --------------------------------------------------------------- */

static bool tolerates(const struct toleration *tol, json_t *taint)
{
	const char *tvalue = api_get_str(taint, "value");

	if (*tol->effect && !sk_streq(tol->effect, api_get_str(taint, "effect")))
		return false;
	if (*tol->key && !sk_streq(tol->key, api_get_str(taint, "key")))
		return false;
	if (!*tol->op || !strcmp(tol->op, "Equal"))
		return !strcmp(tol->value, tvalue ? tvalue : "");
	return !strcmp(tol->op, "Exists");
}

/* How long the pod may stay on a node with these NoExecute taints, in
 * seconds: -1 forever, 0 not at all (a taint is not tolerated). The
 * shortest tolerationSeconds of the tolerations used wins, as
 * getMinTolerationTime. */
static int64_t toleration_time(const struct pod_state *p, json_t *taints)
{
	int64_t min = -1;
	json_t *taint;
	size_t i;

	json_array_foreach (taints, i, taint) {
		bool tolerated = false;
		if (!sk_streq(api_get_str(taint, "effect"), "NoExecute"))
			continue;
		for (size_t j = 0; j < p->ntols; j++) {
			const struct toleration *tol = &p->tols[j];
			if (!tolerates(tol, taint))
				continue;
			tolerated = true;
			if (tol->has_seconds) {
				int64_t s = tol->seconds > 0 ? tol->seconds : 0;
				if (min < 0 || s < min)
					min = s;
			}
		}
		if (!tolerated)
			return 0;
	}
	return min;
}

static bool has_no_execute(json_t *taints)
{
	json_t *t;
	size_t i;

	json_array_foreach (taints, i, t)
		if (sk_streq(api_get_str(t, "effect"), "NoExecute"))
			return true;
	return false;
}

static void evict(ctl_node_lifecycle *nl, struct pod_state *p)
{
	json_t *ref = json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "apiVersion", "v1", "kind", "Pod",
				"metadata", "name", p->name, "namespace", p->ns, "uid", p->uid);
	json_t *patch =
		json_pack("{s:{s:[{s:s,s:s,s:s,s:s}]}}", "status", "conditions", "type",
			  "DisruptionTarget", "status", "True", "reason", "DeletionByTaintManager",
			  "message", "Taint manager: deleting due to NoExecute taint");
	ctl_delete_opts o = {.grace = -1, .uid = p->uid};
	sk_err err = {0};

	ctl_eventf(nl->rec, ref, "Normal", "TaintManagerEviction", "Marking for deletion Pod %s/%s",
		   p->ns, p->name);
	nl->c->patch(nl->c, kind_of("pods"), p->ns, p->name, "status", "strategic", patch, NULL,
		     &err);
	if (nl->c->delete (nl->c, kind_of("pods"), p->ns, p->name, &o, &err) < 0 &&
	    err.code != 404 && err.code != 409)
		sk_warn("node lifecycle: evict pod %s/%s: %s", p->ns, p->name, err.msg);
	else
		p->deleting = true;
	json_decref(patch);
	json_decref(ref);
}

static void evictions(ctl_node_lifecycle *nl, int64_t now)
{
	sk_map_iter it = {0};
	void *v;

	while (sk_map_next(nl->pods, &it, NULL, &v)) {
		struct pod_state *p = v;
		struct node_state *n = sk_map_get(nl->nodes, p->node);
		json_t *taints = n ? api_get(n->node, "spec.taints") : NULL;
		if (p->deleting || !has_no_execute(taints)) {
			p->seen_tainted_ns = 0;
			continue;
		}
		if (!p->seen_tainted_ns)
			p->seen_tainted_ns = now;
		int64_t secs = toleration_time(p, taints);
		if (secs >= 0 && now - p->seen_tainted_ns >= secs * 1000000000LL)
			evict(nl, p);
	}
}

/* ---- the loop ------------------------------------------------------------------------------ */

static void tick(ctl_node_lifecycle *nl)
{
	int64_t now = sk_monotonic_ns();
	char **names = NULL;
	sk_map_iter it = {0};
	const char *k;

	while (sk_map_next(nl->nodes, &it, &k, NULL))
		names = sk_strv_push(names, k);
	for (char **name = names; name && *name && !atomic_load(&nl->stop); name++) {
		struct node_state *n = sk_map_get(nl->nodes, *name);
		if (!n)
			continue;
		const char *ready = api_get_str(condition(n->node, "Ready"), "status");
		if (now - n->probe_ns > nl->grace_ns && !sk_streq(ready, "Unknown")) {
			mark_unknown(nl, *name);
			ready = api_get_str(condition(n->node, "Ready"), "status");
		}
		if (sk_streq(n->last_ready, "True") && !sk_streq(ready, "True")) {
			node_status_event(nl, n->node, "NodeNotReady");
			mark_pods_not_ready(nl, *name);
		} else if (!sk_streq(n->last_ready, "True") && sk_streq(ready, "True")) {
			node_status_event(nl, n->node, "NodeReady");
		}
		set_str(&n->last_ready, ready);
		update_taints(nl, n);
	}
	sk_strv_free(names);
	evictions(nl, now);
}

static void *lifecycle_main(void *arg)
{
	ctl_node_lifecycle *nl = arg;
	int64_t last_tick = 0;
	ctl_event ev;

	pthread_setname_np(pthread_self(), "ctl-nodelife");
	while (!atomic_load(&nl->stop)) {
		int r = nl->c->next(nl->c, nl->watch, &ev, TICK_MS);
		if (r < 0) {
			sk_err err = {0};
			if (atomic_load(&nl->stop))
				break;
			nl->c->watch_close(nl->c, nl->watch);
			nl->watch = NULL;
			sk_map_clear(nl->nodes);
			sk_map_clear(nl->pods);
			nl->synced = false;
			if (nl->c->watch(nl->c, NULL, &nl->watch, &err) < 0) {
				sk_warn("node lifecycle: watch: %s", err.msg);
				break;
			}
			continue;
		}
		while (r > 0) {
			handle(nl, &ev);
			ctl_event_clear(&ev);
			r = nl->c->next(nl->c, nl->watch, &ev, 0);
		}
		int64_t now = sk_monotonic_ns();
		if (nl->synced && now - last_tick >= (int64_t)TICK_MS * 1000000 / 2) {
			last_tick = now;
			tick(nl);
		}
	}
	return NULL;
}

int ctl_node_lifecycle_start(ctl_client *c, const ctl_node_lifecycle_config *cfg,
			     ctl_node_lifecycle **out, sk_err *err)
{
	ctl_node_lifecycle *nl = sk_calloc(1, sizeof(*nl));
	int grace = cfg && cfg->grace_s > 0 ? cfg->grace_s : DEFAULT_GRACE_S;
	int r;

	nl->c = c;
	nl->grace_ns = (int64_t)grace * 1000000000LL;
	nl->nodes = sk_map_new(node_state_free);
	nl->pods = sk_map_new(pod_state_free);
	nl->rec = ctl_recorder_new(c, "node-controller");
	if (c->watch(c, NULL, &nl->watch, err) < 0) {
		ctl_node_lifecycle_stop(nl);
		return sk_err_wrap(err, "node lifecycle: watch");
	}
	r = pthread_create(&nl->thread, NULL, lifecycle_main, nl);
	if (r != 0) {
		ctl_node_lifecycle_stop(nl);
		return sk_err_sys(err, r, "node lifecycle: start its thread");
	}
	nl->started = true;
	*out = nl;
	return 0;
}

void ctl_node_lifecycle_stop(ctl_node_lifecycle *nl)
{
	if (!nl)
		return;
	atomic_store(&nl->stop, true);
	if (nl->watch)
		nl->c->watch_stop(nl->c, nl->watch);
	if (nl->started)
		pthread_join(nl->thread, NULL);
	if (nl->watch)
		nl->c->watch_close(nl->c, nl->watch);
	sk_map_free(nl->nodes);
	sk_map_free(nl->pods);
	ctl_recorder_free(nl->rec);
	free(nl);
}
