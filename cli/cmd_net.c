/* Hidden commands that drive netns/ by hand and in tests, before the agent
 * exists to drive it from the API:
 *   skiff net-node up|cleanup                 the node network
 *   skiff net-pod add UID [-p tcp:HOST:CTR]   a pod network (prints IP and netns)
 *   skiff net-pod del|get UID
 *   skiff net-resolv NS [--default]           a pod's resolv.conf
 *   skiff net-svc set FILE                    a Service (+ Endpoints) manifest
 *   skiff net-svc del|get NS/NAME
 *   skiff net-dns [--listen IP] [--port N] [--upstream IP[:PORT]]...
 *                                             the cluster DNS server, fed from
 *                                             the Services set on this node
 * Every one takes the node options --state-dir, --bridge, --pod-cidr,
 * --cluster-cidr, --service-cidr, --table. */
#include "cli.h"

#include "../api/api.h"
#include "../netns/netns.h"

#include <errno.h>
#include <getopt.h>
#include <ldns/ldns.h>
#include <signal.h>
#include <sys/stat.h>

struct net_opts {
	struct net_node_config node;
	const char *listen, *port;
	const char *upstreams[4];
	size_t n_upstreams;
	const char *host_ports[16];
	size_t n_host_ports;
	bool dns_default;
};

enum {
	OPT_STATE = 1000,
	OPT_BRIDGE,
	OPT_POD,
	OPT_CLUSTER,
	OPT_SERVICE,
	OPT_TABLE,
	OPT_LISTEN,
	OPT_PORT,
	OPT_UPSTREAM,
	OPT_DEFAULT,
	OPT_DOMAIN
};

static const struct option net_options[] = {
	{"state-dir", required_argument, NULL, OPT_STATE},
	{"bridge", required_argument, NULL, OPT_BRIDGE},
	{"pod-cidr", required_argument, NULL, OPT_POD},
	{"cluster-cidr", required_argument, NULL, OPT_CLUSTER},
	{"service-cidr", required_argument, NULL, OPT_SERVICE},
	{"table", required_argument, NULL, OPT_TABLE},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"port", required_argument, NULL, OPT_PORT},
	{"upstream", required_argument, NULL, OPT_UPSTREAM},
	{"default", no_argument, NULL, OPT_DEFAULT},
	{"cluster-domain", required_argument, NULL, OPT_DOMAIN},
	{"host-port", required_argument, NULL, 'p'},
	{NULL, 0, NULL, 0},
};

/* Parse the options; argv keeps the operands from *first on. */
static int parse_net_opts(int argc, char **argv, struct net_opts *o, int *first)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:", net_options, NULL)) != -1) {
		switch (c) {
		case OPT_STATE:
			o->node.state_dir = optarg;
			break;
		case OPT_BRIDGE:
			o->node.bridge = optarg;
			break;
		case OPT_POD:
			o->node.pod_cidr = optarg;
			break;
		case OPT_CLUSTER:
			o->node.cluster_cidr = optarg;
			break;
		case OPT_SERVICE:
			o->node.service_cidr = optarg;
			break;
		case OPT_TABLE:
			o->node.table = optarg;
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_PORT:
			o->port = optarg;
			break;
		case OPT_DEFAULT:
			o->dns_default = true;
			break;
		case OPT_DOMAIN:
			o->node.cluster_domain = optarg;
			break;
		case OPT_UPSTREAM:
			if (o->n_upstreams == SK_ARRAY_SIZE(o->upstreams))
				return cli_failf("--upstream: at most 4");
			o->upstreams[o->n_upstreams++] = optarg;
			break;
		case 'p':
			if (o->n_host_ports == SK_ARRAY_SIZE(o->host_ports))
				return cli_failf("--host-port: at most 16");
			o->host_ports[o->n_host_ports++] = optarg;
			break;
		default:
			return cli_failf("bad option (see cli/cmd_net.c)");
		}
	}
	*first = optind;
	return 0;
}

