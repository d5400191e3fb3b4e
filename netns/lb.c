/* The Service dataplane, kube-proxy's nftables mode reshaped so that the
 * cost of a change does not grow with the number of Services.
 *
 * A Service port with N ready endpoints (and no affinity) is map and set
 * elements only:
 *   service-ips-N        VIP . proto . port         (a set per endpoint count)
 *   service-backends-P   VIP . proto . port . k  :  endpoint . targetPort
 *   service-nodeports-N, nodeport-backends          the same for the NodePort
 * and the shared chains for that N (made once, see net_pick_cmds):
 *   service-picks:  ip daddr . l4proto . dport @service-ips-N goto pick-N
 *   pick-N:         dnat to ip daddr . l4proto . dport . numgen random mod N
 *                   map @service-backends-P (P: tcp, udp)
 *   nodeport-pick-N mark for masquerade, then the same through nodeport-backends-P
 * A packet costs one set lookup per endpoint count in use and one map
 * lookup. Why not a chain per Service, as kube-proxy: every libnftables
 * transaction loads the list of chains, and a verdict map makes the kernel
 * walk all its elements' chains on each commit, so both grow with the
 * number of Services; sets and data maps need neither.
 *
 * ClientIP affinity needs state per endpoint (a set of recent clients),
 * so those Services keep kube-proxy's chains, reached through the
 * service-ips verdict map: svc-<h> ([ip saddr @aff-<e> goto ep-<e>]...,
 * numgen random mod N vmap { k : goto ep-<e> }), ep-<e> (hairpin mark,
 * update @aff-<e>, dnat), ext-<h> for the NodePort.
 *
 * Hairpin: pod-hairpin (every pod's IP . IP) masquerades a pod reaching
 * itself. No endpoints: the VIP:port in no-endpoint-services (and the
 * NodePort in no-endpoint-nodeports) sends new connections to
 * reject-chain (TCP reset, ICMP port unreachable otherwise).
 *
 * A Service becomes a list of objects (elements, affinity chains and
 * sets) named from what they serve; setting it diffs the old list against
 * the new one and sends only the difference, in one transaction. */
#include "net_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

enum obj_kind { OBJ_ELEM, OBJ_SET, OBJ_CHAIN };

struct obj {
	enum obj_kind kind;
	char *name; /* ELEM: "map key"; SET, CHAIN: the name */
	char *body; /* ELEM: the value; SET: the definition; CHAIN: rules, one a line */
	int order;  /* CHAIN: 0 endpoint, 1 service, 2 NodePort chains: each refers
		     * only to lower ones, so they are written upward and
		     * deleted downward */
};

struct objlist {
	struct obj *v;
	size_t n, cap;
};

static void objlist_free(struct objlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].body);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}
#define _cleanup_objlist_ _cleanup_(objlist_free)

static void obj_add(struct objlist *l, enum obj_kind kind, int order, char *name, char *body)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = sk_realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = (struct obj){.kind = kind, .name = name, .body = body, .order = order};
}

