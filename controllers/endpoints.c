/* The Endpoints controller, as Kubernetes' (pkg/controller/endpoint):
 * for each Service with a selector, one Endpoints object of the same
 * name listing the pods it selects.
 *
 * It keeps, per namespace, the Services (with parsed selectors) and a
 * compact record of each pod (what an endpoint needs: IP, node,
 * readiness, labels, named container ports). A pod change marks the
 * Services whose selector matches its old or new labels; a Service or
 * Endpoints change marks that Service. Marked Services are synced between
 * batches of events: the subsets are computed, repacked as
 * endpoints.RepackSubsets does (one subset per distinct set of
 * addresses, with the ports they share), sorted, and written only when
 * they (or the labels) differ from the stored Endpoints. */
#include "controllers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#define RETRY_MS 1000
#define HEADLESS_LABEL "service.kubernetes.io/headless"
#define TRIGGER_ANNOTATION "endpoints.kubernetes.io/last-change-trigger-time"

/* A named container port (FindPort looks named targetPorts up). */
struct named_port {
	char *name;
	char protocol[8];
	int port;
};

struct pod_info {
	char *name, *uid, *ip, *node, *hostname, *subdomain;
	json_t *labels; /* referenced */
	struct named_port *ports;
	size_t nports;
	bool ready, deleting, terminal;
	/* false: only the labels (and uid) are known; the pod was not parsed
	 * because no Service selected it */
	bool full;
};

struct svc_info {
	json_t *svc;	   /* the Service */
	api_selector *sel; /* NULL: no selector, the Endpoints are someone else's */
};

struct ns_index {
	sk_map *pods;	   /* name -> pod_info */
	sk_map *services;  /* name -> svc_info */
	sk_map *endpoints; /* name -> json_t (the stored Endpoints) */
};

struct ctl_endpoints {
	ctl_client *c;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	ctl_watch *watch;
	sk_map *ns;    /* namespace -> ns_index */
	sk_map *dirty; /* "ns/name" of Services to sync -> non-NULL */
	sk_map *retry; /* the same, after a failed write */
	int64_t retry_at;
	bool synced;
};

static const api_kind *endpoints_kind(void)
{
	return api_kind_by_resource("", "endpoints");
}

static void pod_info_free(void *p)
{
	struct pod_info *i = p;

	free(i->name);
	free(i->uid);
	free(i->ip);
	free(i->node);
	free(i->hostname);
	free(i->subdomain);
	json_decref(i->labels);
	for (size_t k = 0; k < i->nports; k++)
		free(i->ports[k].name);
	free(i->ports);
	free(i);
}

static void svc_info_free(void *p)
{
	struct svc_info *s = p;

	json_decref(s->svc);
	api_selector_free(s->sel);
	free(s);
}

static void ns_index_free(void *p)
{
	struct ns_index *x = p;

	sk_map_free(x->pods);
	sk_map_free(x->services);
	sk_map_free(x->endpoints);
	free(x);
}

static void json_free(void *p)
{
	json_decref(p);
}

static struct ns_index *ns_get(ctl_endpoints *ec, const char *ns)
{
	struct ns_index *x = sk_map_get(ec->ns, ns);

	if (!x) {
		x = sk_calloc(1, sizeof(*x));
		x->pods = sk_map_new(pod_info_free);
		x->services = sk_map_new(svc_info_free);
		x->endpoints = sk_map_new(json_free);
		sk_map_set(ec->ns, ns, x);
	}
	return x;
}

static void mark(ctl_endpoints *ec, const char *ns, const char *name)
{
	_cleanup_free_ char *key = sk_asprintf("%s/%s", ns, name);

	sk_map_set(ec->dirty, key, (void *)1);
}

