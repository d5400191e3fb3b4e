/* The kube-proxy half of the agent: every Service with its Endpoints
 * becomes netns/'s dataplane (nftables, in a thread of its own, one
 * change at a time per Service, only the latest state) and records of the
 * cluster DNS (on the loop, where the DNS server runs). Services also give
 * containers their {SVC}_SERVICE_HOST variables at start. After the first
 * complete lists, Services that the dataplane still holds but the API no
 * longer has are removed (they were deleted while the agent was away). */
#include "agent_internal.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

struct svc_entry {
	char *key; /* ns/name */
	char *ns, *name;
	json_t *svc, *ep;
	bool inflight, dirty;
	bool mark; /* listed in the latest list */
};

struct agent_services {
	struct svc_entry **slots;
	size_t cap, n;
	bool svc_synced, ep_synced, cleaned;
	agent_pool *writer;
};

/* ---- pure translation ---------------------------------------------------------- */

static int copy_name(char *dst, const char *src, const char *what, sk_err *err)
{
	if (!src || strlen(src) >= NET_NAME_MAX)
		return sk_err_set(err, EINVAL, "%s: missing or too long", what);
	snprintf(dst, NET_NAME_MAX, "%s", src);
	return 0;
}

static int proto_of(const char *p)
{
	return sk_streq(p, "UDP") ? IPPROTO_UDP : IPPROTO_TCP;
}

static int read_ports(json_t *svc, struct net_service *out, sk_err *err)
{
	json_t *port;
	size_t i;

	json_array_foreach (api_get(svc, "spec.ports"), i, port) {
		struct net_service_port *p;
		json_t *tp = json_object_get(port, "targetPort");
		int64_t num = api_get_int(port, "port", 0);
		if (out->n_ports >= NET_SVC_MAX_PORTS)
			return sk_err_set(err, E2BIG, "spec.ports: more than %d",
					  NET_SVC_MAX_PORTS);
		if (num < 1 || num > 65535)
			return sk_err_set(err, EINVAL, "spec.ports[%zu].port: out of range", i);
		p = &out->ports[out->n_ports++];
		snprintf(p->name, sizeof(p->name), "%s", api_get_str(port, "name") ?: "");
		if (sk_streq(api_get_str(port, "protocol"), "SCTP"))
			return 0; /* not served by the dataplane */
		p->protocol = proto_of(api_get_str(port, "protocol"));
		p->port = (uint16_t)num;
		/* a named targetPort is resolved per endpoint (the Endpoints' ports) */
		p->target_port = json_is_integer(tp)  ? (uint16_t)json_integer_value(tp)
				 : json_is_string(tp) ? 0
						      : (uint16_t)num;
		if (json_is_string(tp) && isdigit((unsigned char)json_string_value(tp)[0]))
			p->target_port = (uint16_t)atoi(json_string_value(tp));
		p->node_port = (uint16_t)api_get_int(port, "nodePort", 0);
	}
	return 0;
}

static struct net_endpoint *endpoint_for(struct net_service *out, const char *ip,
					 const char *hostname)
{
	for (size_t i = 0; i < out->n_endpoints; i++)
		if (!strcmp(out->endpoints[i].ip, ip))
			return &out->endpoints[i];
	out->endpoints =
		sk_realloc(out->endpoints, (out->n_endpoints + 1) * sizeof(*out->endpoints));
	struct net_endpoint *e = &out->endpoints[out->n_endpoints++];
	memset(e, 0, sizeof(*e));
	snprintf(e->ip, sizeof(e->ip), "%s", ip);
	if (hostname && strlen(hostname) < NET_NAME_MAX)
		snprintf(e->hostname, sizeof(e->hostname), "%s", hostname);
	return e;
}

/* Endpoints subsets: each ready address gets, for each Service port, the
 * port of the subset with the same name (Kubernetes' EndpointPort.name is
 * the Service port's name). */
static void read_endpoints(json_t *eps, struct net_service *out)
{
	json_t *subset, *addr, *port;
	size_t i, k, m;

	json_array_foreach (json_object_get(eps, "subsets"), i, subset) {
		json_array_foreach (json_object_get(subset, "addresses"), k, addr) {
			const char *ip = api_get_str(addr, "ip");
			uint32_t parsed;
			sk_err e;
			if (!ip || net_ip_parse(ip, &parsed, &e) < 0)
				continue;
			struct net_endpoint *ep =
				endpoint_for(out, ip, api_get_str(addr, "hostname"));
			for (size_t s = 0; s < out->n_ports; s++) {
				json_array_foreach (json_object_get(subset, "ports"), m, port) {
					const char *pn = api_get_str(port, "name");
					if (!sk_streq(pn ? pn : "", out->ports[s].name) ||
					    proto_of(api_get_str(port, "protocol")) !=
						    out->ports[s].protocol)
						continue;
					ep->ports[s] = (uint16_t)api_get_int(port, "port", 0);
				}
			}
		}
	}
}

