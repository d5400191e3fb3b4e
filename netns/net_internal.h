/* netns internals shared between the files of the module. */
#ifndef SKIFF_NET_INTERNAL_H
#define SKIFF_NET_INTERNAL_H

#include "netns.h"

struct nft_ctx;

struct net_node {
	char *state_dir;
	char *bridge;
	char *table;
	char *domain;
	struct net_cidr pod_cidr;
	struct net_cidr cluster_cidr;
	struct net_cidr service_cidr;
	uint32_t gateway; /* the pod CIDR's first address, on the bridge */
	char *net_dir;	  /* <state_dir>/net */
	char *netns_dir;  /* <state_dir>/netns */
	struct nft_ctx *nft;
};

/* The fwmark bit that asks the postrouting chain to masquerade (hairpin,
 * NodePorts), as kube-proxy's 0x4000. */
#define NET_MASQ_MARK 0x4000

/* ---- nft.c: libnftables, one transaction per call ---- */
int net_nft_run(net_node *node, const char *cmds, sk_err *err);
int net_nft_table_up(net_node *node, sk_err *err);
int net_nft_table_delete(net_node *node, sk_err *err);
const char *net_proto_name(int protocol);
void net_pick_cmds(net_node *node, size_t n, sk_buf *b);

/* ---- ipam.c ---- */
/* The IPAM lock (an flock; closing *fd releases it). */
int net_ipam_lock(net_node *node, int *fd, sk_err *err);
int net_ipam_claim(net_node *node, const char *uid, uint32_t *ip, sk_err *err);
int net_ipam_release(net_node *node, const char *uid, uint32_t ip, sk_err *err);

/* ---- link.c: libnl-route and the netns mounts ---- */
int net_link_bridge_up(net_node *node, sk_err *err);
int net_link_delete(const char *name, sk_err *err); /* missing is not an error */
int net_netns_create(const char *path, sk_err *err);
int net_netns_remove(const char *path, sk_err *err);
int net_link_pod_setup(net_node *node, const char *netns_path, const char *host_veth, uint32_t ip,
		       sk_err *err);
int net_link_pod_unaddress(const char *netns_path, sk_err *err);
int net_link_list_bridge_ports(net_node *node, char ***names, sk_err *err);
int net_sysctl_set(const char *path, const char *value, sk_err *err);

/* ---- svcstate.c: a Service's saved state, one file each ---- */
int net_svc_save(net_node *node, const struct net_service *svc, sk_err *err);
int net_svc_load(net_node *node, const char *ns, const char *name, struct net_service *out,
		 sk_err *err);
int net_svc_remove(net_node *node, const char *ns, const char *name, sk_err *err);
/* Text form, for the state files and tests. */
char *net_svc_format(const struct net_service *svc);
int net_svc_parse(const char *text, struct net_service *out, sk_err *err);
void net_service_copy(struct net_service *dst, const struct net_service *src);

uint64_t net_hash64(const char *s);
/* Write a state file by temporary name and rename, without fsync. */
int net_write_state(const char *path, const char *text, sk_err *err);
bool net_is_dns_label(const char *s);

#endif