static int open_node(struct net_opts *o, net_node **node)
{
	sk_err err = {0};

	if (net_node_open(&o->node, node, &err) < 0)
		return cli_fail(&err);
	return 0;
}

/* ---- net-node ---- */
static int cmd_net_node(int argc, char **argv)
{
	_cleanup_net_node_ net_node *node = NULL;
	struct net_opts o;
	sk_err err = {0};
	int i;

	if (parse_net_opts(argc, argv, &o, &i) || i >= argc)
		return cli_failf("usage: skiff net-node up|cleanup [node options]");
	if (open_node(&o, &node))
		return 1;
	if (!strcmp(argv[i], "up") && net_node_up(node, &err) < 0)
		return cli_fail(&err);
	if (!strcmp(argv[i], "cleanup") && net_node_cleanup(node, &err) < 0)
		return cli_fail(&err);
	return 0;
}
SK_COMMAND_HIDDEN(net_node, "net-node", cmd_net_node);

/* ---- net-pod ---- */
static int parse_host_port(const char *s, struct net_host_port *p)
{
	char proto[8];
	long hp, cp;
	char tail;

	if (sscanf(s, "%7[a-zA-Z]:%ld:%ld%c", proto, &hp, &cp, &tail) != 3)
		return cli_failf("--host-port \"%s\": want tcp|udp:HOSTPORT:CONTAINERPORT", s);
	if (hp < 1 || hp > 65535 || cp < 1 || cp > 65535)
		return cli_failf("--host-port \"%s\": port out of range (1-65535)", s);
	if (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp"))
		return cli_failf("--host-port \"%s\": protocol must be tcp or udp", s);
	p->protocol = strcasecmp(proto, "udp") ? IPPROTO_TCP : IPPROTO_UDP;
	p->host_port = (uint16_t)hp;
	p->container_port = (uint16_t)cp;
	return 0;
}

static int cmd_net_pod(int argc, char **argv)
{
	_cleanup_net_node_ net_node *node = NULL;
	struct net_host_port ports[16];
	struct net_pod pod;
	struct net_opts o;
	sk_err err = {0};
	int i;

	if (parse_net_opts(argc, argv, &o, &i) || i + 1 >= argc)
		return cli_failf("usage: skiff net-pod add|del|get UID [-p tcp:HOST:CTR]...");
	if (open_node(&o, &node))
		return 1;
	if (!strcmp(argv[i], "del"))
		return net_pod_teardown(node, argv[i + 1], &err) < 0 ? cli_fail(&err) : 0;
	if (!strcmp(argv[i], "get")) {
		if (net_pod_get(node, argv[i + 1], &pod, &err) < 0)
			return cli_fail(&err);
	} else if (!strcmp(argv[i], "add")) {
		struct net_pod_config cfg = {
			.uid = argv[i + 1], .host_ports = ports, .n_host_ports = o.n_host_ports};
		for (size_t k = 0; k < o.n_host_ports; k++)
			if (parse_host_port(o.host_ports[k], &ports[k]))
				return 1;
		if (net_pod_setup(node, &cfg, &pod, &err) < 0)
			return cli_fail(&err);
	} else {
		return cli_failf("net-pod: unknown action \"%s\"", argv[i]);
	}
	printf("%s %s %s\n", pod.ip, pod.netns_path, pod.host_veth);
	return 0;
}
SK_COMMAND_HIDDEN(net_pod, "net-pod", cmd_net_pod);

static int cmd_net_resolv(int argc, char **argv)
{
	_cleanup_net_node_ net_node *node = NULL;
	_cleanup_free_ char *text = NULL;
	struct net_opts o;
	sk_err err = {0};
	int i;

	if (parse_net_opts(argc, argv, &o, &i) || i >= argc)
		return cli_failf("usage: skiff net-resolv NAMESPACE [--default]");
	if (open_node(&o, &node))
		return 1;
	if (net_resolv_conf(node, argv[i], o.dns_default ? NET_DNS_DEFAULT : NET_DNS_CLUSTER_FIRST,
			    &text, &err) < 0)
		return cli_fail(&err);
	fputs(text, stdout);
	return 0;
}
SK_COMMAND_HIDDEN(net_resolv, "net-resolv", cmd_net_resolv);

/* ---- net-svc: a Kubernetes Service (and Endpoints) manifest ---- */

static int json_port(json_t *v, const char *field, bool zero_ok, uint16_t *out, sk_err *err)
{
	json_int_t n;

	if (!v) {
		*out = 0;
		return zero_ok ? 0 : sk_err_set(err, EINVAL, "%s: required", field);
	}
	if (!json_is_integer(v))
		return sk_err_set(err, EINVAL, "%s: must be an integer", field);
	n = json_integer_value(v);
	if (n < (zero_ok ? 0 : 1) || n > 65535)
		return sk_err_set(err, EINVAL, "%s: %lld: must be 1-65535", field, (long long)n);
	*out = (uint16_t)n;
	return 0;
}

static int copy_name(char *dst, json_t *v, const char *field, sk_err *err)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) >= NET_NAME_MAX)
		return sk_err_set(err, EINVAL, "%s: must be a name of at most 63 characters",
				  field);
	strcpy(dst, s);
	return 0;
}