/* ---- pods ----------------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s && *s ? sk_strdup(s) : NULL;
}

static bool pod_ready(json_t *pod)
{
	json_t *c;
	size_t i;

	json_array_foreach (api_get(pod, "status.conditions"), i, c)
		if (sk_streq(api_get_str(c, "type"), "Ready"))
			return sk_streq(api_get_str(c, "status"), "True");
	return false;
}

static void add_named_ports(struct pod_info *p, json_t *container)
{
	json_t *port;
	size_t i;

	json_array_foreach (json_object_get(container, "ports"), i, port) {
		const char *name = api_get_str(port, "name");
		const char *proto = api_get_str(port, "protocol");
		if (!name || !*name)
			continue;
		p->ports = sk_realloc(p->ports, (p->nports + 1) * sizeof(*p->ports));
		struct named_port *np = &p->ports[p->nports++];
		np->name = sk_strdup(name);
		snprintf(np->protocol, sizeof(np->protocol), "%s", proto && *proto ? proto : "TCP");
		np->port = (int)api_get_int(port, "containerPort", 0);
	}
}

/* The named ports FindPort looks at: those of the regular containers and
 * of the sidecars (init containers that keep running). */
static void read_named_ports(struct pod_info *p, json_t *pod)
{
	json_t *c;
	size_t i;

	json_array_foreach (api_get(pod, "spec.containers"), i, c)
		add_named_ports(p, c);
	json_array_foreach (api_get(pod, "spec.initContainers"), i, c)
		if (sk_streq(api_get_str(c, "restartPolicy"), "Always"))
			add_named_ports(p, c);
}

static bool ports_equal(const struct pod_info *a, const struct pod_info *b)
{
	if (a->nports != b->nports)
		return false;
	for (size_t i = 0; i < a->nports; i++)
		if (strcmp(a->ports[i].name, b->ports[i].name) ||
		    strcmp(a->ports[i].protocol, b->ports[i].protocol) ||
		    a->ports[i].port != b->ports[i].port)
			return false;
	return true;
}

static struct pod_info *pod_info_new(json_t *pod)
{
	struct pod_info *p = sk_calloc(1, sizeof(*p));
	const char *ip = api_get_str(pod, "status.podIP");
	const char *phase = api_get_str(pod, "status.phase");

	if (!ip || !*ip)
		ip = api_get_str(json_array_get(api_get(pod, "status.podIPs"), 0), "ip");
	p->name = sk_strdup(api_meta_name(pod));
	p->uid = sk_strdup(api_meta_uid(pod) ? api_meta_uid(pod) : "");
	p->ip = dup_or_null(ip);
	p->node = dup_or_null(api_get_str(pod, "spec.nodeName"));
	p->hostname = dup_or_null(api_get_str(pod, "spec.hostname"));
	p->subdomain = dup_or_null(api_get_str(pod, "spec.subdomain"));
	p->labels = api_meta_labels(pod) ? json_incref(api_meta_labels(pod)) : json_object();
	read_named_ports(p, pod);
	p->ready = pod_ready(pod);
	p->deleting = api_meta_deletion_timestamp(pod) != NULL;
	p->terminal = sk_streq(phase, "Succeeded") || sk_streq(phase, "Failed");
	p->full = true;
	return p;
}

/* What is kept of a pod no Service selects: its labels (a copy: the
 * cache's are shared). */
static struct pod_info *pod_info_light(const char *name, const char *uid, json_t *labels)
{
	struct pod_info *p = sk_calloc(1, sizeof(*p));

	p->name = sk_strdup(name);
	p->uid = sk_strdup(uid ? uid : "");
	p->labels = labels ? json_deep_copy(labels) : json_object();
	return p;
}

static bool pod_info_equal(const struct pod_info *a, const struct pod_info *b)
{
	return a->full == b->full && sk_streq(a->uid, b->uid) && sk_streq(a->ip, b->ip) &&
	       sk_streq(a->node, b->node) && sk_streq(a->hostname, b->hostname) &&
	       sk_streq(a->subdomain, b->subdomain) && a->ready == b->ready &&
	       a->deleting == b->deleting && a->terminal == b->terminal &&
	       json_equal(a->labels, b->labels) && ports_equal(a, b);
}

/* Mark the Services of ns whose selector matches any of the label sets
 * (mark false: only tell whether there is one). */
static bool mark_selecting(ctl_endpoints *ec, const char *ns, struct ns_index *x, json_t *a,
			   json_t *b, bool mark_them)
{
	sk_map_iter it = {0};
	const char *name;
	bool any = false;
	void *v;

	while (sk_map_next(x->services, &it, &name, &v)) {
		struct svc_info *s = v;
		if (s->sel && ((a && api_label_selector_matches(s->sel, a)) ||
			       (b && api_label_selector_matches(s->sel, b)))) {
			any = true;
			if (!mark_them)
				return true;
			mark(ec, ns, name);
		}
	}
	return any;
}