int agent_service_to_net(json_t *svc, json_t *eps, struct net_service *out, sk_err *err)
{
	const char *type = api_get_str(svc, "spec.type");
	const char *cip = api_get_str(svc, "spec.clusterIP");

	memset(out, 0, sizeof(*out));
	if (sk_streq(type, "ExternalName"))
		return 0;
	if (copy_name(out->ns, api_get_str(svc, "metadata.namespace") ?: "default",
		      "metadata.namespace", err) < 0 ||
	    copy_name(out->name, api_get_str(svc, "metadata.name"), "metadata.name", err) < 0)
		return -1;
	if (cip && strlen(cip) >= sizeof(out->cluster_ip))
		return sk_err_set(err, EINVAL, "spec.clusterIP: \"%s\" is not an IPv4 address",
				  cip);
	snprintf(out->cluster_ip, sizeof(out->cluster_ip), "%s", cip && *cip ? cip : "None");
	out->affinity_client_ip = sk_streq(api_get_str(svc, "spec.sessionAffinity"), "ClientIP");
	out->affinity_timeout =
		(uint32_t)api_get_int(svc, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 0);
	if (read_ports(svc, out, err) < 0) {
		net_service_clear(out);
		return -1;
	}
	read_endpoints(eps, out);
	return 1;
}

/* ---- environment variables ------------------------------------------------------ */

