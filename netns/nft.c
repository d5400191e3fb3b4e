/* skiff's nftables table through libnftables. Every call runs one buffer
 * of commands, which nftables applies as one transaction: all of it or
 * none. The table's base chains hold no per-Service state, so bringing the
 * node up again rewrites them without touching Services or pods. */
#include "net_internal.h"

#include <dirent.h>
#include <errno.h>
#include <nftables/libnftables.h>

static struct nft_ctx *nft_ctx(net_node *node)
{
	if (!node->nft) {
		node->nft = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!node->nft)
			abort(); /* only fails on allocation */
		nft_ctx_buffer_output(node->nft);
		nft_ctx_buffer_error(node->nft);
	}
	return node->nft;
}

int net_nft_run(net_node *node, const char *cmds, sk_err *err)
{
	struct nft_ctx *ctx = nft_ctx(node);
	int ret = nft_run_cmd_from_buffer(ctx, cmds);

	if (ret != 0) {
		_cleanup_free_ char *msg = sk_strdup(nft_ctx_get_error_buffer(ctx));
		size_t n = strlen(msg);
		while (n && msg[n - 1] == '\n')
			msg[--n] = '\0';
		sk_debug("nft transaction failed:\n%s", cmds);
		return sk_err_set(err, EIO, "nftables: %s", n ? msg : "transaction failed");
	}
	return 0;
}

static void base_chains(sk_buf *b, const char *t)
{
	static const char *const hooked[][2] = {
		{"nat-prerouting", "type nat hook prerouting priority dstnat"},
		{"nat-output", "type nat hook output priority -100"},
		{"nat-postrouting", "type nat hook postrouting priority srcnat"},
		/* before the filter priority: a Service without endpoints is
		 * refused even if another table would accept the packet */
		{"filter-input", "type filter hook input priority -110"},
		{"filter-forward", "type filter hook forward priority -110"},
		{"filter-output", "type filter hook output priority -110"},
	};
	static const char *const plain[] = {"services", "service-endpoints-check",
					    "nodeport-endpoints-check", "reject-chain",
					    "mark-for-masquerade"};

	for (size_t i = 0; i < SK_ARRAY_SIZE(hooked); i++)
		sk_buf_printf(b, "add chain ip %s %s { %s; }\nflush chain ip %s %s\n", t,
			      hooked[i][0], hooked[i][1], t, hooked[i][0]);
	for (size_t i = 0; i < SK_ARRAY_SIZE(plain); i++)
		sk_buf_printf(b, "add chain ip %s %s\nflush chain ip %s %s\n", t, plain[i], t,
			      plain[i]);
}

/* The backends maps are declared with typeof (numgen has no named type),
 * one per protocol: nftables 1.0.6 cannot read a `th` expression back from
 * a map's description, and a `tcp dport` in it makes the DNAT rule match
 * TCP only (it adds `meta l4proto tcp`), so UDP has maps of its own. */
static void base_maps(sk_buf *b, const char *t)
{
	sk_buf_printf(
		b,
		"add map ip %s service-ips { type ipv4_addr . inet_proto . inet_service : "
		"verdict; }\n"
		"add map ip %s service-nodeports { type inet_proto . inet_service : verdict; }\n"
		"add set ip %s no-endpoint-services { type ipv4_addr . inet_proto . "
		"inet_service; }\n"
		"add set ip %s no-endpoint-nodeports { type inet_proto . inet_service; }\n"
		"add map ip %s hostports { type inet_proto . inet_service : ipv4_addr . "
		"inet_service; }\n"
		"add set ip %s pod-hairpin { type ipv4_addr . ipv4_addr; }\n"
		"add map ip %s service-backends-tcp { typeof ip daddr . meta l4proto . th dport . "
		"numgen random mod 2 : ip daddr . tcp dport; }\n"
		"add map ip %s service-backends-udp { typeof ip daddr . meta l4proto . th dport . "
		"numgen random mod 2 : ip daddr . udp dport; }\n"
		"add map ip %s nodeport-backends-tcp { typeof ip protocol . th dport . "
		"numgen random mod 2 : ip daddr . tcp dport; }\n"
		"add map ip %s nodeport-backends-udp { typeof ip protocol . th dport . "
		"numgen random mod 2 : ip daddr . udp dport; }\n",
		t, t, t, t, t, t, t, t, t, t);
}

