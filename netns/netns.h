/* netns: the node's pod network (bridge, veth pairs, IPAM, egress NAT,
 * hostPorts), the Service dataplane (nftables verdict maps, as kube-proxy's
 * nftables mode) and the cluster DNS server. Knows nothing of JSON or HTTP:
 * callers translate Pods and Services into the plain structs below.
 * Everything acts on the network namespace the calling thread is in (the
 * node's); skiff's nftables rules live in one table of its own.
 * Prefix: net_. */
#ifndef SKIFF_NETNS_H
#define SKIFF_NETNS_H

#include <netinet/in.h>

#include "../common/common.h"

/* ---- addresses ----------------------------------------------------------- */
struct net_cidr {
	uint32_t addr; /* network address, host byte order */
	int prefix;    /* 0..32 */
};

/* Parse "10.88.0.0/24"; host bits must be zero. Errors name the text. */
int net_cidr_parse(const char *s, struct net_cidr *out, sk_err *err);
/* Parse a dotted IPv4 address into host byte order. */
int net_ip_parse(const char *s, uint32_t *out, sk_err *err);
/* Format a host-byte-order address; buf >= 16. */
void net_ip_format(uint32_t ip, char *buf, size_t n);
bool net_cidr_contains(const struct net_cidr *c, uint32_t ip);

/* ---- the node ------------------------------------------------------------ */
struct net_node_config {
	const char *state_dir; /* IPAM, pod and Service state, netns mounts; default /run/skiff */
	const char *bridge;    /* default "skiff0" */
	const char *pod_cidr;  /* this node's pods; default 10.88.0.0/24 */
	const char *cluster_cidr;   /* all pods of the cluster; default 10.88.0.0/16 */
	const char *service_cidr;   /* ClusterIPs; default 10.96.0.0/12 */
	const char *table;	    /* skiff's nftables table (family ip); default "skiff" */
	const char *cluster_domain; /* default "cluster.local" */
};

typedef struct net_node net_node;

/* Parse and check the configuration; touches nothing in the kernel. */
int net_node_open(const struct net_node_config *cfg, net_node **out, sk_err *err);
void net_node_free(net_node *node);
#define _cleanup_net_node_ _cleanup_(net_node_freep)
void net_node_freep(net_node **node);

/* Bring the node network up (idempotent): bridge with the pod CIDR's first
 * address, IP forwarding, bridged traffic through netfilter, a route for the
 * service CIDR, and skiff's nftables table (egress masquerade, hostPorts,
 * the Service maps). Existing pods and Services are kept. */
int net_node_up(net_node *node, sk_err *err);
/* net_node_up unless it was done already: rewriting the table costs an
 * nftables transaction whose close waits for an RCU grace period (about
 * 20 ms here), too much to pay at every pod start. Trusts what this state
 * dir recorded: a table removed behind skiff's back comes back with the
 * next net_node_up (agent start) or `skiff cleanup`. */
int net_node_ensure(net_node *node, sk_err *err);
/* Remove everything skiff made on this node: every pod network, the table,
 * the bridge, the netns mounts and the IPAM and Service state. Nothing
 * else is touched. Missing pieces are not an error. */
int net_node_cleanup(net_node *node, sk_err *err);
/* net_node_cleanup when nothing uses the node network any more: no pod
 * network, no claimed address, no Service (an agent always feeds the
 * `kubernetes` Service, so its network is never taken away). 1 when it
 * was removed, 0 when it is in use. */
int net_node_release(net_node *node, sk_err *err);

/* The bridge address (pods' gateway and DNS server); buf >= 16. */
void net_node_gateway(const net_node *node, char *buf, size_t n);

/* ---- pods ---------------------------------------------------------------- */
struct net_host_port {
	int protocol;	    /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t host_port; /* on every address of the node */
	uint16_t container_port;
};

struct net_pod_config {
	const char *uid; /* the pod's uid: names the netns mount, the veth, the IP claim */
	const struct net_host_port *host_ports;
	size_t n_host_ports;
};

struct net_pod {
	char netns_path[4096]; /* for the runtime to join (setns) */
	char ip[16];
	char gateway[16];
	char host_veth[16];
};

/* Create the pod's network: a netns (bind-mounted at
 * <state_dir>/netns/<uid>), an IP from IPAM, a veth pair (host end on the
 * bridge, `eth0` inside with the IP and a default route), `lo` up, and its
 * hostPorts. Idempotent for a uid that is already set up. On failure
 * nothing is left. hostNetwork pods do not call this. */
int net_pod_setup(net_node *node, const struct net_pod_config *cfg, struct net_pod *out,
		  sk_err *err);
/* Remove all of it (veth, hostPorts, netns mount, IP claim). Tolerates
 * partial state; a uid that has no network is not an error. */