static const struct obj *obj_find(const struct objlist *l, enum obj_kind kind, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == kind && !strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

static bool headless(const struct net_service *svc)
{
	return !svc->cluster_ip[0] || !strcmp(svc->cluster_ip, "None");
}

static uint16_t endpoint_port(const struct net_service *svc, size_t e, size_t p)
{
	uint16_t port = svc->endpoints[e].ports[p];

	return port ? port : svc->ports[p].target_port;
}

/* Stable names: the same Service port or endpoint always hashes to the
 * same chain, so an unchanged one compares equal and is left alone. */
static char *port_hash(const struct net_service *svc, size_t p)
{
	_cleanup_free_ char *key =
		sk_asprintf("%s/%s/%s/%u", svc->ns, svc->name,
			    net_proto_name(svc->ports[p].protocol), svc->ports[p].port);

	return sk_asprintf("%016llx", (unsigned long long)net_hash64(key));
}

static char *endpoint_hash(const struct net_service *svc, size_t p, size_t e)
{
	_cleanup_free_ char *key = sk_asprintf(
		"%s/%s/%s/%u/%s:%u", svc->ns, svc->name, net_proto_name(svc->ports[p].protocol),
		svc->ports[p].port, svc->endpoints[e].ip, endpoint_port(svc, e, p));

	return sk_asprintf("%016llx", (unsigned long long)net_hash64(key));
}

static void endpoint_objects(const struct net_service *svc, size_t p, size_t e, struct objlist *out)
{
	_cleanup_free_ char *h = endpoint_hash(svc, p, e);
	const char *ip = svc->endpoints[e].ip;
	uint32_t timeout = svc->affinity_timeout ? svc->affinity_timeout : 10800;
	sk_buf rules;

	sk_buf_init(&rules);
	sk_buf_printf(&rules, "ip saddr %s jump mark-for-masquerade\n", ip);
	if (svc->affinity_client_ip) {
		obj_add(out, OBJ_SET, 0, sk_asprintf("aff-%s", h),
			sk_asprintf("{ type ipv4_addr; flags dynamic,timeout; timeout %us; }",
				    timeout));
		sk_buf_printf(&rules, "update @aff-%s { ip saddr }\n", h);
	}
	sk_buf_printf(&rules, "meta l4proto %s dnat to %s:%u\n",
		      net_proto_name(svc->ports[p].protocol), ip, endpoint_port(svc, e, p));
	obj_add(out, OBJ_CHAIN, 0, sk_asprintf("ep-%s", h), sk_buf_steal(&rules));
}

static char *service_chain_rules(const struct net_service *svc, size_t p)
{
	sk_buf rules;

	sk_buf_init(&rules);
	for (size_t e = 0; svc->affinity_client_ip && e < svc->n_endpoints; e++) {
		_cleanup_free_ char *h = endpoint_hash(svc, p, e);
		sk_buf_printf(&rules, "ip saddr @aff-%s goto ep-%s\n", h, h);
	}
	if (svc->n_endpoints == 1) {
		_cleanup_free_ char *h = endpoint_hash(svc, p, 0);
		sk_buf_printf(&rules, "goto ep-%s\n", h);
		return sk_buf_steal(&rules);
	}
	sk_buf_printf(&rules, "numgen random mod %zu vmap { ", svc->n_endpoints);
	for (size_t e = 0; e < svc->n_endpoints; e++) {
		_cleanup_free_ char *h = endpoint_hash(svc, p, e);
		sk_buf_printf(&rules, "%s%zu : goto ep-%s", e ? ", " : "", e, h);
	}
	sk_buf_puts(&rules, " }\n");
	return sk_buf_steal(&rules);
}

/* A Service port without affinity: elements only (see the top). */
static void port_elements(const struct net_service *svc, size_t p, struct objlist *out)
{
	const struct net_service_port *sp = &svc->ports[p];
	const char *proto = net_proto_name(sp->protocol);

	obj_add(out, OBJ_ELEM, 0,
		sk_asprintf("service-ips-%zu %s . %s . %u", svc->n_endpoints, svc->cluster_ip,
			    proto, sp->port),
		sk_strdup(""));
	for (size_t e = 0; e < svc->n_endpoints; e++)
		obj_add(out, OBJ_ELEM, 0,
			sk_asprintf("service-backends-%s %s . %s . %u . %zu", proto,
				    svc->cluster_ip, proto, sp->port, e),
			sk_asprintf("%s . %u", svc->endpoints[e].ip, endpoint_port(svc, e, p)));
	if (!sp->node_port)
		return;
	obj_add(out, OBJ_ELEM, 0,
		sk_asprintf("service-nodeports-%zu %s . %u", svc->n_endpoints, proto,
			    sp->node_port),
		sk_strdup(""));
	for (size_t e = 0; e < svc->n_endpoints; e++)
		obj_add(out, OBJ_ELEM, 0,
			sk_asprintf("nodeport-backends-%s %s . %u . %zu", proto, proto,
				    sp->node_port, e),
			sk_asprintf("%s . %u", svc->endpoints[e].ip, endpoint_port(svc, e, p)));
}

/* ClientIP affinity needs state per endpoint (a set of recent clients),
 * so those Services keep kube-proxy's chains: svc-<h> -> ep-<e>. */
static void port_affinity_chains(const struct net_service *svc, size_t p, struct objlist *out)
{
	const struct net_service_port *sp = &svc->ports[p];
	const char *proto = net_proto_name(sp->protocol);
	_cleanup_free_ char *h = port_hash(svc, p);

	for (size_t e = 0; e < svc->n_endpoints; e++)
		endpoint_objects(svc, p, e, out);
	obj_add(out, OBJ_CHAIN, 1, sk_asprintf("svc-%s", h), service_chain_rules(svc, p));
	obj_add(out, OBJ_ELEM, 0,
		sk_asprintf("service-ips %s . %s . %u", svc->cluster_ip, proto, sp->port),
		sk_asprintf("goto svc-%s", h));
	if (sp->node_port) {
		obj_add(out, OBJ_CHAIN, 2, sk_asprintf("ext-%s", h),
			sk_asprintf("jump mark-for-masquerade\ngoto svc-%s\n", h));
		obj_add(out, OBJ_ELEM, 0,
			sk_asprintf("service-nodeports %s . %u", proto, sp->node_port),
			sk_asprintf("goto ext-%s", h));
	}
}

static void port_objects(const struct net_service *svc, size_t p, struct objlist *out)
{
	const struct net_service_port *sp = &svc->ports[p];
	const char *proto = net_proto_name(sp->protocol);

	if (svc->n_endpoints == 0) {
		obj_add(out, OBJ_ELEM, 0,
			sk_asprintf("no-endpoint-services %s . %s . %u", svc->cluster_ip, proto,
				    sp->port),
			sk_strdup(""));
		if (sp->node_port)
			obj_add(out, OBJ_ELEM, 0,
				sk_asprintf("no-endpoint-nodeports %s . %u", proto, sp->node_port),
				sk_strdup(""));
		return;
	}
	if (svc->affinity_client_ip)
		port_affinity_chains(svc, p, out);
	else
		port_elements(svc, p, out);
}

static void service_objects(const struct net_service *svc, struct objlist *out)
{
	if (!svc || headless(svc))
		return;
	for (size_t p = 0; p < svc->n_ports; p++)
		port_objects(svc, p, out);
}

/* The shared pick chains a Service needs, made once per endpoint count
 * (a marker under <state>/net/picks remembers which exist). */
static void pick_chains(net_node *node, const struct net_service *svc, sk_buf *b, size_t *made,
			size_t *n_made)
{
	size_t n = svc->n_endpoints;
	_cleanup_free_ char *marker = sk_asprintf("%s/picks/%zu", node->net_dir, n);

	if (!n || svc->affinity_client_ip || headless(svc) || sk_path_exists(marker))
		return;
	for (size_t i = 0; i < *n_made; i++)
		if (made[i] == n)
			return;
	made[(*n_made)++] = n;
	net_pick_cmds(node, n, b);
}

static int pick_markers_write(net_node *node, const size_t *made, size_t n_made, sk_err *err)
{
	_cleanup_free_ char *dir = sk_path_join(node->net_dir, "picks");

	if (n_made && sk_mkdir_p(dir, 0700, err) < 0)
		return -1;
	for (size_t i = 0; i < n_made; i++) {
		_cleanup_free_ char *marker = sk_asprintf("%s/%zu", dir, made[i]);
		if (net_write_state(marker, "", err) < 0)
			return -1;
	}
	return 0;
}

/* Split "map key..." into the map and the key. */
static void elem_cmd(sk_buf *b, const char *verb, const char *t, const struct obj *o, bool value)
{
	const char *sp = strchr(o->name, ' ');

	sk_buf_printf(b, "%s element ip %s %.*s { %s", verb, t, (int)(sp - o->name), o->name,
		      sp + 1);
	if (value && o->body[0]) /* set elements have no value */
		sk_buf_printf(b, " : %s", o->body);
	sk_buf_puts(b, " }\n");
}

static void chain_write(sk_buf *b, const char *t, const struct obj *o)
{
	_cleanup_free_ char *rules = sk_strdup(o->body);
	char *save = NULL;

	sk_buf_printf(b, "flush chain ip %s %s\n", t, o->name);
	for (char *r = strtok_r(rules, "\n", &save); r; r = strtok_r(NULL, "\n", &save))
		sk_buf_printf(b, "add rule ip %s %s %s\n", t, o->name, r);
}

static bool same(const struct obj *a, const struct obj *b)
{
	return a && b && !strcmp(a->body, b->body);
}

/* The transaction from old to new, in an order the kernel accepts: drop
 * stale map elements, create sets and chains, write the changed chains,
 * add map elements, then delete what nothing refers to any more. */
static void diff_cmds(const char *t, const struct objlist *old, const struct objlist *new,
		      sk_buf *b)
{
	for (size_t i = 0; i < old->n; i++) {
		const struct obj *o = &old->v[i];
		if (o->kind == OBJ_ELEM && !same(o, obj_find(new, OBJ_ELEM, o->name)))
			elem_cmd(b, "delete", t, o, false);
	}
	for (size_t i = 0; i < new->n; i++) {
		const struct obj *o = &new->v[i];
		if (o->kind == OBJ_SET && !obj_find(old, OBJ_SET, o->name))
			sk_buf_printf(b, "add set ip %s %s %s\n", t, o->name, o->body);
		if (o->kind == OBJ_CHAIN && !obj_find(old, OBJ_CHAIN, o->name))
			sk_buf_printf(b, "add chain ip %s %s\n", t, o->name);
	}
	for (int order = 0; order <= 2; order++)
		for (size_t i = 0; i < new->n; i++) {
			const struct obj *o = &new->v[i];
			if (o->kind == OBJ_CHAIN && o->order == order &&
			    !same(o, obj_find(old, OBJ_CHAIN, o->name)))
				chain_write(b, t, o);
		}
	for (size_t i = 0; i < new->n; i++) {
		const struct obj *o = &new->v[i];
		if (o->kind == OBJ_ELEM && !same(o, obj_find(old, OBJ_ELEM, o->name)))
			elem_cmd(b, "add", t, o, true);
	}
	for (int order = 2; order >= 0; order--)
		for (size_t i = 0; i < old->n; i++) {
			const struct obj *o = &old->v[i];
			if (o->kind == OBJ_CHAIN && o->order == order &&
			    !obj_find(new, OBJ_CHAIN, o->name))
				sk_buf_printf(b, "delete chain ip %s %s\n", t, o->name);
		}
	for (size_t i = 0; i < old->n; i++) {
		const struct obj *o = &old->v[i];
		if (o->kind == OBJ_SET && !obj_find(new, OBJ_SET, o->name))
			sk_buf_printf(b, "delete set ip %s %s\n", t, o->name);
	}
}

/* ---- validation ----------------------------------------------------------- */

static int validate_port(const struct net_service *svc, size_t i, sk_err *err)
{
	const struct net_service_port *p = &svc->ports[i];

	if (svc->n_ports > 1 && !p->name[0])
		return sk_err_set(err, EINVAL,
				  "spec.ports[%zu].name: required when there are several ports", i);
	if (p->name[0] && !net_is_dns_label(p->name))
		return sk_err_set(err, EINVAL, "spec.ports[%zu].name: \"%s\": not a DNS label", i,
				  p->name);
	if (p->protocol != IPPROTO_TCP && p->protocol != IPPROTO_UDP)
		return sk_err_set(err, EINVAL, "spec.ports[%zu].protocol: must be TCP or UDP", i);
	if (p->port == 0)
		return sk_err_set(err, EINVAL, "spec.ports[%zu].port: must be 1-65535", i);
	if (p->target_port == 0)
		return sk_err_set(err, EINVAL, "spec.ports[%zu].targetPort: must be 1-65535", i);
	if (p->node_port && (p->node_port < 30000 || p->node_port > 32767))
		return sk_err_set(err, EINVAL, "spec.ports[%zu].nodePort: %u: must be 30000-32767",
				  i, p->node_port);
	if (p->node_port && headless(svc))
		return sk_err_set(err, EINVAL,
				  "spec.ports[%zu].nodePort: a headless Service has none", i);
	for (size_t j = 0; j < i; j++) {
		const struct net_service_port *q = &svc->ports[j];
		if (p->name[0] && !strcmp(p->name, q->name))
			return sk_err_set(err, EINVAL, "spec.ports[%zu].name: \"%s\": duplicate", i,
					  p->name);
		if (p->port == q->port && p->protocol == q->protocol)
			return sk_err_set(err, EINVAL, "spec.ports[%zu]: %s/%u: duplicate", i,
					  net_proto_name(p->protocol), p->port);
		if (p->node_port && p->node_port == q->node_port && p->protocol == q->protocol)
			return sk_err_set(err, EINVAL, "spec.ports[%zu].nodePort: %u: duplicate", i,
					  p->node_port);
	}
	return 0;
}

int net_service_validate(const net_node *node, const struct net_service *svc, sk_err *err)
{
	uint32_t ip;

	if (!net_is_dns_label(svc->ns))
		return sk_err_set(err, EINVAL, "metadata.namespace: \"%s\": not a DNS label",
				  svc->ns);
	if (!net_is_dns_label(svc->name))
		return sk_err_set(err, EINVAL, "metadata.name: \"%s\": not a DNS label", svc->name);
	if (!headless(svc)) {
		if (net_ip_parse(svc->cluster_ip, &ip, err) < 0)
			return sk_err_wrap(err, "spec.clusterIP");
		if (!net_cidr_contains(&node->service_cidr, ip))
			return sk_err_set(err, EINVAL,
					  "spec.clusterIP: %s: not in the service CIDR",
					  svc->cluster_ip);
		if (svc->n_ports == 0)
			return sk_err_set(err, EINVAL, "spec.ports: required");
	}
	if (svc->n_ports > NET_SVC_MAX_PORTS)
		return sk_err_set(err, EINVAL, "spec.ports: more than %d", NET_SVC_MAX_PORTS);
	if (svc->affinity_timeout > 86400)
		return sk_err_set(
			err, EINVAL,
			"spec.sessionAffinityConfig.clientIP.timeoutSeconds: %u: must be 1-86400",
			svc->affinity_timeout);
	for (size_t i = 0; i < svc->n_ports; i++)
		if (validate_port(svc, i, err) < 0)
			return -1;
	for (size_t e = 0; e < svc->n_endpoints; e++) {
		if (net_ip_parse(svc->endpoints[e].ip, &ip, err) < 0)
			return sk_err_wrap(err, "endpoints[%zu].ip", e);
		if (svc->endpoints[e].hostname[0] && !net_is_dns_label(svc->endpoints[e].hostname))
			return sk_err_set(err, EINVAL, "endpoints[%zu].hostname: not a DNS label",
					  e);
		for (size_t f = 0; f < e; f++)
			if (!strcmp(svc->endpoints[e].ip, svc->endpoints[f].ip))
				return sk_err_set(err, EINVAL, "endpoints[%zu].ip: %s: duplicate",
						  e, svc->endpoints[e].ip);
	}
	return 0;
}

/* ---- claims: a ClusterIP or NodePort belongs to one Service ------------------ */

static char *claim_path(net_node *node, const char *kind, const char *key)
{
	return sk_asprintf("%s/%s/%s", node->net_dir, kind, key);
}

static int claim_check(net_node *node, const char *kind, const char *key, const char *owner,
		       const char *field, sk_err *err)
{
	_cleanup_free_ char *path = claim_path(node, kind, key);
	_cleanup_free_ char *cur = NULL;
	sk_err ignored;

	if (sk_read_file(path, 256, &cur, NULL, &ignored) < 0 || !strcmp(cur, owner))
		return 0;
	return sk_err_set(err, EEXIST, "%s: %s: already allocated to Service %s", field, key, cur);
}

static int claim_write(net_node *node, const char *kind, const char *key, const char *owner,
		       sk_err *err)
{
	_cleanup_free_ char *dir = sk_path_join(node->net_dir, kind);
	_cleanup_free_ char *path = claim_path(node, kind, key);

	if (sk_mkdir_p(dir, 0700, err) < 0)
		return -1;
	return net_write_state(path, owner, err);
}

static void claim_drop(net_node *node, const char *kind, const char *key)
{
	_cleanup_free_ char *path = claim_path(node, kind, key);

	unlink(path);
}

static int claims_check(net_node *node, const struct net_service *svc, const char *owner,
			sk_err *err)
{
	if (!headless(svc) &&
	    claim_check(node, "clusterips", svc->cluster_ip, owner, "spec.clusterIP", err) < 0)
		return -1;
	for (size_t i = 0; i < svc->n_ports; i++) {
		char key[16];
		if (!svc->ports[i].node_port)
			continue;
		snprintf(key, sizeof(key), "%s-%u", net_proto_name(svc->ports[i].protocol),
			 svc->ports[i].node_port);
		if (claim_check(node, "nodeports", key, owner, "spec.ports.nodePort", err) < 0)
			return -1;
	}
	return 0;
}

/* Write the new claims, then drop the old ones the new state lacks. */
static int claims_update(net_node *node, const struct net_service *old,
			 const struct net_service *new, const char *owner, sk_err *err)
{
	char key[16];

	if (new && !headless(new) &&
	    claim_write(node, "clusterips", new->cluster_ip, owner, err) < 0)
		return -1;
	for (size_t i = 0; new &&i < new->n_ports; i++) {
		if (!new->ports[i].node_port)
			continue;
		snprintf(key, sizeof(key), "%s-%u", net_proto_name(new->ports[i].protocol),
			 new->ports[i].node_port);
		if (claim_write(node, "nodeports", key, owner, err) < 0)
			return -1;
	}
	if (!old)
		return 0;
	if (!headless(old) && (!new || strcmp(old->cluster_ip, new->cluster_ip)))
		claim_drop(node, "clusterips", old->cluster_ip);
	for (size_t i = 0; i < old->n_ports; i++) {
		bool kept = false;
		if (!old->ports[i].node_port)
			continue;
		for (size_t j = 0; new &&j < new->n_ports; j++)
			kept |= new->ports[j].node_port ==
				old->ports[i].node_port &&new->ports[j].protocol ==
				old->ports[i].protocol;
		if (kept)
			continue;
		snprintf(key, sizeof(key), "%s-%u", net_proto_name(old->ports[i].protocol),
			 old->ports[i].node_port);
		claim_drop(node, "nodeports", key);
	}
	return 0;
}

/* ---- the API ------------------------------------------------------------------- */

/* Serialises changes from several processes (the agent, test drivers). */
static int lb_lock(net_node *node, int *out, sk_err *err)
{
	_cleanup_free_ char *path = sk_path_join(node->net_dir, "services.lock");
	int fd;

	if (sk_mkdir_p(node->net_dir, 0700, err) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sk_err_sys(err, errno, "open %s", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return sk_err_sys(err, errno, "lock %s", path);
		}
	*out = fd;
	return 0;
}

/* Apply old -> new (either may be NULL) to the kernel and the state. */
static int lb_apply(net_node *node, const struct net_service *old, const struct net_service *new,
		    const char *owner, sk_err *err)
{
	_cleanup_objlist_ struct objlist a = {0}, b = {0};
	_cleanup_buf_ sk_buf cmds = {0};

	size_t made[1], n_made = 0;

	sk_buf_init(&cmds);
	if (new)
		pick_chains(node, new, &cmds, made, &n_made);
	service_objects(old, &a);
	service_objects(new, &b);
	diff_cmds(node->table, &a, &b, &cmds);
	if (cmds.len && net_nft_run(node, cmds.data, err) < 0)
		return -1;
	if (pick_markers_write(node, made, n_made, err) < 0)
		return -1;
	if (claims_update(node, old, new, owner, err) < 0)
		return -1;
	if (new)
		return net_svc_save(node, new, err);
	return net_svc_remove(node, old->ns, old->name, err);
}

int net_lb_set_service(net_node *node, const struct net_service *svc, sk_err *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *owner = sk_asprintf("%s/%s", svc->ns, svc->name);
	struct net_service old = {0};
	bool have_old;
	sk_err ignored;
	int ret;

	if (net_service_validate(node, svc, err) < 0)
		return sk_err_wrap(err, "service %s", owner);
	if (lb_lock(node, &lock, err) < 0)
		return -1;
	if (claims_check(node, svc, owner, err) < 0)
		return sk_err_wrap(err, "service %s", owner);
	have_old = net_svc_load(node, svc->ns, svc->name, &old, &ignored) == 0;
	ret = lb_apply(node, have_old ? &old : NULL, svc, owner, err);
	net_service_clear(&old);
	if (ret < 0)
		return sk_err_wrap(err, "service %s", owner);
	return 0;
}

int net_lb_set_endpoints(net_node *node, const char *ns, const char *name,
			 const struct net_endpoint *eps, size_t n, sk_err *err)
{
	struct net_service svc;
	int ret;

	if (net_svc_load(node, ns, name, &svc, err) < 0)
		return sk_err_wrap(err, "service %s/%s", ns, name);
	free(svc.endpoints);
	svc.endpoints = n ? sk_calloc(n, sizeof(*eps)) : NULL;
	if (n)
		memcpy(svc.endpoints, eps, n * sizeof(*eps));
	svc.n_endpoints = n;
	ret = net_lb_set_service(node, &svc, err);
	net_service_clear(&svc);
	return ret;
}

int net_lb_delete_service(net_node *node, const char *ns, const char *name, sk_err *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *owner = sk_asprintf("%s/%s", ns, name);
	struct net_service old;
	int ret;

	if (lb_lock(node, &lock, err) < 0)
		return -1;
	if (net_svc_load(node, ns, name, &old, err) < 0)
		return sk_err_wrap(err, "service %s", owner);
	ret = lb_apply(node, &old, NULL, owner, err);
	net_service_clear(&old);
	if (ret < 0)
		return sk_err_wrap(err, "delete service %s", owner);
	return 0;
}

int net_lb_get_service(net_node *node, const char *ns, const char *name, struct net_service *out,
		       sk_err *err)
{
	return net_svc_load(node, ns, name, out, err);
}

int net_lb_foreach(net_node *node, int (*fn)(const struct net_service *svc, void *data), void *data,
		   sk_err *err)
{
	_cleanup_free_ char *dir = sk_path_join(node->net_dir, "services");
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : sk_err_sys(err, errno, "open %s", dir);
	while (ret == 0 && (e = readdir(d))) {
		char ns[NET_NAME_MAX], name[NET_NAME_MAX];
		struct net_service svc;
		if (sscanf(e->d_name, "%63[^_]_%63s", ns, name) != 2)
			continue;
		if (net_svc_load(node, ns, name, &svc, err) < 0) {
			ret = -1;
			break;
		}
		ret = fn(&svc, data);
		net_service_clear(&svc);
	}
	closedir(d);
	return ret;
}