/* The node's rules. Loopback destinations are left alone: DNAT of
 * 127.0.0.0/8 to a pod would need route_localnet on the whole node. */
static void base_rules(sk_buf *b, const char *t, const char *pod, const char *cluster)
{
	const char *local = "fib daddr type local ip daddr != 127.0.0.0/8";

	sk_buf_printf(b, "add rule ip %s nat-prerouting jump services\n", t);
	sk_buf_printf(b, "add rule ip %s nat-output jump services\n", t);
	sk_buf_printf(
		b, "add rule ip %s services ip daddr . meta l4proto . th dport vmap @service-ips\n",
		t);
	sk_buf_printf(
		b, "add rule ip %s services %s meta l4proto . th dport vmap @service-nodeports\n",
		t, local);
	sk_buf_printf(b, "add rule ip %s services jump service-picks\n", t);
	sk_buf_printf(b,
		      "add rule ip %s nat-prerouting %s dnat ip to meta l4proto . th dport map "
		      "@hostports\n",
		      t, local);
	sk_buf_printf(
		b,
		"add rule ip %s nat-output %s dnat ip to meta l4proto . th dport map @hostports\n",
		t, local);
	sk_buf_printf(b, "add rule ip %s mark-for-masquerade meta mark set meta mark | 0x%x\n", t,
		      NET_MASQ_MARK);
	sk_buf_printf(b, "add rule ip %s nat-postrouting meta mark & 0x%x == 0x%x masquerade\n", t,
		      NET_MASQ_MARK, NET_MASQ_MARK);
	sk_buf_printf(b,
		      "add rule ip %s nat-postrouting ct status dnat ip saddr . ip daddr "
		      "@pod-hairpin masquerade\n",
		      t);
	sk_buf_printf(b, "add rule ip %s nat-postrouting ip saddr %s ip daddr != %s masquerade\n",
		      t, pod, cluster);
	sk_buf_printf(b, "add rule ip %s reject-chain meta l4proto tcp reject with tcp reset\n", t);
	sk_buf_printf(b, "add rule ip %s reject-chain reject\n", t);
	sk_buf_printf(b,
		      "add rule ip %s service-endpoints-check ip daddr . meta l4proto . th dport "
		      "@no-endpoint-services goto reject-chain\n",
		      t);
	sk_buf_printf(b,
		      "add rule ip %s nodeport-endpoints-check %s meta l4proto . th dport "
		      "@no-endpoint-nodeports goto reject-chain\n",
		      t, local);
	sk_buf_printf(b, "add rule ip %s filter-input ct state new jump nodeport-endpoints-check\n",
		      t);
	sk_buf_printf(b, "add rule ip %s filter-input ct state new jump service-endpoints-check\n",
		      t);
	sk_buf_printf(
		b, "add rule ip %s filter-forward ct state new jump service-endpoints-check\n", t);
	sk_buf_printf(b, "add rule ip %s filter-output ct state new jump service-endpoints-check\n",
		      t);
	sk_buf_printf(
		b, "add rule ip %s filter-output ct state new jump nodeport-endpoints-check\n", t);
}

/* The shared objects for Services with n endpoints: sets of their
 * VIP:ports and NodePorts, the dispatch rules in service-picks, and the
 * chains that pick one of n backends. Idempotent but for the dispatch
 * rules, which are added once per n (a marker remembers, see lb.c). */