static int service_port_from_json(json_t *jp, size_t i, struct net_service_port *p, sk_err *err)
{
	const char *proto = json_string_value(json_object_get(jp, "protocol"));
	json_t *name = json_object_get(jp, "name"), *target = json_object_get(jp, "targetPort");
	char field[64];

	if (name && copy_name(p->name, name, "spec.ports[].name", err) < 0)
		return -1;
	if (proto && strcmp(proto, "TCP") && strcmp(proto, "UDP"))
		return sk_err_set(err, EINVAL,
				  "spec.ports[%zu].protocol: \"%s\": must be TCP or UDP", i, proto);
	p->protocol = proto && !strcmp(proto, "UDP") ? IPPROTO_UDP : IPPROTO_TCP;
	snprintf(field, sizeof(field), "spec.ports[%zu].port", i);
	if (json_port(json_object_get(jp, "port"), field, false, &p->port, err) < 0)
		return -1;
	snprintf(field, sizeof(field), "spec.ports[%zu].targetPort", i);
	if (json_is_string(target))
		p->target_port = p->port; /* named: the Endpoints carry the number */
	else if (json_port(target, field, true, &p->target_port, err) < 0)
		return -1;
	if (!p->target_port)
		p->target_port = p->port;
	snprintf(field, sizeof(field), "spec.ports[%zu].nodePort", i);
	return json_port(json_object_get(jp, "nodePort"), field, true, &p->node_port, err);
}

static int service_from_json(json_t *doc, struct net_service *svc, sk_err *err)
{
	json_t *meta = json_object_get(doc, "metadata"), *spec = json_object_get(doc, "spec");
	json_t *ports = json_object_get(spec, "ports"), *ns = json_object_get(meta, "namespace");
	const char *cip = json_string_value(json_object_get(spec, "clusterIP"));
	const char *aff = json_string_value(json_object_get(spec, "sessionAffinity"));
	json_t *timeout = json_object_get(
		json_object_get(json_object_get(spec, "sessionAffinityConfig"), "clientIP"),
		"timeoutSeconds");
	size_t i;
	json_t *jp;

	memset(svc, 0, sizeof(*svc));
	if (copy_name(svc->name, json_object_get(meta, "name"), "metadata.name", err) < 0 ||
	    (ns && copy_name(svc->ns, ns, "metadata.namespace", err) < 0))
		return -1;
	if (!ns)
		strcpy(svc->ns, "default");
	if (cip && strlen(cip) >= sizeof(svc->cluster_ip))
		return sk_err_set(err, EINVAL, "spec.clusterIP: \"%s\": not an IPv4 address", cip);
	snprintf(svc->cluster_ip, sizeof(svc->cluster_ip), "%s", cip ? cip : "");
	if (aff && strcmp(aff, "None") && strcmp(aff, "ClientIP"))
		return sk_err_set(err, EINVAL,
				  "spec.sessionAffinity: \"%s\": must be None or ClientIP", aff);
	svc->affinity_client_ip = aff && !strcmp(aff, "ClientIP");
	if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
			json_integer_value(timeout) > 86400))
		return sk_err_set(
			err, EINVAL,
			"spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be 1-86400");
	svc->affinity_timeout = timeout ? (uint32_t)json_integer_value(timeout) : 0;
	if (json_array_size(ports) > NET_SVC_MAX_PORTS)
		return sk_err_set(err, EINVAL, "spec.ports: more than %d", NET_SVC_MAX_PORTS);
	json_array_foreach (ports, i, jp) {
		if (service_port_from_json(jp, i, &svc->ports[i], err) < 0)
			return -1;
		svc->n_ports = i + 1;
	}
	return 0;
}

