/* Links, addresses and routes through libnl-route, and pod network
 * namespaces kept alive by bind mounts (as `ip netns` does). */
#include "net_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void nl_sock_freep(struct nl_sock **s)
{
	if (*s)
		nl_socket_free(*s);
}
static void link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}
static void addr_putp(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}
static void rtaddr_putp(struct rtnl_addr **a)
{
	if (*a)
		rtnl_addr_put(*a);
}
static void route_putp(struct rtnl_route **r)
{
	if (*r)
		rtnl_route_put(*r);
}
static void cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}
#define _cleanup_nlsock_ _cleanup_(nl_sock_freep)
#define _cleanup_link_ _cleanup_(link_putp)
#define _cleanup_nladdr_ _cleanup_(addr_putp)
#define _cleanup_rtaddr_ _cleanup_(rtaddr_putp)
#define _cleanup_route_ _cleanup_(route_putp)
#define _cleanup_cache_ _cleanup_(cache_freep)

/* libnl returns negative NLE_* codes; keep a matching errno for callers. */
static int nl_fail(sk_err *err, int nlerr, const char *what)
{
	int code = nlerr == -NLE_EXIST ? EEXIST : nlerr == -NLE_OBJ_NOTFOUND ? ENOENT : EIO;

	return sk_err_set(err, code, "%s: %s", what, nl_geterror(nlerr));
}

static int nl_open(struct nl_sock **out, sk_err *err)
{
	struct nl_sock *s = nl_socket_alloc();
	int ret;

	if (!s)
		return sk_err_set(err, ENOMEM, "netlink socket");
	ret = nl_connect(s, NETLINK_ROUTE);
	if (ret < 0) {
		nl_socket_free(s);
		return nl_fail(err, ret, "netlink connect");
	}
	*out = s;
	return 0;
}

int net_sysctl_set(const char *path, const char *value, sk_err *err)
{
	return sk_write_string(path, value, err);
}

static int link_get(struct nl_sock *s, const char *name, struct rtnl_link **out, sk_err *err)
{
	int ret = rtnl_link_get_kernel(s, 0, name, out);

	if (ret < 0)
		return sk_err_set(err, ret == -NLE_OBJ_NOTFOUND || ret == -NLE_NODEV ? ENOENT : EIO,
				  "link %s: %s", name, nl_geterror(ret));
	return 0;
}

static int link_set_up(struct nl_sock *s, struct rtnl_link *link, sk_err *err)
{
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	int ret;

	rtnl_link_set_flags(change, IFF_UP);
	ret = rtnl_link_change(s, link, change, 0);
	if (ret < 0)
		return nl_fail(err, ret, "set link up");
	return 0;
}

/* Add ip/prefix to a link; an address already there is fine. */
static int addr_add(struct nl_sock *s, int ifindex, uint32_t ip, int prefix, sk_err *err)
{
	_cleanup_rtaddr_ struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_nladdr_ struct nl_addr *local = NULL;
	char text[32], ipbuf[16];
	int ret;

	net_ip_format(ip, ipbuf, sizeof(ipbuf));
	snprintf(text, sizeof(text), "%s/%d", ipbuf, prefix);
	ret = nl_addr_parse(text, AF_INET, &local);
	if (ret < 0)
		return nl_fail(err, ret, text);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	ret = rtnl_addr_add(s, a, 0);
	if (ret < 0 && ret != -NLE_EXIST)
		return nl_fail(err, ret, text);
	return 0;
}

