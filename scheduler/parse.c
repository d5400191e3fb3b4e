/* Pods and nodes as the scheduler sees them: requests summed as
 * Kubernetes' resource helpers do (PodRequests, GetNonzeroRequests),
 * host ports, allocatable, taints (with the not-ready one a node must
 * carry before the lifecycle controller gets to it), and the bookkeeping
 * of what the pods on a node hold. */
#include "scheduler.h"

#include "../api/api.h"

#include <errno.h>

/* ---- resource lists ------------------------------------------------------------- */

static void res_clear(sched_res *r)
{
	for (size_t i = 0; i < r->nscalars; i++)
		free(r->scalars[i].name);
	free(r->scalars);
	memset(r, 0, sizeof(*r));
}

static sched_scalar *scalar_get(sched_res *r, const char *name, bool create)
{
	for (size_t i = 0; i < r->nscalars; i++)
		if (!strcmp(r->scalars[i].name, name))
			return &r->scalars[i];
	if (!create)
		return NULL;
	r->scalars = sk_realloc(r->scalars, (r->nscalars + 1) * sizeof(*r->scalars));
	r->scalars[r->nscalars] = (sched_scalar){.name = sk_strdup(name)};
	return &r->scalars[r->nscalars++];
}

static void res_add(sched_res *to, const sched_res *r, int sign)
{
	to->cpu += sign * r->cpu;
	to->memory += sign * r->memory;
	to->ephemeral += sign * r->ephemeral;
	to->pods += sign * r->pods;
	for (size_t i = 0; i < r->nscalars; i++)
		scalar_get(to, r->scalars[i].name, true)->value += sign * r->scalars[i].value;
}

/* to = max(to, r), resource by resource */
static void res_max(sched_res *to, const sched_res *r)
{
	if (r->cpu > to->cpu)
		to->cpu = r->cpu;
	if (r->memory > to->memory)
		to->memory = r->memory;
	if (r->ephemeral > to->ephemeral)
		to->ephemeral = r->ephemeral;
	for (size_t i = 0; i < r->nscalars; i++) {
		sched_scalar *s = scalar_get(to, r->scalars[i].name, true);
		if (r->scalars[i].value > s->value)
			s->value = r->scalars[i].value;
	}
}

static void res_copy(sched_res *to, const sched_res *r)
{
	res_clear(to);
	res_add(to, r, 1);
}

/* A quantity in whole units, rounded up as Quantity.Value(). */
static int64_t milli_to_units(int64_t milli)
{
	return milli / 1000 + (milli % 1000 != 0);
}

/* Read a ResourceList ({cpu: "500m", memory: "1Gi", ...}) into r (added
 * to what it holds). `path` names it in errors. *has_cpu and *has_memory
 * tell whether those keys were there (the non-zero defaults apply only
 * to absent ones). */
static int res_parse(json_t *list, const char *path, sched_res *r, bool *has_cpu, bool *has_memory,
		     sk_err *err)
{
	const char *key;
	json_t *q;

	if (has_cpu)
		*has_cpu = false;
	if (has_memory)
		*has_memory = false;
	if (!json_is_object(list))
		return 0;
	json_object_foreach (list, key, q) {
		int64_t milli;
		if (api_quantity_json_milli(q, &milli, err) < 0)
			return sk_err_wrap(err, "%s.%s", path, key);
		if (!strcmp(key, "cpu")) {
			r->cpu += milli;
			if (has_cpu)
				*has_cpu = true;
		} else if (!strcmp(key, "memory")) {
			r->memory += milli_to_units(milli);
			if (has_memory)
				*has_memory = true;
		} else if (!strcmp(key, "ephemeral-storage")) {
			r->ephemeral += milli_to_units(milli);
		} else if (!strcmp(key, "pods")) {
			r->pods += milli_to_units(milli);
		} else {
			scalar_get(r, key, true)->value += milli_to_units(milli);
		}
	}
	return 0;
}

/* One container's requests; limits stand in for absent requests, as the
 * apiserver's defaulting makes them. */
static int container_requests(json_t *c, const char *path, sched_res *req, sched_res *nonzero,
			      sk_err *err)
{
	json_t *requests = api_get(c, "resources.requests");
	json_t *limits = api_get(c, "resources.limits");
	_cleanup_free_ char *rpath = sk_asprintf("%s.resources.requests", path);
	bool has_cpu, has_memory;
	const char *key;
	json_t *q;

	if (res_parse(requests, rpath, req, &has_cpu, &has_memory, err) < 0)
		return -1;
	if (json_is_object(limits)) {
		json_t *missing = json_object();
		json_object_foreach (limits, key, q)
			if (!json_object_get(requests, key))
				json_object_set(missing, key, q);
		_cleanup_free_ char *lpath = sk_asprintf("%s.resources.limits", path);
		bool lcpu, lmem;
		int r = res_parse(missing, lpath, req, &lcpu, &lmem, err);
		json_decref(missing);
		if (r < 0)
			return -1;
		has_cpu |= lcpu;
		has_memory |= lmem;
	}
	nonzero->cpu = has_cpu ? req->cpu : SCHED_DEFAULT_CPU_MILLI;
	nonzero->memory = has_memory ? req->memory : SCHED_DEFAULT_MEMORY;
	return 0;
}