/* Endpoints subsets: each address gets, per Service port, the subset's
 * port of the same name (the only one when the Service has one port). */
static int endpoints_from_json(json_t *doc, struct net_service *svc, sk_err *err)
{
	json_t *subsets = json_object_get(doc, "subsets"), *sub, *addr, *port;
	size_t i, j, k;

	json_array_foreach (subsets, i, sub) {
		json_t *addrs = json_object_get(sub, "addresses"),
		       *ports = json_object_get(sub, "ports");
		json_array_foreach (addrs, j, addr) {
			struct net_endpoint *e;
			const char *ip = json_string_value(json_object_get(addr, "ip"));
			const char *host = json_string_value(json_object_get(addr, "hostname"));
			if (!ip || strlen(ip) >= 16)
				return sk_err_set(err, EINVAL,
						  "subsets[%zu].addresses[%zu].ip: required", i, j);
			svc->endpoints =
				sk_realloc(svc->endpoints, (svc->n_endpoints + 1) * sizeof(*e));
			e = &svc->endpoints[svc->n_endpoints++];
			memset(e, 0, sizeof(*e));
			strcpy(e->ip, ip);
			if (host && strlen(host) < sizeof(e->hostname))
				strcpy(e->hostname, host);
			for (size_t p = 0; p < svc->n_ports; p++)
				json_array_foreach (ports, k, port) {
					const char *pn =
						json_string_value(json_object_get(port, "name"));
					char field[96];
					if (svc->n_ports > 1 && !sk_streq(pn, svc->ports[p].name))
						continue;
					snprintf(field, sizeof(field),
						 "subsets[%zu].ports[%zu].port", i, k);
					if (json_port(json_object_get(port, "port"), field, false,
						      &e->ports[p], err) < 0)
						return -1;
				}
		}
	}
	return 0;
}

static int load_service_manifest(const char *file, struct net_service *svc, bool *have_eps,
				 sk_err *err)
{
	json_t *docs = NULL, *doc;
	size_t i;
	int ret = 0;

	*have_eps = false;
	if (api_yaml_load_file(file, &docs, err) < 0)
		return -1;
	memset(svc, 0, sizeof(*svc));
	json_array_foreach (docs, i, doc) {
		const char *kind = json_string_value(json_object_get(doc, "kind"));
		if (sk_streq(kind, "Service"))
			ret = service_from_json(doc, svc, err);
		else if (sk_streq(kind, "Endpoints")) {
			ret = endpoints_from_json(doc, svc, err);
			*have_eps = true;
		} else
			ret = sk_err_set(err, EINVAL,
					 "document %zu: kind: want Service or Endpoints", i);
		if (ret < 0)
			break;
	}
	if (ret == 0 && !svc->name[0])
		ret = sk_err_set(err, EINVAL, "no Service in the file");
	json_decref(docs);
	if (ret < 0)
		return sk_err_wrap(err, "%s", file);
	return 0;
}