/* dst via gw (gw 0: on-link, scope link) on ifindex; existing is fine. */
static int route_add(struct nl_sock *s, int ifindex, const char *dst_text, uint32_t gw, sk_err *err)
{
	_cleanup_route_ struct rtnl_route *r = rtnl_route_alloc();
	_cleanup_nladdr_ struct nl_addr *dst = NULL;
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	int ret;

	ret = nl_addr_parse(dst_text, AF_INET, &dst);
	if (ret < 0) {
		rtnl_route_nh_free(nh);
		return nl_fail(err, ret, dst_text);
	}
	rtnl_route_set_family(r, AF_INET);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_protocol(r, RTPROT_STATIC);
	rtnl_route_set_dst(r, dst);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (gw) {
		_cleanup_nladdr_ struct nl_addr *gwa =
			nl_addr_build(AF_INET, &(uint32_t){htonl(gw)}, 4);
		rtnl_route_nh_set_gateway(nh, gwa);
		rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
	} else {
		rtnl_route_set_scope(r, RT_SCOPE_LINK);
	}
	rtnl_route_add_nexthop(r, nh); /* the route owns nh now */
	ret = rtnl_route_add(s, r, NLM_F_CREATE);
	if (ret < 0 && ret != -NLE_EXIST)
		return nl_fail(err, ret, "add route");
	return 0;
}

/* A fixed MAC for the bridge: otherwise it takes the lowest port's, and
 * the pods' cached gateway MAC goes stale whenever that pod leaves. */
static void bridge_mac(const char *name, uint8_t mac[6])
{
	uint64_t h = net_hash64(name);

	mac[0] = 0x02; /* locally administered, unicast */
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

static int bridge_create(struct nl_sock *s, const char *name, sk_err *err)
{
	_cleanup_link_ struct rtnl_link *br = rtnl_link_bridge_alloc();
	_cleanup_nladdr_ struct nl_addr *mac = NULL;
	uint8_t macb[6];
	int ret;

	bridge_mac(name, macb);
	mac = nl_addr_build(AF_LLC, macb, sizeof(macb));
	rtnl_link_set_name(br, name);
	rtnl_link_set_addr(br, mac);
	ret = rtnl_link_add(s, br, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0 && ret != -NLE_EXIST)
		return nl_fail(err, ret, "create bridge");
	return 0;
}

int net_link_bridge_up(net_node *node, sk_err *err)
{
	_cleanup_nlsock_ struct nl_sock *s = NULL;
	_cleanup_link_ struct rtnl_link *br = NULL;
	char svc[32], ipbuf[16];
	int idx;

	if (nl_open(&s, err) < 0)
		return -1;
	if (bridge_create(s, node->bridge, err) < 0 || link_get(s, node->bridge, &br, err) < 0)
		return sk_err_wrap(err, "bridge %s", node->bridge);
	if (!rtnl_link_get_type(br) || strcmp(rtnl_link_get_type(br), "bridge") != 0)
		return sk_err_set(err, EEXIST, "bridge %s: a link of another kind has that name",
				  node->bridge);
	idx = rtnl_link_get_ifindex(br);
	if (link_set_up(s, br, err) < 0 ||
	    addr_add(s, idx, node->gateway, node->pod_cidr.prefix, err) < 0)
		return sk_err_wrap(err, "bridge %s", node->bridge);
	net_ip_format(node->service_cidr.addr, ipbuf, sizeof(ipbuf));
	snprintf(svc, sizeof(svc), "%s/%d", ipbuf, node->service_cidr.prefix);
	if (route_add(s, idx, svc, 0, err) < 0)
		return sk_err_wrap(err, "bridge %s: route to the service CIDR %s", node->bridge,
				   svc);
	return 0;
}

int net_link_delete(const char *name, sk_err *err)
{
	_cleanup_nlsock_ struct nl_sock *s = NULL;
	_cleanup_link_ struct rtnl_link *l = rtnl_link_alloc();
	int ret;

	if (nl_open(&s, err) < 0)
		return -1;
	rtnl_link_set_name(l, name);
	ret = rtnl_link_delete(s, l);
	if (ret < 0 && ret != -NLE_OBJ_NOTFOUND && ret != -NLE_NODEV)
		return nl_fail(err, ret, name);
	return 0;
}

int net_link_list_bridge_ports(net_node *node, char ***names, sk_err *err)
{
	_cleanup_nlsock_ struct nl_sock *s = NULL;
	_cleanup_cache_ struct nl_cache *cache = NULL;
	char **v = sk_calloc(1, sizeof(char *));
	int ret, bridx;

	if (nl_open(&s, err) < 0) {
		free(v);
		return -1;
	}
	ret = rtnl_link_alloc_cache(s, AF_UNSPEC, &cache);
	if (ret < 0) {
		free(v);
		return nl_fail(err, ret, "list links");
	}
	bridx = rtnl_link_name2i(cache, node->bridge);
	for (struct nl_object *o = nl_cache_get_first(cache); o && bridx > 0;
	     o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		if (rtnl_link_get_master(l) == bridx)
			v = sk_strv_push(v, rtnl_link_get_name(l));
	}
	*names = v;
	return 0;
}

/* ---- network namespaces ---------------------------------------------- */

/* Make the netns directory a shared mount, as `ip netns` does, so that
 * unmounting a pod's netns here also unmounts the copies that mount
 * namespaces created later (containers) would otherwise keep alive. */
static int netns_dir_prepare(const char *dir, sk_err *err)
{
	if (sk_mkdir_p(dir, 0755, err) < 0)
		return -1;
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return sk_err_sys(err, errno, "make %s shared", dir);
	if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
		return sk_err_sys(err, errno, "bind mount %s", dir);
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0)
		return sk_err_sys(err, errno, "make %s shared", dir);
	return 0;
}