static void pod_event(ctl_endpoints *ec, ctl_event *ev)
{
	struct ns_index *x = ns_get(ec, ev->ns);
	struct pod_info *old = sk_map_get(x->pods, ev->name);

	if (ev->type == CTL_DELETED) {
		if (old) {
			mark_selecting(ec, ev->ns, x, old->labels, NULL, true);
			sk_map_del(x->pods, ev->name);
		}
		return;
	}
	/* most pods of a big cluster are selected by no Service: their
	 * labels (from the cache, without parsing) are enough */
	json_t *labels = ev->fields ? ev->labels : api_meta_labels(ctl_event_obj(ev));
	if (!mark_selecting(ec, ev->ns, x, labels, old ? old->labels : NULL, false)) {
		if (old && !old->full && sk_streq(old->uid, ev->uid) &&
		    (labels ? json_equal(old->labels, labels) : !json_object_size(old->labels)))
			return;
		sk_map_set(x->pods, ev->name, pod_info_light(ev->name, ev->uid, labels));
		return;
	}
	struct pod_info *p = pod_info_new(ctl_event_obj(ev));
	if (old && pod_info_equal(old, p)) {
		pod_info_free(p);
		return;
	}
	mark_selecting(ec, ev->ns, x, p->labels, old ? old->labels : NULL, true);
	sk_map_set(x->pods, ev->name, p); /* frees old */
}

/* A pod a Service selects but that was kept light: read it now. NULL
 * when it is gone. */
static struct pod_info *make_full(ctl_endpoints *ec, struct ns_index *x, const char *ns,
				  struct pod_info *p)
{
	json_t *pod = NULL;
	sk_err err = {0};

	if (p->full)
		return p;
	if (ec->c->get(ec->c, api_kind_by_resource("", "pods"), ns, p->name, &pod, &err) < 0)
		return NULL; /* deleted: its DELETED event comes */
	struct pod_info *full = pod_info_new(pod);
	json_decref(pod);
	sk_map_set(x->pods, full->name, full); /* frees p */
	return full;
}

/* ---- services and endpoints ------------------------------------------------------------- */

static void service_event(ctl_endpoints *ec, ctl_event *ev)
{
	struct ns_index *x = ns_get(ec, ev->ns);

	mark(ec, ev->ns, ev->name);
	if (ev->type == CTL_DELETED) {
		sk_map_del(x->services, ev->name);
		return;
	}
	json_t *svc = ctl_event_obj(ev);
	json_t *selector = api_get(svc, "spec.selector");
	struct svc_info *s = sk_calloc(1, sizeof(*s));
	sk_err err = {0};
	s->svc = json_incref(svc);
	/* an empty selector is no selector: Kubernetes does not even store
	 * an empty map */
	if (json_object_size(selector) &&
	    api_label_selector_from_map(selector, &s->sel, &err) < 0) {
		sk_warn("endpoints: service %s/%s: spec.selector: %s", ev->ns, ev->name, err.msg);
		s->sel = NULL;
	}
	sk_map_set(x->services, ev->name, s);
}

static void endpoints_event(ctl_endpoints *ec, ctl_event *ev)
{
	struct ns_index *x = ns_get(ec, ev->ns);

	if (ev->type == CTL_DELETED)
		sk_map_del(x->endpoints, ev->name);
	else
		sk_map_set(x->endpoints, ev->name, json_incref(ctl_event_obj(ev)));
	/* as Kubernetes: a deleted Endpoints of a Service is made again, and
	 * the Endpoints present at start whose Service is gone are removed
	 * (checkLeftoverEndpoints); other changes by others stay until the
	 * Service or its pods change */
	if (ev->type == CTL_DELETED || !ec->synced)
		mark(ec, ev->ns, ev->name);
}

static bool is_core(const api_kind *k, const char *kind)
{
	return k && !*k->group && !strcmp(k->kind, kind);
}

static void handle(ctl_endpoints *ec, ctl_event *ev)
{
	if (ev->type == CTL_SYNCED) {
		ec->synced = true;
		return;
	}
	if (is_core(ev->kind, "Pod"))
		pod_event(ec, ev);
	else if (is_core(ev->kind, "Service"))
		service_event(ec, ev);
	else if (is_core(ev->kind, "Endpoints"))
		endpoints_event(ec, ev);
}