static int split_ns_name(const char *s, char *ns, char *name)
{
	if (sscanf(s, "%63[^/]/%63s", ns, name) != 2)
		return cli_failf("\"%s\": want NAMESPACE/NAME", s);
	return 0;
}

static int cmd_net_svc(int argc, char **argv)
{
	_cleanup_net_node_ net_node *node = NULL;
	struct net_service svc = {0};
	char ns[64], name[64];
	bool have_eps;
	struct net_opts o;
	sk_err err = {0};
	int i, ret = 0;

	if (parse_net_opts(argc, argv, &o, &i) || i + 1 >= argc)
		return cli_failf("usage: skiff net-svc set FILE | del NS/NAME | get NS/NAME");
	if (open_node(&o, &node))
		return 1;
	if (!strcmp(argv[i], "set")) {
		if (load_service_manifest(argv[i + 1], &svc, &have_eps, &err) < 0 ||
		    net_lb_set_service(node, &svc, &err) < 0)
			ret = cli_fail(&err);
	} else if (split_ns_name(argv[i + 1], ns, name)) {
		ret = 1;
	} else if (!strcmp(argv[i], "del")) {
		if (net_lb_delete_service(node, ns, name, &err) < 0)
			ret = cli_fail(&err);
	} else if (!strcmp(argv[i], "get")) {
		if (net_lb_get_service(node, ns, name, &svc, &err) < 0)
			ret = cli_fail(&err);
		else {
			for (size_t p = 0; p < svc.n_ports; p++)
				printf("port %s %s %u %u %u\n",
				       svc.ports[p].name[0] ? svc.ports[p].name : "-",
				       svc.ports[p].protocol == IPPROTO_UDP ? "udp" : "tcp",
				       svc.ports[p].port, svc.ports[p].target_port,
				       svc.ports[p].node_port);
			for (size_t e = 0; e < svc.n_endpoints; e++)
				printf("endpoint %s\n", svc.endpoints[e].ip);
		}
	} else {
		ret = cli_failf("net-svc: unknown action \"%s\"", argv[i]);
	}
	net_service_clear(&svc);
	return ret;
}
SK_COMMAND_HIDDEN(net_svc, "net-svc", cmd_net_svc);

/* ---- net-dns: the DNS server, standalone ---- */

struct dns_runner {
	net_node *node;
	net_dns *dns;
	char *services_dir;
	struct timespec seen;
};

static int feed_one(const struct net_service *svc, void *data)
{
	net_dns_set_service(data, svc);
	return 0;
}

/* Reload every Service when the state directory changed (a rename into it
 * changes its mtime): simple, and the runner is for play and tests. */
static int dns_reload(sk_loop *loop, void *data)
{
	struct dns_runner *r = data;
	struct stat st;
	sk_err err = {0};

	if (stat(r->services_dir, &st) == 0 &&
	    (st.st_mtim.tv_sec != r->seen.tv_sec || st.st_mtim.tv_nsec != r->seen.tv_nsec)) {
		r->seen = st.st_mtim;
		net_dns_clear(r->dns);
		if (net_lb_foreach(r->node, feed_one, r->dns, &err) < 0)
			sk_warn("reload Services: %s", err.msg);
	}
	sk_loop_add_timer(loop, 100, dns_reload, r);
	return 0;
}

static int on_stop(sk_loop *loop, int signo SK_UNUSED, void *data SK_UNUSED)
{
	sk_loop_stop(loop);
	return 0;
}

