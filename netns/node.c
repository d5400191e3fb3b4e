/* The node network and each pod's part of it: the order of the set-up
 * steps, the state kept per pod (<state>/net/pods/<uid>), and a teardown
 * that works from whatever part of that state exists. */
#include "net_internal.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <sys/mount.h>
#include <unistd.h>

static int parse_cidr_field(const char *field, const char *text, struct net_cidr *out, sk_err *err)
{
	if (net_cidr_parse(text, out, err) < 0)
		return sk_err_wrap(err, "%s", field);
	return 0;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ' ' || s[i] == ':' || (unsigned char)s[i] < 0x21)
			return false;
	return true;
}

static bool valid_table_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return s[0] < '0' || s[0] > '9';
}

static int check_cidrs(net_node *n, sk_err *err)
{
	if (n->pod_cidr.prefix > 30)
		return sk_err_set(err, EINVAL,
				  "pod CIDR: /%d leaves no address for pods (at most /30)",
				  n->pod_cidr.prefix);
	if (n->cluster_cidr.prefix > n->pod_cidr.prefix ||
	    !net_cidr_contains(&n->cluster_cidr, n->pod_cidr.addr))
		return sk_err_set(err, EINVAL, "pod CIDR: not inside the cluster CIDR");
	if (net_cidr_contains(&n->cluster_cidr, n->service_cidr.addr) ||
	    net_cidr_contains(&n->service_cidr, n->cluster_cidr.addr))
		return sk_err_set(err, EINVAL, "service CIDR: overlaps the cluster CIDR");
	return 0;
}

int net_node_open(const struct net_node_config *cfg, net_node **out, sk_err *err)
{
	_cleanup_net_node_ net_node *n = sk_calloc(1, sizeof(*n));
	const char *dom = cfg->cluster_domain ? cfg->cluster_domain : "cluster.local";

	n->state_dir = sk_strdup(cfg->state_dir ? cfg->state_dir : "/run/skiff");
	n->bridge = sk_strdup(cfg->bridge ? cfg->bridge : "skiff0");
	n->table = sk_strdup(cfg->table ? cfg->table : "skiff");
	n->domain = sk_strdup(dom);
	n->net_dir = sk_path_join(n->state_dir, "net");
	n->netns_dir = sk_path_join(n->state_dir, "netns");
	if (!valid_ifname(n->bridge))
		return sk_err_set(err, EINVAL,
				  "bridge: \"%s\": not an interface name (1-15 characters)",
				  n->bridge);
	if (!valid_table_name(n->table))
		return sk_err_set(err, EINVAL, "table: \"%s\": not an nftables table name",
				  n->table);
	if (parse_cidr_field("pod CIDR", cfg->pod_cidr ? cfg->pod_cidr : "10.88.0.0/24",
			     &n->pod_cidr, err) < 0 ||
	    parse_cidr_field("cluster CIDR", cfg->cluster_cidr ? cfg->cluster_cidr : "10.88.0.0/16",
			     &n->cluster_cidr, err) < 0 ||
	    parse_cidr_field("service CIDR", cfg->service_cidr ? cfg->service_cidr : "10.96.0.0/12",
			     &n->service_cidr, err) < 0)
		return -1;
	if (check_cidrs(n, err) < 0)
		return -1;
	n->gateway = n->pod_cidr.addr + 1;
	*out = move_ptr(n);
	return 0;
}

void net_node_free(net_node *n)
{
	if (!n)
		return;
	if (n->nft)
		nft_ctx_free(n->nft);
	free(n->state_dir);
	free(n->bridge);
	free(n->table);
	free(n->domain);
	free(n->net_dir);
	free(n->netns_dir);
	free(n);
}

void net_node_freep(net_node **n)
{
	net_node_free(*n);
}

void net_node_gateway(const net_node *node, char *buf, size_t n)
{
	net_ip_format(node->gateway, buf, n);
}