static bool is_sidecar(json_t *c)
{
	return sk_streq(api_get_str(c, "restartPolicy"), "Always");
}

/* Kubernetes' PodRequests: regular containers add up; an init container
 * runs alone (plus the sidecars started before it), so the pod needs the
 * larger of the two; sidecars keep running, so they add to the total;
 * spec.overhead comes on top. The non-zero variant does the same with
 * defaults for containers that request no cpu or memory. */
static int pod_requests(json_t *spec, sched_res *req, sched_res *nonzero, sk_err *err)
{
	sched_res init_max = {0}, init_max_nz = {0}, sidecars = {0}, sidecars_nz = {0};
	json_t *c;
	size_t i;
	int ret = -1;

	json_array_foreach (api_get(spec, "containers"), i, c) {
		sched_res r = {0}, nz = {0};
		_cleanup_free_ char *path = sk_asprintf("spec.containers[%zu]", i);
		int rr = container_requests(c, path, &r, &nz, err);
		res_add(req, &r, 1);
		res_add(nonzero, &nz, 1);
		res_clear(&r);
		if (rr < 0)
			goto out;
	}
	json_array_foreach (api_get(spec, "initContainers"), i, c) {
		sched_res r = {0}, nz = {0};
		_cleanup_free_ char *path = sk_asprintf("spec.initContainers[%zu]", i);
		if (container_requests(c, path, &r, &nz, err) < 0) {
			res_clear(&r);
			goto out;
		}
		if (is_sidecar(c)) {
			res_add(req, &r, 1);
			res_add(nonzero, &nz, 1);
			res_add(&sidecars, &r, 1);
			res_add(&sidecars_nz, &nz, 1);
			res_max(&init_max, &sidecars);
			res_max(&init_max_nz, &sidecars_nz);
		} else {
			res_add(&r, &sidecars, 1);
			res_add(&nz, &sidecars_nz, 1);
			res_max(&init_max, &r);
			res_max(&init_max_nz, &nz);
		}
		res_clear(&r);
	}
	res_max(req, &init_max);
	res_max(nonzero, &init_max_nz);
	if (res_parse(api_get(spec, "overhead"), "spec.overhead", req, NULL, NULL, err) < 0 ||
	    res_parse(api_get(spec, "overhead"), "spec.overhead", nonzero, NULL, NULL, err) < 0)
		goto out;
	req->pods = nonzero->pods = 1;
	ret = 0;
out:
	res_clear(&init_max);
	res_clear(&init_max_nz);
	res_clear(&sidecars);
	res_clear(&sidecars_nz);
	return ret;
}

static void ports_push(sched_port **v, size_t *n, const sched_port *p)
{
	*v = sk_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = *p;
}

static bool port_equal(const sched_port *a, const sched_port *b)
{
	return a->port == b->port && !strcmp(a->protocol, b->protocol) && !strcmp(a->ip, b->ip);
}

static void container_host_ports(json_t *c, sched_pod *p)
{
	json_t *port;
	size_t i;

	json_array_foreach (json_object_get(c, "ports"), i, port) {
		sched_port hp = {.port = (int)api_get_int(port, "hostPort", 0)};
		const char *proto = api_get_str(port, "protocol");
		const char *ip = api_get_str(port, "hostIP");
		if (hp.port <= 0)
			continue;
		snprintf(hp.protocol, sizeof(hp.protocol), "%s", proto && *proto ? proto : "TCP");
		snprintf(hp.ip, sizeof(hp.ip), "%s", ip && *ip ? ip : "0.0.0.0");
		ports_push(&p->ports, &p->nports, &hp);
	}
}

static json_t *ref(json_t *v)
{
	return json_incref(v);
}

int sched_pod_parse(json_t *pod, sched_pod *p, sk_err *err)
{
	json_t *spec = api_get(pod, "spec"), *c;
	const char *phase = api_get_str(pod, "status.phase");
	const char *node = api_get_str(spec, "nodeName");
	size_t i;

	memset(p, 0, sizeof(*p));
	p->ns = sk_strdup(api_meta_namespace(pod) ? api_meta_namespace(pod) : "default");
	p->name = sk_strdup(api_meta_name(pod) ? api_meta_name(pod) : "");
	p->uid = sk_strdup(api_meta_uid(pod) ? api_meta_uid(pod) : "");
	p->node_name = node && *node ? sk_strdup(node) : NULL;
	p->priority = api_get_int(spec, "priority", 0);
	p->terminal = sk_streq(phase, "Succeeded") || sk_streq(phase, "Failed");
	json_array_foreach (api_get(spec, "containers"), i, c)
		container_host_ports(c, p);
	json_array_foreach (api_get(spec, "initContainers"), i, c)
		if (is_sidecar(c))
			container_host_ports(c, p);
	p->node_selector = ref(json_object_get(spec, "nodeSelector"));
	p->affinity = ref(api_get(spec, "affinity.nodeAffinity"));
	p->tolerations = ref(json_object_get(spec, "tolerations"));
	if (pod_requests(spec, &p->req, &p->nonzero, err) < 0) {
		sched_pod_clear(p);
		return sk_err_wrap(err, "pod %s/%s", api_meta_namespace(pod) ?: "",
				   api_meta_name(pod) ?: "");
	}
	return 0;
}