/* ---- computing the subsets -------------------------------------------------------------- */

/* FindPort: a numbered targetPort is taken as is; a named one is looked
 * up among the pod's container ports of the Service port's protocol.
 * 0 when the pod has no such port (the pod is left out of that port). */
static int find_port(const struct pod_info *p, json_t *svc_port)
{
	json_t *target = json_object_get(svc_port, "targetPort");
	const char *proto = api_get_str(svc_port, "protocol");

	if (!proto)
		proto = "TCP";
	if (json_is_integer(target))
		return (int)json_integer_value(target);
	if (!json_is_string(target)) /* unset: the Service's port (defaulting does it too) */
		return (int)api_get_int(svc_port, "port", 0);
	for (size_t i = 0; i < p->nports; i++)
		if (!strcmp(p->ports[i].name, json_string_value(target)) &&
		    !strcmp(p->ports[i].protocol, proto))
			return p->ports[i].port;
	return 0;
}

/* One address: a pod offering some ports, ready or not. */
struct addr {
	const struct pod_info *pod;
	const char *hostname;
	bool ready;
};

/* A port and the addresses that offer it (the sentinel port -1 stands
 * for "no ports" of a headless Service without ports). */
struct port_group {
	json_t *port; /* the EndpointPort, NULL for the sentinel */
	struct addr *addrs;
	size_t naddrs;
	char *signature; /* the sorted "ip uid ready" list: equal ones share a subset */
};

static int cmp_addr(const void *a, const void *b)
{
	const struct addr *x = a, *y = b;
	int c = strcmp(x->pod->ip, y->pod->ip);

	return c ? c : strcmp(x->pod->uid, y->pod->uid);
}

static void group_add(struct port_group **groups, size_t *n, json_t *port, const struct addr *a)
{
	struct port_group *g = NULL;

	for (size_t i = 0; i < *n; i++)
		if ((!port && !(*groups)[i].port) ||
		    (port && (*groups)[i].port && json_equal(port, (*groups)[i].port)))
			g = &(*groups)[i];
	if (!g) {
		*groups = sk_realloc(*groups, (*n + 1) * sizeof(**groups));
		g = &(*groups)[(*n)++];
		memset(g, 0, sizeof(*g));
		g->port = port ? json_incref(port) : NULL;
	}
	/* an address ready for a port in one place is ready for it */
	for (size_t i = 0; i < g->naddrs; i++) {
		if (g->addrs[i].pod == a->pod) {
			g->addrs[i].ready |= a->ready;
			return;
		}
	}
	g->addrs = sk_realloc(g->addrs, (g->naddrs + 1) * sizeof(*g->addrs));
	g->addrs[g->naddrs++] = *a;
}

static json_t *address_json(const struct addr *a, json_t *svc)
{
	json_t *o = json_pack("{s:s}", "ip", a->pod->ip);

	if (a->hostname)
		json_object_set_new(o, "hostname", json_string(a->hostname));
	if (a->pod->node)
		json_object_set_new(o, "nodeName", json_string(a->pod->node));
	json_object_set_new(o, "targetRef",
			    json_pack("{s:s,s:s,s:s,s:s}", "kind", "Pod", "namespace",
				      api_meta_namespace(svc), "name", a->pod->name, "uid",
				      a->pod->uid));
	return o;
}

static int cmp_port(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int64_t px = api_get_int(x, "port", 0), py = api_get_int(y, "port", 0);
	const char *nx = api_get_str(x, "name"), *ny = api_get_str(y, "name");
	int c;

	if (px != py)
		return px < py ? -1 : 1;
	c = strcmp(nx ? nx : "", ny ? ny : "");
	return c ? c : strcmp(api_get_str(x, "protocol") ?: "", api_get_str(y, "protocol") ?: "");
}

struct subset {
	const char *signature;
	json_t *obj;
};

static int cmp_subset(const void *a, const void *b)
{
	return strcmp(((const struct subset *)a)->signature, ((const struct subset *)b)->signature);
}