int net_node_up(net_node *node, sk_err *err)
{
	_cleanup_free_ char *up_stamp = sk_path_join(node->net_dir, "up");

	if (sk_mkdir_p(node->net_dir, 0700, err) < 0)
		return -1;
	if (net_link_bridge_up(node, err) < 0)
		return -1;
	if (net_sysctl_set("/proc/sys/net/ipv4/ip_forward", "1", err) < 0)
		return sk_err_wrap(err, "enable IP forwarding");
	/* Pods on one bridge talk at layer 2; a reply from a Service's
	 * endpoint to a pod on the same bridge must still pass conntrack to
	 * be un-DNATed, as kube-proxy requires of every node. */
	if (sk_path_exists("/proc/sys/net/bridge/bridge-nf-call-iptables") &&
	    net_sysctl_set("/proc/sys/net/bridge/bridge-nf-call-iptables", "1", err) < 0)
		return sk_err_wrap(err, "pass bridged traffic through netfilter");
	if (net_nft_table_up(node, err) < 0)
		return -1;
	return net_write_state(up_stamp, "up\n", err);
}

/* The node network is up and was made by this state dir: net_node_up left
 * its stamp (which net_node_cleanup removes) and the bridge is there. */
int net_node_ensure(net_node *node, sk_err *err)
{
	_cleanup_free_ char *up_stamp = sk_path_join(node->net_dir, "up");

	if (sk_path_exists(up_stamp) && if_nametoindex(node->bridge) != 0)
		return 0;
	return net_node_up(node, err);
}

/* ---- pods -------------------------------------------------------------- */

static bool valid_uid(const char *uid)
{
	size_t n = uid ? strlen(uid) : 0;

	if (n == 0 || n > 128 || !strcmp(uid, ".") || !strcmp(uid, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((uid[i] >= 'a' && uid[i] <= 'z') || (uid[i] >= 'A' && uid[i] <= 'Z') ||
		      (uid[i] >= '0' && uid[i] <= '9') || uid[i] == '-' || uid[i] == '_' ||
		      uid[i] == '.'))
			return false;
	return true;
}

static char *pod_state_path(net_node *node, const char *uid)
{
	return sk_asprintf("%s/pods/%s", node->net_dir, uid);
}

/* The host end of the veth, named from the pod's uid (IFNAMSIZ is 16). */
static void host_veth_name(const char *uid, char *buf, size_t n)
{
	snprintf(buf, n, "sk%012llx", (unsigned long long)(net_hash64(uid) & 0xffffffffffffull));
}

static int check_host_ports(const struct net_pod_config *cfg, sk_err *err)
{
	for (size_t i = 0; i < cfg->n_host_ports; i++) {
		const struct net_host_port *p = &cfg->host_ports[i];
		if (p->protocol != IPPROTO_TCP && p->protocol != IPPROTO_UDP)
			return sk_err_set(err, EINVAL,
					  "hostPorts[%zu].protocol: must be TCP or UDP", i);
		if (p->host_port == 0 || p->container_port == 0)
			return sk_err_set(err, EINVAL, "hostPorts[%zu]: port must be 1-65535", i);
	}
	return 0;
}

static void host_port_cmds(net_node *node, const char *verb, const char *ip,
			   const struct net_host_port *p, size_t n, sk_buf *b)
{
	for (size_t i = 0; i < n; i++)
		sk_buf_printf(b, "%s element ip %s hostports { %s . %u : %s . %u }\n", verb,
			      node->table, net_proto_name(p[i].protocol), p[i].host_port, ip,
			      p[i].container_port);
	/* every pod: a pod reaching itself through a Service or hostPort is
	 * masqueraded, or its own reply would come from its own address */
	sk_buf_printf(b, "%s element ip %s pod-hairpin { %s . %s }\n", verb, node->table, ip, ip);
}

static int pod_state_write(net_node *node, const char *uid, const struct net_pod *pod,
			   const struct net_pod_config *cfg, sk_err *err)
{
	_cleanup_free_ char *path = pod_state_path(node, uid);
	_cleanup_free_ char *dir = sk_path_join(node->net_dir, "pods");
	_cleanup_buf_ sk_buf b = {0};

	sk_buf_init(&b);
	sk_buf_printf(&b, "ip %s\nveth %s\n", pod->ip, pod->host_veth);
	for (size_t i = 0; i < cfg->n_host_ports; i++)
		sk_buf_printf(&b, "hostport %s %u %u\n",
			      net_proto_name(cfg->host_ports[i].protocol),
			      cfg->host_ports[i].host_port, cfg->host_ports[i].container_port);
	if (sk_mkdir_p(dir, 0700, err) < 0)
		return -1;
	return net_write_state(path, b.data, err);
}

struct pod_state {
	struct net_pod pod;
	struct net_host_port ports[64];
	size_t n_ports;
};

static int pod_state_read(net_node *node, const char *uid, struct pod_state *st, sk_err *err)
{
	_cleanup_free_ char *path = pod_state_path(node, uid);
	_cleanup_free_ char *text = NULL;
	char *save = NULL;

	memset(st, 0, sizeof(*st));
	if (sk_read_file(path, 16384, &text, NULL, err) < 0)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char proto[8];
		unsigned hp, cp;
		if (sscanf(line, "ip %15s", st->pod.ip) == 1 ||
		    sscanf(line, "veth %15s", st->pod.host_veth) == 1)
			continue;
		if (sscanf(line, "hostport %7s %u %u", proto, &hp, &cp) == 3 &&
		    st->n_ports < SK_ARRAY_SIZE(st->ports))
			st->ports[st->n_ports++] = (struct net_host_port){
				.protocol = strcmp(proto, "udp") ? IPPROTO_TCP : IPPROTO_UDP,
				.host_port = (uint16_t)hp,
				.container_port = (uint16_t)cp};
	}
	net_ip_format(node->gateway, st->pod.gateway, sizeof(st->pod.gateway));
	snprintf(st->pod.netns_path, sizeof(st->pod.netns_path), "%s/%s", node->netns_dir, uid);
	return 0;
}