static int cmd_net_dns(int argc, char **argv)
{
	_cleanup_net_node_ net_node *node = NULL;
	sk_loop *loop = NULL;
	struct dns_runner r = {0};
	struct net_opts o;
	struct net_dns_config cfg = {0};
	char gw[16];
	int64_t port = 53;
	sk_err err = {0};
	int i, ret = 0;

	if (parse_net_opts(argc, argv, &o, &i))
		return 1;
	if (open_node(&o, &node))
		return 1;
	if (o.port && sk_parse_int64(o.port, 1, 65535, &port, &err) < 0)
		return cli_failf("--port: %s", err.msg);
	net_node_gateway(node, gw, sizeof(gw));
	cfg.listen_addr = o.listen ? o.listen : gw;
	cfg.port = (uint16_t)port;
	cfg.domain = o.node.cluster_domain;
	cfg.upstreams = o.n_upstreams ? o.upstreams : NULL;
	cfg.n_upstreams = o.n_upstreams;
	if (sk_loop_new(&loop, &err) < 0 || net_dns_new(loop, &cfg, &r.dns, &err) < 0 ||
	    sk_loop_add_signal(loop, SIGTERM, on_stop, NULL, &err) < 0 ||
	    sk_loop_add_signal(loop, SIGINT, on_stop, NULL, &err) < 0) {
		ret = cli_fail(&err);
		goto out;
	}
	r.node = node;
	r.services_dir =
		sk_asprintf("%s/net/services", o.node.state_dir ? o.node.state_dir : "/run/skiff");
	dns_reload(loop, &r);
	fprintf(stderr, "skiff: DNS listening on %s:%u\n", cfg.listen_addr, cfg.port);
	if (sk_loop_run(loop, &err) < 0)
		ret = cli_fail(&err);
out:
	net_dns_free(r.dns);
	free(r.services_dir);
	sk_loop_free(loop);
	return ret;
}
SK_COMMAND_HIDDEN(net_dns, "net-dns", cmd_net_dns);

/* ---- net-dnsq: a DNS client for tests (ldns), over UDP or TCP ---- */
static int cmd_net_dnsq(int argc, char **argv)
{
	bool tcp = argc > 1 && !strcmp(argv[1], "--tcp");
	int a = tcp ? 2 : 1;
	ldns_resolver *res = NULL;
	ldns_rdf *server = NULL, *name = NULL;
	ldns_pkt *pkt = NULL;
	ldns_rr_type type;
	int64_t port = 53;
	char ip[16];
	sk_err err = {0};
	int ret = 1;

	if (argc - a != 3)
		return cli_failf("usage: skiff net-dnsq [--tcp] SERVER[:PORT] NAME TYPE");
	snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(argv[a], ":"), argv[a]);
	if (strchr(argv[a], ':') &&
	    sk_parse_int64(strchr(argv[a], ':') + 1, 1, 65535, &port, &err) < 0)
		return cli_fail(&err);
	type = ldns_get_rr_type_by_name(argv[a + 2]);
	server = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, ip);
	name = ldns_dname_new_frm_str(argv[a + 1]);
	if (!server || !name || !type) {
		ret = cli_failf("net-dnsq: bad server, name or type");
		goto out;
	}
	res = ldns_resolver_new();
	ldns_resolver_push_nameserver(res, server);
	ldns_resolver_set_port(res, (uint16_t)port);
	ldns_resolver_set_usevc(res, tcp);
	ldns_resolver_set_retry(res, 1);
	ldns_resolver_set_timeout(res, (struct timeval){.tv_sec = 3});
	if (ldns_resolver_send(&pkt, res, name, type, LDNS_RR_CLASS_IN, LDNS_RD) !=
		    LDNS_STATUS_OK ||
	    !pkt) {
		ret = cli_failf("net-dnsq: no answer from %s", argv[a]);
		goto out;
	}
	char *rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(pkt));
	printf("%s\n", rcode);
	free(rcode);
	for (size_t i = 0; i < ldns_pkt_ancount(pkt); i++) {
		char *s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(pkt), i));
		fputs(s, stdout);
		free(s);
	}
	ret = 0;
out:
	ldns_pkt_free(pkt);
	ldns_resolver_deep_free(res);
	ldns_rdf_deep_free(server); /* the resolver keeps a copy */
	ldns_rdf_deep_free(name);
	return ret;
}
SK_COMMAND_HIDDEN(net_dnsq, "net-dnsq", cmd_net_dnsq);