static void compute_signature(struct port_group *g)
{
	sk_buf sig;

	sk_buf_init(&sig);
	qsort(g->addrs, g->naddrs, sizeof(struct addr), cmp_addr);
	for (size_t j = 0; j < g->naddrs; j++)
		sk_buf_printf(&sig, "%s %s %d,", g->addrs[j].pod->ip, g->addrs[j].pod->uid,
			      g->addrs[j].ready);
	g->signature = sk_buf_steal(&sig);
}

/* One subset: the addresses of group g and the ports of every group with
 * the same signature (marked used). */
static json_t *subset_of(struct port_group *groups, size_t n, size_t g, bool *used, json_t *svc)
{
	json_t *ports = json_array(), *ready = json_array(), *notready = json_array();
	json_t **plist = sk_calloc(n, sizeof(json_t *)), *subset = json_object();
	size_t np = 0;

	for (size_t j = g; j < n; j++) {
		if (used[j] || strcmp(groups[j].signature, groups[g].signature))
			continue;
		used[j] = true;
		if (groups[j].port)
			plist[np++] = groups[j].port;
	}
	qsort(plist, np, sizeof(*plist), cmp_port);
	for (size_t j = 0; j < np; j++)
		json_array_append(ports, plist[j]);
	free(plist);
	for (size_t j = 0; j < groups[g].naddrs; j++)
		json_array_append_new(groups[g].addrs[j].ready ? ready : notready,
				      address_json(&groups[g].addrs[j], svc));
	if (json_array_size(ready))
		json_object_set(subset, "addresses", ready);
	if (json_array_size(notready))
		json_object_set(subset, "notReadyAddresses", notready);
	if (json_array_size(ports))
		json_object_set(subset, "ports", ports);
	json_decref(ready);
	json_decref(notready);
	json_decref(ports);
	return subset;
}

/* endpoints.RepackSubsets: ports offered by the same set of addresses
 * (with the same readiness) form one subset. Addresses are sorted by IP
 * and uid, ports by number and name, subsets by their addresses, so the
 * same pods always give the same object. */
static json_t *repack(struct port_group *groups, size_t n, json_t *svc)
{
	bool *used = sk_calloc(n ? n : 1, sizeof(bool));
	struct subset *subsets = sk_calloc(n ? n : 1, sizeof(*subsets));
	json_t *out = json_array();
	size_t ns = 0;

	for (size_t i = 0; i < n; i++)
		compute_signature(&groups[i]);
	for (size_t i = 0; i < n; i++) {
		if (used[i])
			continue;
		subsets[ns].signature = groups[i].signature;
		subsets[ns++].obj = subset_of(groups, n, i, used, svc);
	}
	qsort(subsets, ns, sizeof(*subsets), cmp_subset);
	for (size_t i = 0; i < ns; i++)
		json_array_append_new(out, subsets[i].obj);
	free(subsets);
	free(used);
	return out;
}

/* ShouldPodBeInEndpoints: an IP, not finished, and not terminating
 * (unless the Service publishes not-ready addresses). */
static bool pod_included(const struct pod_info *p, bool publish_not_ready)
{
	return p->ip && !p->terminal && (publish_not_ready || !p->deleting);
}

static json_t *endpoint_port(json_t *svc_port, int port)
{
	json_t *o = json_object();
	const char *name = api_get_str(svc_port, "name");
	const char *proto = api_get_str(svc_port, "protocol");
	const char *app = api_get_str(svc_port, "appProtocol");

	if (name && *name)
		json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "port", json_integer(port));
	json_object_set_new(o, "protocol", json_string(proto ? proto : "TCP"));
	if (app && *app)
		json_object_set_new(o, "appProtocol", json_string(app));
	return o;
}

static json_t *compute_subsets(ctl_endpoints *ec, const char *ns, struct ns_index *x,
			       struct svc_info *s)
{
	json_t *svc = s->svc, *svc_ports = api_get(svc, "spec.ports"), *sp;
	bool publish = api_get_bool(svc, "spec.publishNotReadyAddresses", false);
	bool headless = sk_streq(api_get_str(svc, "spec.clusterIP"), "None");
	struct port_group *groups = NULL;
	size_t ngroups = 0, k;
	sk_map_iter it = {0};
	void *v;