int net_pod_get(net_node *node, const char *uid, struct net_pod *out, sk_err *err)
{
	struct pod_state st;

	if (!valid_uid(uid))
		return sk_err_set(err, EINVAL, "pod uid \"%s\": not a valid uid", uid ? uid : "");
	if (pod_state_read(node, uid, &st, err) < 0)
		return -1;
	*out = st.pod;
	return 0;
}

static int pod_setup_steps(net_node *node, const struct net_pod_config *cfg, struct net_pod *pod,
			   uint32_t *ip, sk_err *err)
{
	_cleanup_buf_ sk_buf cmds = {0};

	if (net_ipam_claim(node, cfg->uid, ip, err) < 0)
		return -1;
	net_ip_format(*ip, pod->ip, sizeof(pod->ip));
	/* written first, so a teardown after a crash half-way knows the IP */
	if (pod_state_write(node, cfg->uid, pod, cfg, err) < 0)
		return -1;
	if (net_netns_create(pod->netns_path, err) < 0)
		return -1;
	if (net_link_pod_setup(node, pod->netns_path, pod->host_veth, *ip, err) < 0)
		return -1;
	host_port_cmds(node, "create", pod->ip, cfg->host_ports, cfg->n_host_ports, &cmds);
	if (net_nft_run(node, cmds.data, err) < 0)
		return sk_err_wrap(err, "hostPorts (is a host port already taken?)");
	return 0;
}