void net_pick_cmds(net_node *node, size_t n, sk_buf *b)
{
	const char *t = node->table;

	sk_buf_printf(
		b,
		"add set ip %s service-ips-%zu { type ipv4_addr . inet_proto . inet_service; }\n"
		"add set ip %s service-nodeports-%zu { type inet_proto . inet_service; }\n",
		t, n, t, n);
	sk_buf_printf(b, "add chain ip %s pick-%zu\nflush chain ip %s pick-%zu\n", t, n, t, n);
	for (int i = 0; i < 2; i++)
		sk_buf_printf(
			b,
			"add rule ip %s pick-%zu meta l4proto %s dnat ip to ip daddr . meta "
			"l4proto . th dport . numgen random mod %zu map @service-backends-%s\n",
			t, n, i ? "udp" : "tcp", n, i ? "udp" : "tcp");
	sk_buf_printf(b, "add chain ip %s nodeport-pick-%zu\nflush chain ip %s nodeport-pick-%zu\n",
		      t, n, t, n);
	sk_buf_printf(b, "add rule ip %s nodeport-pick-%zu jump mark-for-masquerade\n", t, n);
	for (int i = 0; i < 2; i++)
		sk_buf_printf(
			b,
			"add rule ip %s nodeport-pick-%zu meta l4proto %s dnat ip to ip protocol "
			". th dport . numgen random mod %zu map @nodeport-backends-%s\n",
			t, n, i ? "udp" : "tcp", n, i ? "udp" : "tcp");
	sk_buf_printf(b,
		      "add rule ip %s service-picks ip daddr . meta l4proto . th dport "
		      "@service-ips-%zu goto pick-%zu\n",
		      t, n, n);
	sk_buf_printf(b,
		      "add rule ip %s service-picks fib daddr type local ip daddr != 127.0.0.0/8 "
		      "meta l4proto . th dport @service-nodeports-%zu goto nodeport-pick-%zu\n",
		      t, n, n);
}

/* service-picks is rebuilt from the markers of the endpoint counts in use. */
static void picks_rebuild(net_node *node, sk_buf *b)
{
	_cleanup_free_ char *dir = sk_path_join(node->net_dir, "picks");
	DIR *d = opendir(dir);
	struct dirent *e;

	sk_buf_printf(b, "add chain ip %s service-picks\nflush chain ip %s service-picks\n",
		      node->table, node->table);
	while (d && (e = readdir(d))) {
		int64_t n;
		sk_err ignored;
		if (e->d_name[0] != '.' && sk_parse_int64(e->d_name, 1, 1 << 20, &n, &ignored) == 0)
			net_pick_cmds(node, (size_t)n, b);
	}
	if (d)
		closedir(d);
}

int net_nft_table_up(net_node *node, sk_err *err)
{
	_cleanup_buf_ sk_buf b = {0};
	char pod[32], cluster[32], ip[16];

	sk_buf_init(&b);
	net_ip_format(node->pod_cidr.addr, ip, sizeof(ip));
	snprintf(pod, sizeof(pod), "%s/%d", ip, node->pod_cidr.prefix);
	net_ip_format(node->cluster_cidr.addr, ip, sizeof(ip));
	snprintf(cluster, sizeof(cluster), "%s/%d", ip, node->cluster_cidr.prefix);
	sk_buf_printf(&b, "add table ip %s { comment \"skiff node network\"; }\n", node->table);
	base_chains(&b, node->table);
	base_maps(&b, node->table);
	picks_rebuild(node, &b);
	base_rules(&b, node->table, pod, cluster);
	if (net_nft_run(node, b.data, err) < 0)
		return sk_err_wrap(err, "table %s", node->table);
	return 0;
}

/* Delete the table only if it exists: `delete table` of a missing one
 * fails, and `destroy` needs nftables 1.0.8. */
int net_nft_table_delete(net_node *node, sk_err *err)
{
	_cleanup_free_ char *cmd =
		sk_asprintf("add table ip %s\ndelete table ip %s\n", node->table, node->table);

	if (net_nft_run(node, cmd, err) < 0)
		return sk_err_wrap(err, "delete table %s", node->table);
	return 0;
}