	while (sk_map_next(x->pods, &it, NULL, &v)) {
		struct pod_info *p = v;
		if (!api_label_selector_matches(s->sel, p->labels))
			continue;
		/* replacing the value of a key does not disturb the walk */
		p = make_full(ec, x, ns, p);
		if (!p || !pod_included(p, publish))
			continue;
		struct addr a = {.pod = p, .ready = publish || p->ready};
		if (p->hostname && sk_streq(p->subdomain, api_meta_name(svc)))
			a.hostname = p->hostname;
		if (!json_array_size(svc_ports)) {
			if (headless)
				group_add(&groups, &ngroups, NULL, &a);
			continue;
		}
		json_array_foreach (svc_ports, k, sp) {
			int port = find_port(p, sp);
			if (port <= 0)
				continue;
			json_t *ep = endpoint_port(sp, port);
			group_add(&groups, &ngroups, ep, &a);
			json_decref(ep);
		}
	}
	json_t *subsets = repack(groups, ngroups, svc);
	for (size_t i = 0; i < ngroups; i++) {
		json_decref(groups[i].port);
		free(groups[i].addrs);
		free(groups[i].signature);
	}
	free(groups);
	return subsets;
}

/* The Endpoints' labels: the Service's, plus the headless marker. */
static json_t *endpoints_labels(json_t *svc)
{
	json_t *l = api_meta_labels(svc) ? json_deep_copy(api_meta_labels(svc)) : json_object();

	if (sk_streq(api_get_str(svc, "spec.clusterIP"), "None"))
		json_object_set_new(l, HEADLESS_LABEL, json_string(""));
	else
		json_object_del(l, HEADLESS_LABEL);
	return l;
}

/* ---- syncing ------------------------------------------------------------------------------ */

static bool subsets_equal(json_t *a, json_t *b)
{
	if (!json_array_size(a) && !json_array_size(b))
		return true;
	return json_equal(a, b);
}

static int write_endpoints(ctl_endpoints *ec, const char *ns, const char *name, json_t *cur,
			   json_t *subsets, json_t *labels)
{
	json_t *ep, *out = NULL;
	sk_err err = {0};
	char now[32];
	int r;

	sk_rfc3339(sk_now_ns() / 1000000000LL, now, sizeof(now));
	if (cur) {
		ep = json_deep_copy(cur);
	} else {
		ep = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1", "kind", "Endpoints",
			       "metadata", "name", name, "namespace", ns);
	}
	json_t *meta = api_ensure_obj(ep, "metadata");
	if (json_object_size(labels))
		json_object_set(meta, "labels", labels);
	else
		json_object_del(meta, "labels");
	api_meta_set_annotation(ep, TRIGGER_ANNOTATION, now);
	if (json_array_size(subsets))
		json_object_set(ep, "subsets", subsets);
	else
		json_object_del(ep, "subsets");
	if (cur)
		r = ec->c->update(ec->c, endpoints_kind(), ep, NULL, &out, &err);
	else
		r = ec->c->create(ec->c, endpoints_kind(), ns, ep, &out, &err);
	json_decref(ep);
	if (r < 0) {
		/* 409: stale or already there; the watch brings the stored one */
		if (err.code != 409)
			sk_warn("endpoints: %s %s/%s: %s", cur ? "update" : "create", ns, name,
				err.msg);
		return -1;
	}
	/* remember what was written so a sync before the watch event does
	 * not write it again */
	sk_map_set(ns_get(ec, ns)->endpoints, name, out);
	return 0;
}

static int delete_endpoints(ctl_endpoints *ec, const char *ns, const char *name)
{
	sk_err err = {0};

	if (ec->c->delete (ec->c, endpoints_kind(), ns, name, NULL, &err) < 0 && err.code != 404) {
		sk_warn("endpoints: delete %s/%s: %s", ns, name, err.msg);
		return -1;
	}
	sk_map_del(ns_get(ec, ns)->endpoints, name);
	return 0;
}