int net_pod_setup(net_node *node, const struct net_pod_config *cfg, struct net_pod *out,
		  sk_err *err)
{
	struct net_pod pod = {0};
	uint32_t ip = 0;
	sk_err ignored;

	if (!valid_uid(cfg->uid))
		return sk_err_set(err, EINVAL, "pod uid \"%s\": not a valid uid",
				  cfg->uid ? cfg->uid : "");
	if (check_host_ports(cfg, err) < 0)
		return sk_err_wrap(err, "pod %s", cfg->uid);
	if (net_pod_get(node, cfg->uid, out, &ignored) == 0)
		return 0;
	snprintf(pod.netns_path, sizeof(pod.netns_path), "%s/%s", node->netns_dir, cfg->uid);
	host_veth_name(cfg->uid, pod.host_veth, sizeof(pod.host_veth));
	net_ip_format(node->gateway, pod.gateway, sizeof(pod.gateway));
	if (pod_setup_steps(node, cfg, &pod, &ip, err) < 0) {
		net_pod_teardown(node, cfg->uid, &ignored);
		return sk_err_wrap(err, "pod %s network", cfg->uid);
	}
	*out = pod;
	return 0;
}

/* Delete the hostPort elements in one transaction; when some are gone
 * already the transaction fails as a whole, so retry one by one. */
static void host_ports_remove(net_node *node, const struct pod_state *st)
{
	_cleanup_buf_ sk_buf cmds = {0};
	sk_err ignored;

	if (!st->pod.ip[0])
		return;
	host_port_cmds(node, "delete", st->pod.ip, st->ports, st->n_ports, &cmds);
	if (net_nft_run(node, cmds.data, &ignored) == 0)
		return;
	for (size_t i = 0; i < st->n_ports; i++) {
		sk_buf_reset(&cmds);
		sk_buf_printf(&cmds, "delete element ip %s hostports { %s . %u }\n", node->table,
			      net_proto_name(st->ports[i].protocol), st->ports[i].host_port);
		net_nft_run(node, cmds.data, &ignored);
	}
	sk_buf_reset(&cmds);
	sk_buf_printf(&cmds, "delete element ip %s pod-hairpin { %s . %s }\n", node->table,
		      st->pod.ip, st->pod.ip);
	net_nft_run(node, cmds.data, &ignored);
}

int net_pod_teardown(net_node *node, const char *uid, sk_err *err)
{
	_cleanup_free_ char *state = NULL, *netns = NULL;
	struct pod_state st;
	char veth[16];
	uint32_t ip;
	sk_err ignored;

	if (!valid_uid(uid))
		return sk_err_set(err, EINVAL, "pod uid \"%s\": not a valid uid", uid ? uid : "");
	state = pod_state_path(node, uid);
	netns = sk_asprintf("%s/%s", node->netns_dir, uid);
	host_veth_name(uid, veth, sizeof(veth));
	if (pod_state_read(node, uid, &st, &ignored) == 0)
		host_ports_remove(node, &st);
	/* The veth pair goes with the netns: when the bind mount was its last
	 * reference, the kernel destroys the namespace and its links in a
	 * worker, batching the RCU grace periods that an explicit delete of
	 * each link would wait for here (30 ms a pod on this kernel). Taking
	 * the address off first means a process that still holds the
	 * namespace cannot answer for an IP handed to the next pod. The
	 * explicit delete is kept for a pod whose netns is already gone. */
	if (!sk_path_exists(netns) && net_link_delete(veth, err) < 0)
		return sk_err_wrap(err, "pod %s network", uid);
	if (net_link_pod_unaddress(netns, err) < 0 || net_netns_remove(netns, err) < 0)
		return sk_err_wrap(err, "pod %s network", uid);
	if (st.pod.ip[0] && net_ip_parse(st.pod.ip, &ip, &ignored) == 0 &&
	    net_ipam_release(node, uid, ip, err) < 0)
		return sk_err_wrap(err, "pod %s network", uid);
	if (unlink(state) < 0 && errno != ENOENT)
		return sk_err_sys(err, errno, "remove %s", state);
	return 0;
}

/* ---- resolv.conf ---------------------------------------------------------- */

