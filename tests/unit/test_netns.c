/* Unit tests for netns/: CIDRs, the Service state text, validation, and
 * the DNS answers (including a mutation fuzz of the packet parser). */
#include "../../netns/net_internal.h"
#include "tap.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>

static void cidr_ok(const char *s, const char *addr, int prefix)
{
	struct net_cidr c;
	uint32_t want = 0;
	sk_err err = {0};

	net_ip_parse(addr, &want, &err);
	ok(net_cidr_parse(s, &c, &err) == 0 && c.addr == want && c.prefix == prefix, "CIDR %s", s);
}

static void cidr_bad(const char *s)
{
	struct net_cidr c;
	sk_err err = {0};

	ok(net_cidr_parse(s, &c, &err) < 0 && err.msg[0], "CIDR \"%s\" rejected: %s", s, err.msg);
}

static net_node *test_node(void)
{
	struct net_node_config cfg = {.state_dir = "/nonexistent"};
	net_node *n = NULL;
	sk_err err = {0};

	if (net_node_open(&cfg, &n, &err) < 0)
		printf("# %s\n", err.msg);
	return n;
}

static void test_svc_text(void)
{
	struct net_endpoint eps[2] = {{.ip = "10.88.0.2", .hostname = "web-0", .ports = {8888, 0}},
				      {.ip = "10.88.0.3"}};
	struct net_service s = {.ns = "default",
				.name = "web",
				.cluster_ip = "10.96.0.10",
				.affinity_client_ip = true,
				.affinity_timeout = 60,
				.n_ports = 2,
				.n_endpoints = 2,
				.endpoints = eps};
	struct net_service back;
	sk_err err = {0};
	_cleanup_free_ char *text = NULL, *again = NULL;

	s.ports[0] = (struct net_service_port){"http", IPPROTO_TCP, 80, 8888, 30080};
	s.ports[1] = (struct net_service_port){"dns", IPPROTO_UDP, 53, 5353, 0};
	text = net_svc_format(&s);
	ok(net_svc_parse(text, &back, &err) == 0, "Service state parses back");
	again = net_svc_format(&back);
	is_str(again, text, "and formats the same");
	is_int(back.endpoints[0].ports[0], 8888, "endpoint port kept");
	ok(back.affinity_client_ip && back.affinity_timeout == 60, "affinity kept");
	net_service_clear(&back);
	ok(net_svc_parse("service a b\nport x", &back, &err) < 0, "truncated state rejected: %s",
	   err.msg);
	ok(net_svc_parse("garbage", &back, &err) < 0, "garbage state rejected");
}

static void test_validate(net_node *n)
{
	struct net_service s = {
		.ns = "default", .name = "web", .cluster_ip = "10.96.0.10", .n_ports = 1};
	sk_err err = {0};

	s.ports[0] = (struct net_service_port){"", IPPROTO_TCP, 80, 8888, 0};
	ok(net_service_validate(n, &s, &err) == 0, "a plain Service is valid");
	s.ports[0].node_port = 29999;
	ok(net_service_validate(n, &s, &err) < 0, "NodePort below range: %s", err.msg);
	s.ports[0].node_port = 0;
	snprintf(s.cluster_ip, sizeof(s.cluster_ip), "10.95.0.1");
	like(net_service_validate(n, &s, &err) < 0 ? err.msg : "", "spec.clusterIP",
	     "ClusterIP outside the service CIDR");
	snprintf(s.cluster_ip, sizeof(s.cluster_ip), "None");
	s.ports[0].port = 0;
	like(net_service_validate(n, &s, &err) < 0 ? err.msg : "", "spec.ports[0].port",
	     "port 0 rejected");
}

/* A wire query for name/type, as a resolver sends it. */
static size_t query(const char *name, ldns_rr_type type, uint8_t *buf, size_t cap)
{
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;
	size_t n = 0;

	ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_pkt_set_id(q, 4242);
	ldns_pkt2wire(&wire, q, &n);
	if (n > cap)
		n = 0;
	memcpy(buf, wire, n);
	free(wire);
	ldns_pkt_free(q);
	return n;
}

static ldns_pkt *ask(net_dns *d, const char *name, ldns_rr_type type, int *ret)
{
	uint8_t q[512], r[4096];
	size_t n = query(name, type, q, sizeof(q));
	ldns_pkt *p = NULL;

	*ret = net_dns_answer(d, q, n, r, sizeof(r));
	if (*ret > 0)
		ldns_wire2pkt(&p, r, (size_t)*ret);
	return p;
}