static int sync_service(ctl_endpoints *ec, const char *key)
{
	const char *slash = strchr(key, '/');
	_cleanup_free_ char *ns = sk_strndup(key, slash - key);
	const char *name = slash + 1;
	struct ns_index *x = ns_get(ec, ns);
	struct svc_info *s = sk_map_get(x->services, name);
	json_t *cur = sk_map_get(x->endpoints, name);

	if (!s) /* the Service is gone: so are its Endpoints */
		return cur ? delete_endpoints(ec, ns, name) : 0;
	if (!s->sel || api_meta_deletion_timestamp(s->svc))
		return 0;
	json_t *subsets = compute_subsets(ec, ns, x, s);
	json_t *labels = endpoints_labels(s->svc);
	json_t *cur_labels = cur ? api_meta_labels(cur) : NULL;
	int r = 0;
	if (!cur || !subsets_equal(json_object_get(cur, "subsets"), subsets) ||
	    !(cur_labels ? json_equal(cur_labels, labels) : !json_object_size(labels)))
		r = write_endpoints(ec, ns, name, cur, subsets, labels);
	json_decref(subsets);
	json_decref(labels);
	return r;
}

static void work(ctl_endpoints *ec)
{
	char **keys = NULL;
	sk_map_iter it = {0};
	const char *k;

	while (sk_map_next(ec->dirty, &it, &k, NULL))
		keys = sk_strv_push(keys, k);
	sk_map_clear(ec->dirty);
	for (char **key = keys; key && *key && !atomic_load(&ec->stop); key++) {
		if (sync_service(ec, *key) < 0) {
			sk_map_set(ec->retry, *key, (void *)1);
			if (!ec->retry_at)
				ec->retry_at = sk_monotonic_ns() + (int64_t)RETRY_MS * 1000000;
		}
	}
	sk_strv_free(keys);
}

static void requeue_retries(ctl_endpoints *ec)
{
	sk_map_iter it = {0};
	const char *k;

	if (!ec->retry_at || sk_monotonic_ns() < ec->retry_at)
		return;
	while (sk_map_next(ec->retry, &it, &k, NULL))
		sk_map_set(ec->dirty, k, (void *)1);
	sk_map_clear(ec->retry);
	ec->retry_at = 0;
}

static void *endpoints_main(void *arg)
{
	ctl_endpoints *ec = arg;
	ctl_event ev;

	pthread_setname_np(pthread_self(), "ctl-endpoints");
	while (!atomic_load(&ec->stop)) {
		int r = ec->c->next(ec->c, ec->watch, &ev, ec->retry_at ? RETRY_MS / 4 : 5000);
		if (r < 0) {
			sk_err err = {0};
			if (atomic_load(&ec->stop))
				break;
			ec->c->watch_close(ec->c, ec->watch);
			ec->watch = NULL;
			sk_map_clear(ec->ns);
			sk_map_clear(ec->dirty);
			ec->synced = false;
			if (ec->c->watch(ec->c, NULL, &ec->watch, &err) < 0) {
				sk_warn("endpoints: watch: %s", err.msg);
				break;
			}
			continue;
		}
		while (r > 0) {
			handle(ec, &ev);
			ctl_event_clear(&ev);
			r = ec->c->next(ec->c, ec->watch, &ev, 0);
		}
		requeue_retries(ec);
		if (ec->synced && sk_map_len(ec->dirty))
			work(ec);
	}
	return NULL;
}

int ctl_endpoints_start(ctl_client *c, ctl_endpoints **out, sk_err *err)
{
	ctl_endpoints *ec = sk_calloc(1, sizeof(*ec));
	int r;

	ec->c = c;
	ec->ns = sk_map_new(ns_index_free);
	ec->dirty = sk_map_new(NULL);
	ec->retry = sk_map_new(NULL);
	if (c->watch(c, NULL, &ec->watch, err) < 0) {
		ctl_endpoints_stop(ec);
		return sk_err_wrap(err, "endpoints: watch");
	}
	r = pthread_create(&ec->thread, NULL, endpoints_main, ec);
	if (r != 0) {
		ctl_endpoints_stop(ec);
		return sk_err_sys(err, r, "endpoints: start its thread");
	}
	ec->started = true;
	*out = ec;
	return 0;
}

void ctl_endpoints_stop(ctl_endpoints *ec)
{
	if (!ec)
		return;
	atomic_store(&ec->stop, true);
	if (ec->watch)
		ec->c->watch_stop(ec->c, ec->watch);
	if (ec->started)
		pthread_join(ec->thread, NULL);
	if (ec->watch)
		ec->c->watch_close(ec->c, ec->watch);
	sk_map_free(ec->ns);
	sk_map_free(ec->dirty);
	sk_map_free(ec->retry);
	free(ec);
}