int net_pod_teardown(net_node *node, const char *uid, sk_err *err);
/* The network of a pod already set up; -1 with ENOENT when there is none. */
int net_pod_get(net_node *node, const char *uid, struct net_pod *out, sk_err *err);

enum net_dns_policy { NET_DNS_CLUSTER_FIRST, NET_DNS_DEFAULT };
/* /etc/resolv.conf content for a pod in namespace ns (caller frees).
 * ClusterFirst: the bridge address, the cluster search path, ndots:5.
 * Default: the host's /etc/resolv.conf. */
int net_resolv_conf(const net_node *node, const char *ns, enum net_dns_policy policy, char **out,
		    sk_err *err);

/* ---- Services ------------------------------------------------------------ */
#define NET_NAME_MAX 64 /* a DNS label, as Kubernetes names are */
#define NET_SVC_MAX_PORTS 32

struct net_service_port {
	char name[NET_NAME_MAX]; /* "" for a Service's single unnamed port */
	int protocol;		 /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;		 /* on the ClusterIP */
	uint16_t target_port;	 /* endpoint port, unless the endpoint gives its own */
	uint16_t node_port;	 /* 0: none */
};

struct net_endpoint {
	char ip[16];
	char hostname[NET_NAME_MAX]; /* optional, for headless DNS names */
	/* the resolved target port for each Service port (same index); 0 means
	 * the port's target_port. Endpoints objects carry these per subset. */
	uint16_t ports[NET_SVC_MAX_PORTS];
};

struct net_service {
	char ns[NET_NAME_MAX];
	char name[NET_NAME_MAX];
	char cluster_ip[16]; /* "" or "None": headless (DNS only, no dataplane) */
	bool affinity_client_ip;
	uint32_t affinity_timeout; /* seconds; 0 = Kubernetes' default 10800 */
	size_t n_ports;
	struct net_service_port ports[NET_SVC_MAX_PORTS];
	size_t n_endpoints;
	struct net_endpoint *endpoints; /* ready endpoints only */
};

void net_service_clear(struct net_service *svc); /* frees endpoints */
/* Check names, addresses (ClusterIP inside the service CIDR), ports (1..65535,
 * NodePorts 30000..32767, no duplicates). Errors name the field. */
int net_service_validate(const net_node *node, const struct net_service *svc, sk_err *err);

/* Set (create or update) a Service with its ready endpoints. Only what
 * changed is touched, in one nftables transaction; the new state is kept
 * in <state_dir>/net/services so later calls (and other processes) diff
 * against it. A ClusterIP or NodePort owned by another Service is an
 * error. */
int net_lb_set_service(net_node *node, const struct net_service *svc, sk_err *err);
/* Replace only the ready endpoints of a Service already set. */
int net_lb_set_endpoints(net_node *node, const char *ns, const char *name,
			 const struct net_endpoint *eps, size_t n, sk_err *err);
int net_lb_delete_service(net_node *node, const char *ns, const char *name, sk_err *err);
/* The Service as last set; -1 with ENOENT when unknown. */
int net_lb_get_service(net_node *node, const char *ns, const char *name, struct net_service *out,
		       sk_err *err);
/* Call fn for every Service set on this node (order unspecified). */
int net_lb_foreach(net_node *node, int (*fn)(const struct net_service *svc, void *data), void *data,
		   sk_err *err);

/* ---- cluster DNS ----------------------------------------------------------- */
typedef struct net_dns net_dns;

struct net_dns_config {
	const char *listen_addr; /* default: 0.0.0.0 */
	uint16_t port;		 /* default 53; UDP and TCP */
	const char *domain;	 /* default "cluster.local" */
	/* forwarders "IP" or "IP:PORT"; NULL: the nameservers of
	 * /etc/resolv.conf (the ones that are not this server) */
	const char *const *upstreams;
	size_t n_upstreams;
	uint32_t ttl; /* default 5 s, as CoreDNS's kubernetes plugin */
};

/* Bind the sockets and register them in loop; the server then runs as
 * the loop runs. Records come from net_dns_set_service. With loop NULL no
 * socket is opened: only net_dns_answer works (tests, fuzzing). */
int net_dns_new(sk_loop *loop, const struct net_dns_config *cfg, net_dns **out, sk_err *err);
void net_dns_free(net_dns *dns);
/* Add or replace the records of a Service: A for the ClusterIP (or for
 * every ready endpoint when headless), SRV for named ports. */
void net_dns_set_service(net_dns *dns, const struct net_service *svc);
void net_dns_delete_service(net_dns *dns, const char *ns, const char *name);
/* Forget every Service (before a full resync). */
void net_dns_clear(net_dns *dns);
/* Answer one query in wire format, without sockets (tests, fuzzing).
 * Returns the reply length, 0 when the packet is dropped (malformed or not
 * a query), or -1 when the name must be forwarded upstream. */
int net_dns_answer(net_dns *dns, const uint8_t *query, size_t len, uint8_t *reply, size_t cap);

#endif