/* Switch the calling thread back to a saved netns; failing here would leave
 * the process configuring the wrong network, so it is fatal. */
static void netns_restore(int saved)
{
	if (setns(saved, CLONE_NEWNET) < 0) {
		sk_error("setns back to the node's network namespace: %s", strerror(errno));
		abort();
	}
}

int net_netns_create(const char *path, sk_err *err)
{
	_cleanup_free_ char *dir = sk_strdup(path);
	_cleanup_close_ int saved = -1, fd = -1;
	int ret = 0;

	*strrchr(dir, '/') = '\0';
	if (netns_dir_prepare(dir, err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return sk_err_sys(err, errno, "create %s", path);
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		ret = sk_err_sys(err, errno, "open own netns");
	else if (unshare(CLONE_NEWNET) < 0)
		ret = sk_err_sys(err, errno, "unshare network namespace");
	else {
		if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
			ret = sk_err_sys(err, errno, "bind mount netns at %s", path);
		netns_restore(saved);
	}
	if (ret < 0)
		unlink(path);
	return ret;
}

int net_netns_remove(const char *path, sk_err *err)
{
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return sk_err_sys(err, errno, "unmount %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return sk_err_sys(err, errno, "remove %s", path);
	return 0;
}

/* A netlink socket that lives in the netns at path (a socket keeps the
 * namespace it was created in). */
static int nl_open_in(const char *path, struct nl_sock **out, sk_err *err)
{
	_cleanup_close_ int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (saved < 0 || fd < 0)
		return sk_err_sys(err, errno, "open netns %s", path);
	if (setns(fd, CLONE_NEWNET) < 0)
		return sk_err_sys(err, errno, "enter netns %s", path);
	ret = nl_open(out, err);
	netns_restore(saved);
	return ret;
}

/* Hairpin mode on the pod's bridge port: a pod that reaches its own
 * Service or hostPort is DNATed back to itself, and with bridged traffic
 * passing netfilter the frame must leave by the port it came in on (the
 * kubelet's hairpin-veth mode). */
static int bridge_port_hairpin(struct nl_sock *s, const char *name, sk_err *err)
{
	_cleanup_link_ struct rtnl_link *port = NULL;
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	int ret;

	if (link_get(s, name, &port, err) < 0)
		return -1;
	rtnl_link_set_family(port, AF_BRIDGE);
	rtnl_link_set_family(change, AF_BRIDGE);
	rtnl_link_bridge_set_flags(change, RTNL_BRIDGE_HAIRPIN_MODE);
	ret = rtnl_link_change(s, port, change, 0);
	if (ret < 0)
		return nl_fail(err, ret, "hairpin mode");
	return 0;
}

static int veth_create(struct nl_sock *s, const char *host, int netns_fd, int bridx, sk_err *err)
{
	_cleanup_link_ struct rtnl_link *veth = rtnl_link_veth_alloc();
	_cleanup_link_ struct rtnl_link *peer = NULL;
	int ret;

	if (!veth)
		return sk_err_set(err, ENOMEM, "veth");
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, host);
	rtnl_link_set_master(veth, bridx);
	rtnl_link_set_flags(veth, IFF_UP);
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_ns_fd(peer, netns_fd);
	ret = rtnl_link_add(s, veth, NLM_F_CREATE | NLM_F_EXCL);
	if (ret == -NLE_EXIST) {
		/* A pod of the same uid was torn down a moment ago: its veth
		 * goes with its netns in a kernel worker and may still be
		 * here. The name is this pod's own, so the link is a leftover:
		 * delete it now and try once more. */
		if (net_link_delete(host, err) < 0)
			return sk_err_wrap(err, "remove the leftover veth");
		ret = rtnl_link_add(s, veth, NLM_F_CREATE | NLM_F_EXCL);
	}
	if (ret < 0)
		return nl_fail(err, ret, "create veth pair");
	return bridge_port_hairpin(s, host, err);
}

/* Inside the pod: lo and eth0 up, the pod IP, the default route. */
static int pod_side_setup(net_node *node, const char *netns_path, uint32_t ip, sk_err *err)
{
	_cleanup_nlsock_ struct nl_sock *s = NULL;
	_cleanup_link_ struct rtnl_link *lo = NULL, *eth0 = NULL;
	int idx;

	if (nl_open_in(netns_path, &s, err) < 0)
		return -1;
	if (link_get(s, "lo", &lo, err) < 0 || link_set_up(s, lo, err) < 0)
		return sk_err_wrap(err, "lo");
	if (link_get(s, "eth0", &eth0, err) < 0)
		return -1;
	idx = rtnl_link_get_ifindex(eth0);
	if (addr_add(s, idx, ip, node->pod_cidr.prefix, err) < 0 || link_set_up(s, eth0, err) < 0 ||
	    route_add(s, idx, "0.0.0.0/0", node->gateway, err) < 0)
		return sk_err_wrap(err, "eth0");
	return 0;
}

int net_link_pod_setup(net_node *node, const char *netns_path, const char *host_veth, uint32_t ip,
		       sk_err *err)
{
	_cleanup_nlsock_ struct nl_sock *s = NULL;
	_cleanup_link_ struct rtnl_link *br = NULL;
	_cleanup_close_ int fd = open(netns_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return sk_err_sys(err, errno, "open netns %s", netns_path);
	if (nl_open(&s, err) < 0 || link_get(s, node->bridge, &br, err) < 0)
		return sk_err_wrap(err, "bridge (is the node network up?)");
	if (veth_create(s, host_veth, fd, rtnl_link_get_ifindex(br), err) < 0)
		return sk_err_wrap(err, "veth %s", host_veth);
	return pod_side_setup(node, netns_path, ip, err);
}

/* Take the pod's addresses off eth0 (inside its netns): cheap, unlike
 * deleting a link, which waits for an RCU grace period in the kernel. */
int net_link_pod_unaddress(const char *netns_path, sk_err *err)
{
	_cleanup_nlsock_ struct nl_sock *s = NULL;
	_cleanup_link_ struct rtnl_link *eth0 = NULL;
	_cleanup_cache_ struct nl_cache *addrs = NULL;
	int ret;

	if (!sk_path_exists(netns_path))
		return 0;
	if (nl_open_in(netns_path, &s, err) < 0)
		return -1;
	if (link_get(s, "eth0", &eth0, err) < 0)
		return err->code == ENOENT ? 0 : -1;
	ret = rtnl_addr_alloc_cache(s, &addrs);
	if (ret < 0)
		return nl_fail(err, ret, "list addresses");
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		if (rtnl_addr_get_ifindex(a) != rtnl_link_get_ifindex(eth0) ||
		    rtnl_addr_get_family(a) != AF_INET)
			continue;
		ret = rtnl_addr_delete(s, a, 0);
		if (ret < 0 && ret != -NLE_NOADDR && ret != -NLE_OBJ_NOTFOUND)
			return nl_fail(err, ret, "remove the pod address");
	}
	return 0;
}