/* "my-svc" -> "MY_SVC" */
static char *env_name(const char *s)
{
	char *n = sk_strdup(s);

	for (char *p = n; *p; p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	return n;
}

static char **push(char **env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char **push(char **env, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = sk_vasprintf(fmt, ap);
	va_end(ap);
	env = sk_strv_push(env, s);
	free(s);
	return env;
}

/* kubelet's envvars.FromServices: the Service's host and ports, and the
 * docker-link style variables. */
char **agent_service_env_add(char **env, json_t *svc)
{
	const char *ip = api_get_str(svc, "spec.clusterIP");
	json_t *ports = api_get(svc, "spec.ports"), *p;
	_cleanup_free_ char *name = env_name(api_get_str(svc, "metadata.name") ?: "");
	size_t i;

	if (!ip || !*ip || !strcmp(ip, "None") || json_array_size(ports) == 0)
		return env;
	json_t *first = json_array_get(ports, 0);
	env = push(env, "%s_SERVICE_HOST=%s", name, ip);
	env = push(env, "%s_SERVICE_PORT=%lld", name, (long long)api_get_int(first, "port", 0));
	json_array_foreach (ports, i, p) {
		const char *pname = api_get_str(p, "name");
		if (pname && *pname) {
			_cleanup_free_ char *pn = env_name(pname);
			env = push(env, "%s_SERVICE_PORT_%s=%lld", name, pn,
				   (long long)api_get_int(p, "port", 0));
		}
	}
	const char *fproto = api_get_str(first, "protocol") ?: "TCP";
	_cleanup_free_ char *flow = sk_strdup(fproto);
	for (char *c = flow; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	env = push(env, "%s_PORT=%s://%s:%lld", name, flow, ip,
		   (long long)api_get_int(first, "port", 0));
	json_array_foreach (ports, i, p) {
		const char *proto = api_get_str(p, "protocol") ?: "TCP";
		long long port = (long long)api_get_int(p, "port", 0);
		_cleanup_free_ char *low = sk_strdup(proto);
		for (char *c = low; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		env = push(env, "%s_PORT_%lld_%s=%s://%s:%lld", name, port, proto, low, ip, port);
		env = push(env, "%s_PORT_%lld_%s_PROTO=%s", name, port, proto, low);
		env = push(env, "%s_PORT_%lld_%s_PORT=%lld", name, port, proto, port);
		env = push(env, "%s_PORT_%lld_%s_ADDR=%s", name, port, proto, ip);
	}
	return env;
}

/* ---- the table ---------------------------------------------------------------- */

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct svc_entry **slot_of(struct agent_services *t, const char *key)
{
	size_t i = hash_key(key) & (t->cap - 1);

	while (t->slots[i] && strcmp(t->slots[i]->key, key))
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static void grow(struct agent_services *t)
{
	struct svc_entry **old = t->slots;
	size_t cap = t->cap;

	t->cap = cap ? cap * 2 : 64;
	t->slots = sk_calloc(t->cap, sizeof(*t->slots));
	for (size_t i = 0; i < cap; i++)
		if (old[i])
			*slot_of(t, old[i]->key) = old[i];
	free(old);
}

static struct svc_entry *entry_get(struct agent_services *t, const char *ns, const char *name,
				   bool create)
{
	_cleanup_free_ char *key = sk_asprintf("%s/%s", ns, name);
	struct svc_entry **slot = slot_of(t, key);

	if (*slot || !create)
		return *slot;
	if ((t->n + 1) * 2 > t->cap) {
		grow(t);
		slot = slot_of(t, key);
	}
	*slot = sk_calloc(1, sizeof(**slot));
	(*slot)->key = move_ptr(key);
	(*slot)->ns = sk_strdup(ns);
	(*slot)->name = sk_strdup(name);
	t->n++;
	return *slot;
}

/* Entries are never removed from the table while a job may refer to
 * them; an entry without Service and Endpoints stays as an empty shell
 * (cheap) until the agent ends. */

char **agent_service_env(agent *a, const char *ns, bool enable_service_links)
{
	struct agent_services *t = a->svcs;
	char **env = NULL;

	for (size_t i = 0; t && i < t->cap; i++) {
		struct svc_entry *e = t->slots[i];
		if (!e || !e->svc)
			continue;
		bool same_ns = !strcmp(e->ns, ns);
		/* the master Service is always there, as the kubelet adds it */
		bool master = !strcmp(e->ns, "default") && !strcmp(e->name, "kubernetes");
		if ((same_ns && enable_service_links) || master)
			env = agent_service_env_add(env, e->svc);
	}
	return env;
}

/* ---- programming the dataplane ----------------------------------------------------- */

struct svc_job {
	struct svc_entry *e;
	bool remove;
	struct net_service svc;
};

static void svc_run(struct agent_worker *w, void *data)
{
	struct svc_job *j = data;
	net_node *net;
	sk_err err;

	if (!(net = agent_worker_net(w, &err))) {
		sk_warn("agent: service %s: %s", j->e->key, err.msg);
		return;
	}
	if (j->remove) {
		if (net_lb_delete_service(net, j->e->ns, j->e->name, &err) < 0 &&
		    err.code != ENOENT)
			sk_warn("agent: %s", err.msg);
	} else if (net_lb_set_service(net, &j->svc, &err) < 0) {
		sk_warn("agent: %s", err.msg);
	}
}

static void apply(agent *a, struct svc_entry *e);

static void svc_done(agent *a, void *data)
{
	struct svc_job *j = data;
	struct svc_entry *e = j->e;

	net_service_clear(&j->svc);
	free(j);
	e->inflight = false;
	if (e->dirty)
		apply(a, e);
}

/* Program one Service as it is now: DNS at once, the dataplane through
 * the writer (only the latest state when changes come faster). */
static void apply(agent *a, struct svc_entry *e)
{
	struct net_service svc;
	sk_err err;
	int r = e->svc ? agent_service_to_net(e->svc, e->ep, &svc, &err) : 0;

	if (r < 0) {
		sk_warn("agent: service %s: %s", e->key, err.msg);
		r = 0;
	}
	if (a->dns) {
		if (r > 0)
			net_dns_set_service(a->dns, &svc);
		else
			net_dns_delete_service(a->dns, e->ns, e->name);
	}
	if (!a->net_ready || e->inflight || atomic_load(&a->stopping)) {
		e->dirty = a->net_ready;
		if (r > 0)
			net_service_clear(&svc);
		return;
	}
	struct svc_job *j = sk_calloc(1, sizeof(*j));
	j->e = e;
	j->remove = r <= 0;
	if (r > 0)
		j->svc = svc;
	e->inflight = true;
	e->dirty = false;
	agent_pool_submit(a->svcs->writer, svc_run, svc_done, j);
}

/* Services the dataplane holds that the API does not. */
struct stale_ctx {
	agent *a;
	char **keys;
};

static int collect_stale(const struct net_service *svc, void *data)
{
	struct stale_ctx *c = data;
	struct svc_entry *e = entry_get(c->a->svcs, svc->ns, svc->name, false);

	if (!e || !e->svc)
		c->keys = sk_strv_push(c->keys, svc->ns),
		c->keys = sk_strv_push(c->keys, svc->name);
	return 0;
}

static void remove_stale(agent *a)
{
	struct stale_ctx c = {.a = a};
	sk_err err;

	if (a->svcs->cleaned || !a->svcs->svc_synced || !a->net_ready || !a->net)
		return;
	a->svcs->cleaned = true;
	if (net_lb_foreach(a->net, collect_stale, &c, &err) < 0)
		sk_warn("agent: %s", err.msg);
	for (size_t i = 0; c.keys && c.keys[i] && c.keys[i + 1]; i += 2) {
		struct svc_entry *e = entry_get(a->svcs, c.keys[i], c.keys[i + 1], true);
		apply(a, e);
	}
	sk_strv_free(c.keys);
}

void agent_services_network_ready(agent *a)
{
	struct agent_services *t = a->svcs;

	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i] && (t->slots[i]->svc || t->slots[i]->dirty))
			apply(a, t->slots[i]);
	remove_stale(a);
}

/* ---- watches ------------------------------------------------------------------------- */

static void set_object(agent *a, json_t *obj, bool endpoints, bool present)
{
	const char *ns = api_get_str(obj, "metadata.namespace") ?: "default";
	const char *name = api_get_str(obj, "metadata.name");
	struct svc_entry *e;

	if (!name)
		return;
	e = entry_get(a->svcs, ns, name, true);
	json_t **slot = endpoints ? &e->ep : &e->svc;
	json_t *old = *slot;
	if (present && old && api_get_str(old, "metadata.resourceVersion") &&
	    sk_streq(api_get_str(old, "metadata.resourceVersion"),
		     api_get_str(obj, "metadata.resourceVersion")))
		return;
	*slot = present ? json_incref(obj) : NULL;
	json_decref(old);
	apply(a, e);
}

static void sync_all(agent *a, json_t *items, bool endpoints)
{
	struct agent_services *t = a->svcs;
	json_t *obj, *gone = json_array();
	size_t i;

	for (size_t k = 0; k < t->cap; k++)
		if (t->slots[k])
			t->slots[k]->mark = false;
	json_array_foreach (items, i, obj) {
		const char *name = api_get_str(obj, "metadata.name");
		if (name)
			entry_get(t, api_get_str(obj, "metadata.namespace") ?: "default", name,
				  true)
				->mark = true;
	}
	/* what the new list lacks was deleted meanwhile */
	for (size_t k = 0; k < t->cap; k++) {
		struct svc_entry *e = t->slots[k];
		json_t *have = e ? (endpoints ? e->ep : e->svc) : NULL;
		if (have && !e->mark)
			json_array_append(gone, have);
	}
	json_array_foreach (gone, i, obj)
		set_object(a, obj, endpoints, false);
	json_decref(gone);
	json_array_foreach (items, i, obj)
		set_object(a, obj, endpoints, true);
}

void agent_services_on_watch(agent *a, enum agent_watch_type type, json_t *obj,
			     void *data SK_UNUSED)
{
	if (type == AGENT_WATCH_SYNC) {
		sync_all(a, obj, false);
		a->svcs->svc_synced = true;
		remove_stale(a);
		return;
	}
	set_object(a, obj, false, type != AGENT_WATCH_DELETED);
}

void agent_endpoints_on_watch(agent *a, enum agent_watch_type type, json_t *obj,
			      void *data SK_UNUSED)
{
	if (type == AGENT_WATCH_SYNC) {
		sync_all(a, obj, true);
		a->svcs->ep_synced = true;
		return;
	}
	set_object(a, obj, true, type != AGENT_WATCH_DELETED);
}

int agent_services_init(agent *a, sk_err *err SK_UNUSED)
{
	a->svcs = sk_calloc(1, sizeof(*a->svcs));
	a->svcs->writer = agent_pool_new(a, "agent-svc", 1, 1);
	grow(a->svcs);
	return 0;
}

void agent_services_stop(agent *a)
{
	if (a->svcs) {
		agent_pool_free(a->svcs->writer);
		a->svcs->writer = NULL;
	}
}

void agent_services_free(agent *a)
{
	struct agent_services *t = a->svcs;

	if (!t)
		return;
	agent_pool_free(t->writer);
	for (size_t i = 0; i < t->cap; i++) {
		struct svc_entry *e = t->slots[i];
		if (!e)
			continue;
		json_decref(e->svc);
		json_decref(e->ep);
		free(e->key);
		free(e->ns);
		free(e->name);
		free(e);
	}
	free(t->slots);
	free(t);
	a->svcs = NULL;
}