int net_resolv_conf(const net_node *node, const char *ns, enum net_dns_policy policy, char **out,
		    sk_err *err)
{
	char gw[16];

	if (policy == NET_DNS_DEFAULT) {
		if (sk_read_file("/etc/resolv.conf", 65536, out, NULL, err) < 0)
			return sk_err_wrap(err, "host resolver configuration");
		return 0;
	}
	if (!net_is_dns_label(ns))
		return sk_err_set(err, EINVAL, "namespace \"%s\": not a DNS label", ns);
	net_ip_format(node->gateway, gw, sizeof(gw));
	*out = sk_asprintf("nameserver %s\nsearch %s.svc.%s svc.%s %s\noptions ndots:5\n", gw, ns,
			   node->domain, node->domain, node->domain);
	return 0;
}

/* ---- cleanup ---------------------------------------------------------------- */

static void pods_teardown_all(net_node *node)
{
	_cleanup_free_ char *dir = sk_path_join(node->net_dir, "pods");
	_cleanup_strv_ char **uids = sk_calloc(1, sizeof(char *));
	DIR *d = opendir(dir);
	struct dirent *e;
	sk_err ignored;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			uids = sk_strv_push(uids, e->d_name);
	if (d)
		closedir(d);
	for (size_t i = 0; uids[i]; i++)
		net_pod_teardown(node, uids[i], &ignored);
}

/* Netns mounts whose pod state went missing (a crash between steps). */
static void netns_remove_all(net_node *node)
{
	DIR *d = opendir(node->netns_dir);
	struct dirent *e;
	sk_err ignored;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = sk_path_join(node->netns_dir, e->d_name);
		net_netns_remove(p, &ignored);
	}
	if (d)
		closedir(d);
}

int net_node_cleanup(net_node *node, sk_err *err)
{
	_cleanup_strv_ char **ports = NULL;
	sk_err ignored;

	pods_teardown_all(node);
	if (net_link_list_bridge_ports(node, &ports, &ignored) == 0)
		for (size_t i = 0; ports[i]; i++)
			if (sk_startswith(ports[i], "sk"))
				net_link_delete(ports[i], &ignored);
	netns_remove_all(node);
	if (sk_path_exists(node->netns_dir)) {
		umount2(node->netns_dir, MNT_DETACH);
		rmdir(node->netns_dir);
	}
	if (net_nft_table_delete(node, err) < 0)
		return -1;
	if (net_link_delete(node->bridge, err) < 0)
		return sk_err_wrap(err, "bridge");
	if (sk_rm_rf(node->net_dir, err) < 0)
		return -1;
	return 0;
}

/* Whether dir holds an entry other than those named in keep. */
static bool dir_in_use(const char *dir, const char *const *keep)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool used = false;

	while (d && !used && (e = readdir(d))) {
		used = e->d_name[0] != '.';
		for (size_t i = 0; used && keep[i]; i++)
			used = strcmp(e->d_name, keep[i]) != 0;
	}
	if (d)
		closedir(d);
	return used;
}

int net_node_release(net_node *node, sk_err *err)
{
	static const char *const none[] = {NULL}, *const ipam_files[] = {"lock", "last", NULL};
	_cleanup_free_ char *pods = sk_path_join(node->net_dir, "pods");
	_cleanup_free_ char *ipam = sk_path_join(node->net_dir, "ipam");
	_cleanup_free_ char *services = sk_path_join(node->net_dir, "services");
	_cleanup_close_ int lock = -1;

	if (!sk_path_exists(node->net_dir))
		return 0;
	/* Under the IPAM lock: a pod being set up elsewhere claims its address
	 * first, so it is either seen here or finds the network gone and
	 * fails with a clear error, never half-made. */
	if (net_ipam_lock(node, &lock, err) < 0)
		return -1;
	if (dir_in_use(pods, none) || dir_in_use(ipam, ipam_files) || dir_in_use(services, none) ||
	    dir_in_use(node->netns_dir, none))
		return 0;
	return net_node_cleanup(node, err) < 0 ? -1 : 1;
}
