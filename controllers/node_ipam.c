/* Node IPAM, as kube-controller-manager's range allocator: each Node
 * without a pod CIDR gets the lowest free block of the cluster CIDR in
 * spec.podCIDR and spec.podCIDRs. Which blocks are taken is learnt from
 * the Nodes themselves (the watch's initial events come before any
 * allocation), so the Node objects are the only record and a restart
 * hands nothing out twice. A block is counted once per Node that has it,
 * so two Nodes created with the same podCIDR do not free it for a third
 * when one goes. IPv4 only. */
#include "controllers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#define MAX_BLOCK_BITS 16 /* kube-controller-manager's limit: 65536 node CIDRs */

struct ctl_node_ipam {
	ctl_client *c;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	ctl_watch *watch;
	ctl_recorder *rec;
	uint32_t base; /* the cluster CIDR's network, host order */
	int prefix, mask_bits;
	size_t nblocks;
	uint16_t *used; /* Nodes holding each block */
	sk_map *held;	/* node name -> block index + 1 (as a pointer) */
	sk_map *todo;	/* node names waiting for a block -> their uid */
	bool synced;
	bool full_reported;
};

static const api_kind *nodes_kind(void)
{
	return api_kind_by_resource("", "nodes");
}

/* "a.b.c.d/n" into network (host order) and prefix; the address must be
 * the network's own. */
static int parse_cidr(const char *s, uint32_t *net, int *prefix)
{
	char addr[32];
	const char *slash = strchr(s, '/');
	struct in_addr in;
	int64_t p;
	sk_err err = {0};

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1 || sk_parse_int64(slash + 1, 0, 32, &p, &err) < 0)
		return -1;
	*net = ntohl(in.s_addr);
	*prefix = (int)p;
	uint32_t mask = p ? ~0u << (32 - p) : 0;
	return (*net & ~mask) ? -1 : 0;
}

static void block_cidr(ctl_node_ipam *ni, size_t i, char *buf, size_t n)
{
	struct in_addr in = {.s_addr = htonl(ni->base + ((uint32_t)i << (32 - ni->mask_bits)))};
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &in, a, sizeof(a));
	snprintf(buf, n, "%s/%d", a, ni->mask_bits);
}

/* The block index of cidr when it is one of ours, else -1. */
static ssize_t block_of(ctl_node_ipam *ni, const char *cidr)
{
	uint32_t net;
	int prefix;

	if (parse_cidr(cidr, &net, &prefix) < 0 || prefix != ni->mask_bits)
		return -1;
	if (net < ni->base || (net - ni->base) >> (32 - ni->mask_bits) >= ni->nblocks)
		return -1;
	return (ssize_t)((net - ni->base) >> (32 - ni->mask_bits));
}

static void release(ctl_node_ipam *ni, const char *node)
{
	intptr_t held = (intptr_t)sk_map_take(ni->held, node);

	if (held && ni->used[held - 1])
		ni->used[held - 1]--;
	if (held)
		ni->full_reported = false;
}

static void hold(ctl_node_ipam *ni, const char *node, size_t block)
{
	release(ni, node);
	ni->used[block]++;
	sk_map_set(ni->held, node, (void *)(intptr_t)(block + 1));
}

static const char *node_cidr(json_t *node)
{
	const char *c = json_string_value(json_array_get(api_get(node, "spec.podCIDRs"), 0));

	return c && *c ? c : api_get_str(node, "spec.podCIDR");
}

static void handle(ctl_node_ipam *ni, ctl_event *ev)
{
	if (ev->type == CTL_SYNCED) {
		ni->synced = true;
		return;
	}
	if (!ev->kind || *ev->kind->group || strcmp(ev->kind->kind, "Node") != 0)
		return;
	if (ev->type == CTL_DELETED) {
		release(ni, ev->name);
		sk_map_del(ni->todo, ev->name);
		return;
	}
	const char *cidr = node_cidr(ctl_event_obj(ev));
	if (cidr && *cidr) {
		ssize_t b = block_of(ni, cidr);
		sk_map_del(ni->todo, ev->name);
		if (b >= 0)
			hold(ni, ev->name, (size_t)b);
		else
			release(ni, ev->name); /* outside the cluster CIDR: not ours */
		return;
	}
	/* no CIDR yet; one we handed out and the watch has not shown yet
	 * stays held */
	if (!sk_map_get(ni->held, ev->name))
		sk_map_set(ni->todo, ev->name, sk_strdup(ev->uid ? ev->uid : ""));
}

static ssize_t lowest_free(ctl_node_ipam *ni)
{
	for (size_t i = 0; i < ni->nblocks; i++)
		if (!ni->used[i])
			return (ssize_t)i;
	return -1;
}

static void report_full(ctl_node_ipam *ni, const char *name, const char *uid)
{
	json_t *ref = json_pack("{s:s,s:s,s:{s:s,s:s}}", "apiVersion", "v1", "kind", "Node",
				"metadata", "name", name, "uid", uid);

	/* the node controller's status-change event */
	ctl_eventf(ni->rec, ref, "Normal", "CIDRNotAvailable", "Node %s status is now: %s", name,
		   "CIDRNotAvailable");
	json_decref(ref);
	sk_warn("node ipam: no pod CIDR left for node %s", name);
}