void sched_pod_clear(sched_pod *p)
{
	free(p->ns);
	free(p->name);
	free(p->uid);
	free(p->node_name);
	free(p->ports);
	res_clear(&p->req);
	res_clear(&p->nonzero);
	json_decref(p->node_selector);
	json_decref(p->affinity);
	json_decref(p->tolerations);
	memset(p, 0, sizeof(*p));
}

/* ---- nodes ---------------------------------------------------------------------- */

static void taint_push(sched_node *n, const char *key, const char *value, const char *effect)
{
	n->taints = sk_realloc(n->taints, (n->ntaints + 1) * sizeof(*n->taints));
	n->taints[n->ntaints++] = (sched_taint){
		.key = sk_strdup(key ? key : ""),
		.value = sk_strdup(value ? value : ""),
		.effect = sk_strdup(effect ? effect : ""),
	};
}

static bool has_taint(const sched_node *n, const char *key, const char *effect)
{
	for (size_t i = 0; i < n->ntaints; i++)
		if (!strcmp(n->taints[i].key, key) && !strcmp(n->taints[i].effect, effect))
			return true;
	return false;
}

/* The Ready condition's status: "True", "False", "Unknown", or NULL when
 * the node has not reported one. */
static const char *ready_status(json_t *node)
{
	json_t *cond;
	size_t i;

	json_array_foreach (api_get(node, "status.conditions"), i, cond)
		if (sk_streq(api_get_str(cond, "type"), "Ready"))
			return api_get_str(cond, "status");
	return NULL;
}

int sched_node_parse(json_t *node, sched_node *n, sk_err *err)
{
	json_t *t, *labels = api_meta_labels(node);
	const char *ready = ready_status(node);
	size_t i;

	memset(n, 0, sizeof(*n));
	n->name = sk_strdup(api_meta_name(node) ? api_meta_name(node) : "");
	n->labels = json_is_object(labels) ? json_incref(labels) : json_object();
	n->unschedulable = api_get_bool(node, "spec.unschedulable", false);
	json_array_foreach (api_get(node, "spec.taints"), i, t)
		taint_push(n, api_get_str(t, "key"), api_get_str(t, "value"),
			   api_get_str(t, "effect"));
	if (!sk_streq(ready, "True") &&
	    !has_taint(n, "node.kubernetes.io/not-ready", "NoSchedule") &&
	    !has_taint(n, "node.kubernetes.io/unreachable", "NoSchedule"))
		taint_push(n,
			   sk_streq(ready, "Unknown") ? "node.kubernetes.io/unreachable"
						      : "node.kubernetes.io/not-ready",
			   NULL, "NoSchedule");
	if (res_parse(api_get(node, "status.allocatable"), "status.allocatable", &n->allocatable,
		      NULL, NULL, err) < 0) {
		sk_err_wrap(err, "node %s", n->name);
		sched_node_clear(n);
		return -1;
	}
	return 0;
}

void sched_node_clear(sched_node *n)
{
	free(n->name);
	json_decref(n->labels);
	for (size_t i = 0; i < n->ntaints; i++) {
		free(n->taints[i].key);
		free(n->taints[i].value);
		free(n->taints[i].effect);
	}
	free(n->taints);
	free(n->ports);
	res_clear(&n->allocatable);
	res_clear(&n->requested);
	res_clear(&n->nonzero_requested);
	memset(n, 0, sizeof(*n));
}

void sched_node_add_pod(sched_node *n, const sched_pod *p)
{
	res_add(&n->requested, &p->req, 1);
	res_add(&n->nonzero_requested, &p->nonzero, 1);
	n->npods++;
	for (size_t i = 0; i < p->nports; i++)
		ports_push(&n->ports, &n->nports, &p->ports[i]);
}

void sched_node_remove_pod(sched_node *n, const sched_pod *p)
{
	res_add(&n->requested, &p->req, -1);
	res_add(&n->nonzero_requested, &p->nonzero, -1);
	if (n->npods)
		n->npods--;
	/* one entry per port of the pod: the same port may be held twice
	 * (two pods on different host IPs) */
	for (size_t i = 0; i < p->nports; i++) {
		for (size_t j = 0; j < n->nports; j++) {
			if (port_equal(&n->ports[j], &p->ports[i])) {
				n->ports[j] = n->ports[--n->nports];
				break;
			}
		}
	}
}

void sched_node_take_pods(sched_node *n, sched_node *old)
{
	res_copy(&n->requested, &old->requested);
	res_copy(&n->nonzero_requested, &old->nonzero_requested);
	n->npods = old->npods;
	free(n->ports);
	n->ports = old->ports;
	n->nports = old->nports;
	old->ports = NULL;
	old->nports = 0;
}