static void test_dns(void)
{
	struct net_dns_config cfg = {0};
	struct net_endpoint eps[2] = {{.ip = "10.88.0.5"}, {.ip = "10.88.0.6", .hostname = "h"}};
	struct net_service s = {.ns = "default",
				.name = "web",
				.cluster_ip = "10.96.0.10",
				.n_ports = 1},
			   h = {.ns = "default",
				.name = "hl",
				.n_ports = 1,
				.n_endpoints = 2,
				.endpoints = eps};
	net_dns *d = NULL;
	sk_err err = {0};
	ldns_pkt *p;
	int ret;

	s.ports[0] = (struct net_service_port){"http", IPPROTO_TCP, 80, 8888, 0};
	h.ports[0] = s.ports[0];
	ok(net_dns_new(NULL, &cfg, &d, &err) == 0, "DNS answerer without sockets");
	net_dns_set_service(d, &s);
	net_dns_set_service(d, &h);
	p = ask(d, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A, &ret);
	ok(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 1 &&
		   ldns_pkt_id(p) == 4242 && ldns_pkt_aa(p),
	   "A for a Service: one authoritative answer, same id");
	ldns_pkt_free(p);
	p = ask(d, "hl.default.svc.cluster.local.", LDNS_RR_TYPE_A, &ret);
	ok(p && ldns_pkt_ancount(p) == 2, "headless: one A per endpoint");
	ldns_pkt_free(p);
	p = ask(d, "web.default.svc.cluster.local.", LDNS_RR_TYPE_AAAA, &ret);
	ok(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 0,
	   "AAAA for an IPv4 Service: NODATA, not NXDOMAIN");
	ldns_pkt_free(p);
	p = ask(d, "nope.default.svc.cluster.local.", LDNS_RR_TYPE_A, &ret);
	ok(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN, "unknown Service: NXDOMAIN");
	ldns_pkt_free(p);
	p = ask(d, "example.org.", LDNS_RR_TYPE_A, &ret);
	ok(!p && ret == -1, "a name outside the cluster domain is forwarded");
	net_dns_delete_service(d, "default", "web");
	p = ask(d, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A, &ret);
	ok(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN, "deleted Service: NXDOMAIN");
	ldns_pkt_free(p);

	/* mutation fuzz: truncations, flipped bytes and random packets are
	 * dropped or answered, never a crash (run under ASan by make asan) */
	uint8_t q[512], r[4096], m[600];
	size_t n =
		query("_http._tcp.hl.default.svc.cluster.local.", LDNS_RR_TYPE_SRV, q, sizeof(q));
	unsigned seed = 12345;
	int answered = 0, dropped = 0;
	for (int i = 0; i < 50000; i++) {
		size_t len = n;
		memcpy(m, q, n);
		int kind = i % 3;
		if (kind == 0)
			len = (size_t)rand_r(&seed) % (n + 1);
		else if (kind == 1)
			for (int k = 0; k < 1 + rand_r(&seed) % 4; k++)
				m[rand_r(&seed) % n] = (uint8_t)rand_r(&seed);
		else
			for (len = 0; len < (size_t)rand_r(&seed) % sizeof(m); len++)
				m[len] = (uint8_t)rand_r(&seed);
		int got = net_dns_answer(d, m, len, r, (size_t)(i % 2 ? 512 : sizeof(r)));
		if (got > 0)
			answered++;
		else
			dropped++;
	}
	ok(answered > 0 && dropped > 0,
	   "50000 mutated packets: %d answered, %d dropped or forwarded", answered, dropped);
	net_dns_free(d);
}

int main(void)
{
	net_node *n;
	sk_err err = {0};
	struct net_node_config bad = {.pod_cidr = "10.88.0.0/24", .cluster_cidr = "10.89.0.0/16"};

	cidr_ok("10.88.0.0/24", "10.88.0.0", 24);
	cidr_ok("0.0.0.0/0", "0.0.0.0", 0);
	cidr_ok("10.96.0.0/12", "10.96.0.0", 12);
	cidr_bad("10.88.0.1/24");
	cidr_bad("10.88.0.0/33");
	cidr_bad("10.88.0.0");
	cidr_bad("10.88.0.0/");
	cidr_bad("10.88.0.0/24x");
	cidr_bad("300.0.0.0/8");
	cidr_bad("");
	ok(net_node_open(&bad, &n, &err) < 0, "pod CIDR outside the cluster CIDR: %s", err.msg);
	n = test_node();
	ok(n != NULL, "default node configuration");
	test_svc_text();
	if (n)
		test_validate(n);
	net_node_free(n);
	test_dns();
	return done_testing();
}