/* Hand a block to one node; false when none is left. */
static bool allocate(ctl_node_ipam *ni, const char *name)
{
	ssize_t b = lowest_free(ni);
	char cidr[64];
	sk_err err = {0};

	if (b < 0)
		return false;
	block_cidr(ni, (size_t)b, cidr, sizeof(cidr));
	hold(ni, name, (size_t)b);
	json_t *patch = json_pack("{s:{s:s,s:[s]}}", "spec", "podCIDR", cidr, "podCIDRs", cidr);
	int r = ni->c->patch(ni->c, nodes_kind(), NULL, name, NULL, "merge", patch, NULL, &err);
	json_decref(patch);
	if (r < 0) {
		/* gone (404), or it got a CIDR some other way (422): the
		 * watch brings what it has */
		release(ni, name);
		if (err.code != 404 && err.code != 422)
			sk_warn("node ipam: set the pod CIDR of node %s: %s", name, err.msg);
		return true;
	}
	sk_info("node ipam: node %s gets pod CIDR %s", name, cidr);
	return true;
}

static void work(ctl_node_ipam *ni)
{
	char **names = NULL;
	sk_map_iter it = {0};
	const char *k;

	while (sk_map_next(ni->todo, &it, &k, NULL))
		names = sk_strv_push(names, k);
	for (char **n = names; n && *n && !atomic_load(&ni->stop); n++) {
		if (allocate(ni, *n)) {
			sk_map_del(ni->todo, *n);
		} else if (!ni->full_reported) {
			report_full(ni, *n, sk_map_get(ni->todo, *n));
			ni->full_reported = true;
		}
	}
	sk_strv_free(names);
}

static void *ipam_main(void *arg)
{
	ctl_node_ipam *ni = arg;
	ctl_event ev;

	pthread_setname_np(pthread_self(), "ctl-nodeipam");
	while (!atomic_load(&ni->stop)) {
		int r = ni->c->next(ni->c, ni->watch, &ev, 2000);
		if (r < 0) {
			sk_err err = {0};
			if (atomic_load(&ni->stop))
				break;
			ni->c->watch_close(ni->c, ni->watch);
			ni->watch = NULL;
			sk_map_clear(ni->held);
			sk_map_clear(ni->todo);
			memset(ni->used, 0, ni->nblocks * sizeof(*ni->used));
			ni->synced = false;
			if (ni->c->watch(ni->c, NULL, &ni->watch, &err) < 0) {
				sk_warn("node ipam: watch: %s", err.msg);
				break;
			}
			continue;
		}
		while (r > 0) {
			handle(ni, &ev);
			ctl_event_clear(&ev);
			r = ni->c->next(ni->c, ni->watch, &ev, 0);
		}
		if (ni->synced && sk_map_len(ni->todo))
			work(ni);
	}
	return NULL;
}

int ctl_node_ipam_start(ctl_client *c, const char *cluster_cidr, int mask_bits, ctl_node_ipam **out,
			sk_err *err)
{
	ctl_node_ipam *ni;
	uint32_t net;
	int prefix, r;

	if (!cluster_cidr)
		cluster_cidr = CTL_DEFAULT_CLUSTER_CIDR;
	if (!mask_bits)
		mask_bits = CTL_DEFAULT_NODE_CIDR_BITS;
	if (parse_cidr(cluster_cidr, &net, &prefix) < 0)
		return sk_err_set(err, EINVAL, "%s: not an IPv4 network in CIDR notation",
				  cluster_cidr);
	if (mask_bits < prefix || mask_bits > 30 || mask_bits - prefix > MAX_BLOCK_BITS)
		return sk_err_set(err, EINVAL,
				  "%s: node CIDRs of /%d need a cluster CIDR between /%d and /%d",
				  cluster_cidr, mask_bits, mask_bits - MAX_BLOCK_BITS, mask_bits);
	ni = sk_calloc(1, sizeof(*ni));
	ni->c = c;
	ni->base = net;
	ni->prefix = prefix;
	ni->mask_bits = mask_bits;
	ni->nblocks = (size_t)1 << (mask_bits - prefix);
	ni->used = sk_calloc(ni->nblocks, sizeof(*ni->used));
	ni->held = sk_map_new(NULL);
	ni->todo = sk_map_new(free);
	ni->rec = ctl_recorder_new(c, "node-controller");
	if (c->watch(c, NULL, &ni->watch, err) < 0) {
		ctl_node_ipam_stop(ni);
		return sk_err_wrap(err, "node ipam: watch");
	}
	r = pthread_create(&ni->thread, NULL, ipam_main, ni);
	if (r != 0) {
		ctl_node_ipam_stop(ni);
		return sk_err_sys(err, r, "node ipam: start its thread");
	}
	ni->started = true;
	*out = ni;
	return 0;
}

void ctl_node_ipam_stop(ctl_node_ipam *ni)
{
	if (!ni)
		return;
	atomic_store(&ni->stop, true);
	if (ni->watch)
		ni->c->watch_stop(ni->c, ni->watch);
	if (ni->started)
		pthread_join(ni->thread, NULL);
	if (ni->watch)
		ni->c->watch_close(ni->c, ni->watch);
	sk_map_free(ni->held);
	sk_map_free(ni->todo);
	ctl_recorder_free(ni->rec);
	free(ni->used);
	free(ni);
}
