/* The cluster DNS server, run by an sk_loop. Names under the cluster
 * domain are answered from the Services fed through net_dns_set_service,
 * as CoreDNS's kubernetes plugin answers them:
 *   <svc>.<ns>.svc.<domain>            A: the ClusterIP, or every ready
 *                                      endpoint of a headless Service
 *   <host>.<svc>.<ns>.svc.<domain>     A: a headless Service's endpoint,
 *                                      by hostname or as a-b-c-d
 *   _<port>._<proto>.<svc>.<ns>.svc... SRV for a named port
 *   <svc>.<ns>.svc.<domain> SRV        every named port
 *   <a-b-c-d>.<ns>.pod.<domain>        A: that address ("pods insecure")
 * Other cluster names get NXDOMAIN; every other name is forwarded to the
 * upstream resolvers, asynchronously, by UDP.
 * The wire format is ldns's. Input is bounded: UDP datagrams and TCP
 * messages up to 64 KiB, at most DNS_MAX_TCP connections (each closed
 * after DNS_TCP_IDLE_MS idle) and DNS_MAX_PENDING forwarded queries; a
 * packet ldns cannot parse, or that is not a query, is dropped. */
#include "net_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define DNS_BUCKETS 4096
#define DNS_MAX_TCP 64
#define DNS_TCP_IDLE_MS 10000
#define DNS_MAX_PENDING 1024
#define DNS_FORWARD_TIMEOUT_MS 2000
#define DNS_MAX_UPSTREAMS 4
#define DNS_UDP_PLAIN 512

struct dns_port {
	char name[NET_NAME_MAX];
	int protocol;
	uint16_t port;
};

struct dns_ep {
	uint32_t ip;
	char hostname[NET_NAME_MAX];
};

struct dns_svc {
	char ns[NET_NAME_MAX], name[NET_NAME_MAX];
	bool headless;
	uint32_t cluster_ip;
	size_t n_ports, n_eps;
	struct dns_port ports[NET_SVC_MAX_PORTS];
	struct dns_ep *eps;
	struct dns_svc *next;
};

struct dns_tcp {
	net_dns *dns;
	int fd;
	uint8_t *buf; /* 2-byte length + message */
	size_t len;
	uint64_t timer;
	struct dns_tcp *next;
};

struct dns_pending {
	uint16_t id, orig_id;
	int upstream; /* index tried */
	struct sockaddr_in client;
	struct dns_tcp *tcp; /* NULL: answer by UDP to client */
	uint8_t *query;
	size_t len;
	uint64_t timer;
	net_dns *dns;
	struct dns_pending *next;
};

struct net_dns {
	sk_loop *loop;
	int udp_fd, tcp_fd, up_fd;
	char *domain; /* lower case, no trailing dot */
	uint32_t ttl;
	struct sockaddr_in upstreams[DNS_MAX_UPSTREAMS];
	int n_upstreams;
	struct dns_svc *buckets[DNS_BUCKETS];
	struct dns_tcp *conns;
	int n_conns;
	struct dns_pending *pending;
	int n_pending;
};

/* ---- records ------------------------------------------------------------------- */

static size_t bucket(const char *ns, const char *name)
{
	_cleanup_free_ char *key = sk_asprintf("%s/%s", ns, name);

	return net_hash64(key) % DNS_BUCKETS;
}

static struct dns_svc **svc_slot(net_dns *dns, const char *ns, const char *name)
{
	struct dns_svc **pp = &dns->buckets[bucket(ns, name)];

	while (*pp && (strcmp((*pp)->ns, ns) || strcmp((*pp)->name, name)))
		pp = &(*pp)->next;
	return pp;
}

static void svc_free(struct dns_svc *s)
{
	if (s)
		free(s->eps);
	free(s);
}

void net_dns_delete_service(net_dns *dns, const char *ns, const char *name)
{
	struct dns_svc **pp = svc_slot(dns, ns, name);
	struct dns_svc *s = *pp;

	if (s) {
		*pp = s->next;
		svc_free(s);
	}
}

void net_dns_set_service(net_dns *dns, const struct net_service *svc)
{
	struct dns_svc *s = sk_calloc(1, sizeof(*s));
	sk_err ignored;

	snprintf(s->ns, sizeof(s->ns), "%s", svc->ns);
	snprintf(s->name, sizeof(s->name), "%s", svc->name);
	s->headless = !svc->cluster_ip[0] || !strcmp(svc->cluster_ip, "None") ||
		      net_ip_parse(svc->cluster_ip, &s->cluster_ip, &ignored) < 0;
	s->n_ports = svc->n_ports < NET_SVC_MAX_PORTS ? svc->n_ports : NET_SVC_MAX_PORTS;
	for (size_t i = 0; i < s->n_ports; i++) {
		snprintf(s->ports[i].name, sizeof(s->ports[i].name), "%s", svc->ports[i].name);
		s->ports[i].protocol = svc->ports[i].protocol;
		s->ports[i].port = svc->ports[i].port;
	}
	s->eps = sk_calloc(svc->n_endpoints ? svc->n_endpoints : 1, sizeof(*s->eps));
	for (size_t i = 0; i < svc->n_endpoints; i++) {
		if (net_ip_parse(svc->endpoints[i].ip, &s->eps[s->n_eps].ip, &ignored) < 0)
			continue;
		snprintf(s->eps[s->n_eps].hostname, sizeof(s->eps[0].hostname), "%s",
			 svc->endpoints[i].hostname);
		s->n_eps++;
	}
	net_dns_delete_service(dns, svc->ns, svc->name);
	s->next = dns->buckets[bucket(s->ns, s->name)];
	dns->buckets[bucket(s->ns, s->name)] = s;
}

void net_dns_clear(net_dns *dns)
{
	for (size_t i = 0; i < DNS_BUCKETS; i++)
		while (dns->buckets[i]) {
			struct dns_svc *s = dns->buckets[i];
			dns->buckets[i] = s->next;
			svc_free(s);
		}
}

/* ---- answering ----------------------------------------------------------------- */

struct answer {
	ldns_pkt *pkt;
	ldns_rdf *qname;
	ldns_rr_type qtype;
	uint32_t ttl;
	int rcode;
	bool found; /* the name exists (NOERROR even with no answer) */
};

static void add_a(struct answer *a, const ldns_rdf *owner, uint32_t ip)
{
	uint32_t nbo = htonl(ip);
	ldns_rr *rr = ldns_rr_new();

	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_A);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, a->ttl);
	ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &nbo));
	ldns_pkt_push_rr(a->pkt, LDNS_SECTION_ANSWER, rr);
}

static void add_srv(struct answer *a, const ldns_rdf *owner, uint16_t port, const char *target)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *t = ldns_dname_new_frm_str(target);

	if (!t) {
		ldns_rr_free(rr);
		return;
	}
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_SRV);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, a->ttl);
	ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 100));
	ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, port));
	ldns_rr_push_rdf(rr, t);
	ldns_pkt_push_rr(a->pkt, LDNS_SECTION_ANSWER, rr);
}

/* "10-88-0-5" -> 10.88.0.5 */
static bool dashed_ip(const char *s, uint32_t *ip)
{
	unsigned b[4];
	char tail;

	if (sscanf(s, "%3u-%3u-%3u-%3u%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (b[i] > 255)
			return false;
	*ip = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	return true;
}

static void ep_name(const struct dns_svc *s, const struct dns_ep *e, const char *domain, char *buf,
		    size_t n)
{
	if (e->hostname[0])
		snprintf(buf, n, "%s.%s.%s.svc.%s.", e->hostname, s->name, s->ns, domain);
	else
		snprintf(buf, n, "%u-%u-%u-%u.%s.%s.svc.%s.", e->ip >> 24, (e->ip >> 16) & 255,
			 (e->ip >> 8) & 255, e->ip & 255, s->name, s->ns, domain);
}

static void answer_service_srv(net_dns *dns, struct answer *a, const struct dns_svc *s,
			       const struct dns_port *only)
{
	char target[300];

	for (size_t i = 0; i < s->n_ports; i++) {
		const struct dns_port *p = &s->ports[i];
		if (!p->name[0] || (only && p != only))
			continue;
		if (!s->headless) {
			snprintf(target, sizeof(target), "%s.%s.svc.%s.", s->name, s->ns,
				 dns->domain);
			add_srv(a, a->qname, p->port, target);
			continue;
		}
		for (size_t e = 0; e < s->n_eps; e++) {
			ep_name(s, &s->eps[e], dns->domain, target, sizeof(target));
			add_srv(a, a->qname, p->port, target);
		}
	}
}

static void answer_service(net_dns *dns, struct answer *a, const struct dns_svc *s)
{
	a->found = true;
	if (a->qtype == LDNS_RR_TYPE_SRV) {
		answer_service_srv(dns, a, s, NULL);
		return;
	}
	if (a->qtype != LDNS_RR_TYPE_A && a->qtype != LDNS_RR_TYPE_ANY)
		return;
	if (!s->headless) {
		add_a(a, a->qname, s->cluster_ip);
		return;
	}
	for (size_t e = 0; e < s->n_eps; e++)
		add_a(a, a->qname, s->eps[e].ip);
}

static struct dns_svc *svc_find(net_dns *dns, const char *ns, const char *name)
{
	return *svc_slot(dns, ns, name);
}

/* labels[0..n) of the name below the cluster domain, e.g. {web, default, svc} */
static void answer_svc_names(net_dns *dns, struct answer *a, char **l, size_t n)
{
	struct dns_svc *s;

	if (n == 3) {
		if ((s = svc_find(dns, l[1], l[0])))
			answer_service(dns, a, s);
		return;
	}
	if (n == 5 && l[0][0] == '_' && l[1][0] == '_' && (s = svc_find(dns, l[3], l[2]))) {
		for (size_t i = 0; i < s->n_ports; i++) {
			const struct dns_port *p = &s->ports[i];
			if (!p->name[0] || strcmp(p->name, l[0] + 1) ||
			    strcmp(net_proto_name(p->protocol), l[1] + 1))
				continue;
			a->found = true;
			if (a->qtype == LDNS_RR_TYPE_SRV || a->qtype == LDNS_RR_TYPE_ANY)
				answer_service_srv(dns, a, s, p);
		}
		return;
	}
	if (n == 4 && (s = svc_find(dns, l[2], l[1])) && s->headless) {
		for (size_t e = 0; e < s->n_eps; e++) {
			uint32_t ip;
			bool match = s->eps[e].hostname[0]
					     ? !strcmp(s->eps[e].hostname, l[0])
					     : dashed_ip(l[0], &ip) && ip == s->eps[e].ip;
			if (!match)
				continue;
			a->found = true;
			if (a->qtype == LDNS_RR_TYPE_A || a->qtype == LDNS_RR_TYPE_ANY)
				add_a(a, a->qname, s->eps[e].ip);
		}
	}
}

static void answer_cluster(net_dns *dns, struct answer *a, char *rel)
{
	char *labels[8], *save = NULL;
	size_t n = 0;
	uint32_t ip;

	for (char *t = strtok_r(rel, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
		if (n == SK_ARRAY_SIZE(labels))
			return; /* deeper than any cluster name: NXDOMAIN */
		labels[n++] = t;
	}
	if (n >= 3 && !strcmp(labels[n - 1], "svc"))
		answer_svc_names(dns, a, labels, n);
	else if (n == 3 && !strcmp(labels[2], "pod") && net_is_dns_label(labels[1]) &&
		 dashed_ip(labels[0], &ip)) {
		a->found = true;
		if (a->qtype == LDNS_RR_TYPE_A || a->qtype == LDNS_RR_TYPE_ANY)
			add_a(a, a->qname, ip);
	} else if (n == 0 || (n == 1 && (!strcmp(labels[0], "svc") || !strcmp(labels[0], "pod"))) ||
		   (n == 2 && !strcmp(labels[1], "svc"))) {
		a->found = true; /* zone apex, svc and namespaces exist, hold nothing */
	}
	if (!a->found)
		a->rcode = LDNS_RCODE_NXDOMAIN;
}

/* The query's name in lower case without the final dot; NULL if too long. */
static char *qname_text(const ldns_rdf *qname)
{
	char *s = ldns_rdf2str(qname);
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	if (n && s[n - 1] == '.')
		s[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	return s;
}

/* Relative part of name below domain ("" for the domain itself), or NULL. */
static char *below_domain(char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n == d && !strcmp(name, domain))
		return name + n;
	if (n > d && name[n - d - 1] == '.' && !strcmp(name + n - d, domain)) {
		name[n - d - 1] = '\0';
		return name;
	}
	return NULL;
}

static int reply_wire(ldns_pkt *pkt, uint8_t *reply, size_t cap)
{
	uint8_t *wire = NULL;
	size_t size = 0;

	if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK)
		return 0;
	if (size > cap) {
		/* too big for the client: say so (TC), send the header and question */
		ldns_rr_list_deep_free(ldns_pkt_answer(pkt));
		ldns_pkt_set_answer(pkt, ldns_rr_list_new());
		ldns_pkt_set_ancount(pkt, 0);
		ldns_pkt_set_tc(pkt, true);
		free(wire);
		wire = NULL;
		if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK || size > cap) {
			free(wire);
			return 0;
		}
	}
	memcpy(reply, wire, size);
	free(wire);
	return (int)size;
}

static ldns_pkt *reply_new(const ldns_pkt *q)
{
	ldns_pkt *r = ldns_pkt_new();

	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(r, ldns_pkt_rd(q));
	ldns_pkt_set_ra(r, true);
	return r;
}

int net_dns_answer(net_dns *dns, const uint8_t *query, size_t len, uint8_t *reply, size_t cap)
{
	ldns_pkt *q = NULL;
	struct answer a = {.ttl = dns->ttl, .rcode = LDNS_RCODE_NOERROR};
	_cleanup_free_ char *name = NULL;
	char *rel;
	int ret;

	if (len < LDNS_HEADER_SIZE || len > 65535 ||
	    ldns_wire2pkt(&q, query, len) != LDNS_STATUS_OK)
		return 0;
	if (ldns_pkt_qr(q)) {
		ldns_pkt_free(q);
		return 0;
	}
	a.pkt = reply_new(q);
	if (ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY || ldns_pkt_qdcount(q) != 1) {
		ldns_pkt_set_rcode(a.pkt, ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY
						  ? LDNS_RCODE_NOTIMPL
						  : LDNS_RCODE_FORMERR);
		goto out;
	}
	ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	ldns_pkt_push_rr(a.pkt, LDNS_SECTION_QUESTION, ldns_rr_clone(question));
	a.qname = ldns_rr_owner(question);
	a.qtype = ldns_rr_get_type(question);
	name = qname_text(a.qname);
	rel = name ? below_domain(name, dns->domain) : NULL;
	if (!rel) {
		ldns_pkt_free(a.pkt);
		ldns_pkt_free(q);
		return -1; /* not ours: forward */
	}
	answer_cluster(dns, &a, rel);
	ldns_pkt_set_aa(a.pkt, true);
	ldns_pkt_set_rcode(a.pkt, (uint8_t)a.rcode);
out:
	ret = reply_wire(a.pkt, reply, cap);
	ldns_pkt_free(a.pkt);
	ldns_pkt_free(q);
	return ret;
}

/* Room for an answer to a UDP query: 512, or the EDNS0 size it offers. */
static size_t udp_reply_cap(const uint8_t *query, size_t len)
{
	ldns_pkt *q = NULL;
	size_t cap = DNS_UDP_PLAIN;

	if (ldns_wire2pkt(&q, query, len) == LDNS_STATUS_OK && ldns_pkt_edns(q) &&
	    ldns_pkt_edns_udp_size(q) > DNS_UDP_PLAIN)
		cap = ldns_pkt_edns_udp_size(q) < 4096 ? ldns_pkt_edns_udp_size(q) : 4096;
	ldns_pkt_free(q);
	return cap;
}

/* A SERVFAIL for a query we could not forward. */
static int servfail(const uint8_t *query, size_t len, uint8_t *reply, size_t cap)
{
	if (len < LDNS_HEADER_SIZE || cap < LDNS_HEADER_SIZE)
		return 0;
	memcpy(reply, query, LDNS_HEADER_SIZE);
	reply[2] = (uint8_t)((reply[2] & 0x79) | 0x80); /* QR, keep opcode and RD */
	reply[3] = 0x80 | LDNS_RCODE_SERVFAIL;		/* RA */
	memset(reply + 4, 0, 8);
	return LDNS_HEADER_SIZE;
}

/* ---- forwarding ------------------------------------------------------------------- */

static int tcp_send(struct dns_tcp *c, const uint8_t *msg, size_t len);
static void tcp_close(struct dns_tcp *c);

static void pending_unlink(net_dns *dns, struct dns_pending *p)
{
	for (struct dns_pending **pp = &dns->pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	dns->n_pending--;
	free(p->query);
	free(p);
}

/* Send an answer to the client of p and forget p. p leaves the list
 * before the send: a failing TCP send closes the connection, which drops
 * that connection's pending queries. */
static void deliver(net_dns *dns, struct dns_pending *p, uint8_t *msg, size_t len)
{
	struct dns_tcp *tcp = p->tcp;
	struct sockaddr_in client = p->client;

	msg[0] = (uint8_t)(p->orig_id >> 8);
	msg[1] = (uint8_t)p->orig_id;
	pending_unlink(dns, p);
	if (tcp)
		tcp_send(tcp, msg, len);
	else
		sendto(dns->udp_fd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&client,
		       sizeof(client));
}

static int forward_timeout(sk_loop *loop, void *data);

static void forward_send(net_dns *dns, struct dns_pending *p)
{
	p->query[0] = (uint8_t)(p->id >> 8);
	p->query[1] = (uint8_t)p->id;
	sendto(dns->up_fd, p->query, p->len, MSG_DONTWAIT,
	       (struct sockaddr *)&dns->upstreams[p->upstream], sizeof(dns->upstreams[0]));
	p->timer = sk_loop_add_timer(dns->loop, DNS_FORWARD_TIMEOUT_MS, forward_timeout, p);
}

static int forward_timeout(sk_loop *loop SK_UNUSED, void *data)
{
	struct dns_pending *p = data;
	net_dns *dns = p->dns;
	uint8_t msg[LDNS_HEADER_SIZE];
	int n;

	if (++p->upstream < dns->n_upstreams) {
		forward_send(dns, p);
		return 0;
	}
	n = servfail(p->query, p->len, msg, sizeof(msg));
	if (n > 0)
		deliver(dns, p, msg, (size_t)n);
	else
		pending_unlink(dns, p);
	return 0;
}

static void forward(net_dns *dns, const uint8_t *query, size_t len,
		    const struct sockaddr_in *client, struct dns_tcp *tcp)
{
	struct dns_pending *p;
	uint8_t msg[LDNS_HEADER_SIZE];
	int n;

	p = sk_calloc(1, sizeof(*p));
	p->dns = dns;
	p->orig_id = (uint16_t)(query[0] << 8 | query[1]);
	/* an unguessable id: an off-path sender cannot forge the answer */
	if (getrandom(&p->id, sizeof(p->id), GRND_NONBLOCK) != sizeof(p->id))
		p->id = (uint16_t)random();
	if (client)
		p->client = *client;
	p->tcp = tcp;
	p->query = sk_malloc(len);
	memcpy(p->query, query, len);
	p->len = len;
	p->next = dns->pending;
	dns->pending = p;
	dns->n_pending++;
	if (dns->n_upstreams > 0 && dns->n_pending <= DNS_MAX_PENDING) {
		forward_send(dns, p);
		return;
	}
	n = servfail(query, len, msg, sizeof(msg));
	if (n > 0)
		deliver(dns, p, msg, (size_t)n);
	else
		pending_unlink(dns, p);
}

static int on_upstream(sk_loop *loop SK_UNUSED, int fd, uint32_t events SK_UNUSED, void *data)
{
	net_dns *dns = data;
	uint8_t buf[65536];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) >=
	       0) {
		uint16_t id = n >= 2 ? (uint16_t)(buf[0] << 8 | buf[1]) : 0;
		fl = sizeof(from);
		if (n < LDNS_HEADER_SIZE)
			continue;
		for (struct dns_pending *p = dns->pending; p; p = p->next) {
			const struct sockaddr_in *up = &dns->upstreams[p->upstream];
			if (p->id != id || from.sin_addr.s_addr != up->sin_addr.s_addr ||
			    from.sin_port != up->sin_port)
				continue;
			sk_loop_cancel_timer(dns->loop, p->timer);
			deliver(dns, p, buf, (size_t)n);
			break;
		}
	}
	return 0;
}

/* ---- UDP and TCP front ends ---------------------------------------------------------- */

static int on_udp(sk_loop *loop SK_UNUSED, int fd, uint32_t events SK_UNUSED, void *data)
{
	net_dns *dns = data;
	uint8_t buf[65536], reply[4096];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl)) >=
	       0) {
		int r = net_dns_answer(dns, buf, (size_t)n, reply, udp_reply_cap(buf, (size_t)n));
		fl = sizeof(from);
		if (r > 0)
			sendto(fd, reply, (size_t)r, MSG_DONTWAIT, (struct sockaddr *)&from,
			       sizeof(from));
		else if (r < 0)
			forward(dns, buf, (size_t)n, &from, NULL);
	}
	return 0;
}

/* Replies are small against a socket buffer; a client that does not read
 * them loses its connection rather than making us hold memory. Returns -1
 * when c was closed (and freed). */
static int tcp_send(struct dns_tcp *c, const uint8_t *msg, size_t len)
{
	uint8_t hdr[2] = {(uint8_t)(len >> 8), (uint8_t)len};

	if (send(c->fd, hdr, 2, MSG_DONTWAIT | MSG_NOSIGNAL) != 2 ||
	    send(c->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
		tcp_close(c);
		return -1;
	}
	return 0;
}

static void tcp_forget_pending(net_dns *dns, struct dns_tcp *c)
{
	struct dns_pending *p = dns->pending;

	while (p) {
		struct dns_pending *next = p->next;
		if (p->tcp == c) {
			sk_loop_cancel_timer(dns->loop, p->timer);
			pending_unlink(dns, p);
		}
		p = next;
	}
}

static void tcp_close(struct dns_tcp *c)
{
	net_dns *dns = c->dns;

	if (c->fd < 0)
		return;
	sk_loop_del_fd(dns->loop, c->fd);
	sk_loop_cancel_timer(dns->loop, c->timer);
	tcp_forget_pending(dns, c);
	close(c->fd);
	c->fd = -1;
	for (struct dns_tcp **pp = &dns->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	dns->n_conns--;
	free(c->buf);
	free(c);
}

static int tcp_idle(sk_loop *loop SK_UNUSED, void *data)
{
	struct dns_tcp *c = data;

	c->timer = 0;
	tcp_close(c);
	return 0;
}

/* Answer every complete message in the buffer. */
static void tcp_process(struct dns_tcp *c)
{
	net_dns *dns = c->dns;
	uint8_t reply[65535];

	while (c->len >= 2) {
		size_t m = (size_t)c->buf[0] << 8 | c->buf[1];
		if (c->len < m + 2)
			return;
		int r = net_dns_answer(dns, c->buf + 2, m, reply, sizeof(reply));
		if (r > 0) {
			if (tcp_send(c, reply, (size_t)r) < 0)
				return;
		} else if (r < 0)
			forward(dns, c->buf + 2, m, NULL, c);
		else {
			tcp_close(c); /* malformed: drop the connection */
			return;
		}
		memmove(c->buf, c->buf + 2 + m, c->len - 2 - m);
		c->len -= 2 + m;
	}
}

static int on_tcp_conn(sk_loop *loop, int fd SK_UNUSED, uint32_t events, void *data)
{
	struct dns_tcp *c = data;
	ssize_t n;

	if (events & (EPOLLERR | EPOLLHUP)) {
		tcp_close(c);
		return 0;
	}
	n = recv(c->fd, c->buf + c->len, 2 + 65535 - c->len, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			tcp_close(c);
		return 0;
	}
	c->len += (size_t)n;
	sk_loop_cancel_timer(loop, c->timer);
	c->timer = sk_loop_add_timer(loop, DNS_TCP_IDLE_MS, tcp_idle, c);
	tcp_process(c);
	return 0;
}

static int on_tcp_accept(sk_loop *loop, int fd, uint32_t events SK_UNUSED, void *data)
{
	net_dns *dns = data;
	int cfd;
	sk_err ignored;

	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct dns_tcp *c;
		if (dns->n_conns >= DNS_MAX_TCP) {
			close(cfd);
			continue;
		}
		c = sk_calloc(1, sizeof(*c));
		c->dns = dns;
		c->fd = cfd;
		c->buf = sk_malloc(2 + 65535);
		if (sk_loop_add_fd(loop, cfd, EPOLLIN, on_tcp_conn, c, &ignored) < 0) {
			close(cfd);
			free(c->buf);
			free(c);
			continue;
		}
		c->timer = sk_loop_add_timer(loop, DNS_TCP_IDLE_MS, tcp_idle, c);
		c->next = dns->conns;
		dns->conns = c;
		dns->n_conns++;
	}
	return 0;
}

/* ---- set-up -------------------------------------------------------------------------- */

static int parse_hostport(const char *s, uint16_t defport, struct sockaddr_in *out, sk_err *err)
{
	char ip[16];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	int64_t port = defport;
	uint32_t a;

	if (n >= sizeof(ip))
		return sk_err_set(err, EINVAL, "\"%s\": not IP[:PORT]", s);
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (net_ip_parse(ip, &a, err) < 0 ||
	    (colon && sk_parse_int64(colon + 1, 1, 65535, &port, err) < 0))
		return sk_err_wrap(err, "\"%s\"", s);
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_addr.s_addr = htonl(a);
	out->sin_port = htons((uint16_t)port);
	return 0;
}

static void upstreams_from_resolv_conf(net_dns *dns, const struct sockaddr_in *self)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	sk_err ignored;

	if (sk_read_file("/etc/resolv.conf", 65536, &text, NULL, &ignored) < 0)
		return;
	for (char *l = strtok_r(text, "\n", &save); l && dns->n_upstreams < DNS_MAX_UPSTREAMS;
	     l = strtok_r(NULL, "\n", &save)) {
		char ip[64];
		struct sockaddr_in a;
		if (sscanf(l, " nameserver %63s", ip) != 1 ||
		    parse_hostport(ip, 53, &a, &ignored) < 0)
			continue;
		if (a.sin_addr.s_addr == self->sin_addr.s_addr && a.sin_port == self->sin_port)
			continue;
		dns->upstreams[dns->n_upstreams++] = a;
	}
}

static int bind_socket(int type, const struct sockaddr_in *addr, int *out, sk_err *err)
{
	_cleanup_close_ int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char ip[16];

	if (fd < 0)
		return sk_err_sys(err, errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		net_ip_format(ntohl(addr->sin_addr.s_addr), ip, sizeof(ip));
		return sk_err_sys(err, errno, "bind %s %s:%u", type == SOCK_STREAM ? "TCP" : "UDP",
				  ip, ntohs(addr->sin_port));
	}
	if (type == SOCK_STREAM && listen(fd, 64) < 0)
		return sk_err_sys(err, errno, "listen");
	*out = move_fd(fd);
	return 0;
}

static int dns_sockets(net_dns *dns, const struct sockaddr_in *self, sk_err *err)
{
	struct sockaddr_in any = {.sin_family = AF_INET};

	if (bind_socket(SOCK_DGRAM, self, &dns->udp_fd, err) < 0 ||
	    bind_socket(SOCK_STREAM, self, &dns->tcp_fd, err) < 0 ||
	    bind_socket(SOCK_DGRAM, &any, &dns->up_fd, err) < 0)
		return -1;
	if (sk_loop_add_fd(dns->loop, dns->udp_fd, EPOLLIN, on_udp, dns, err) < 0 ||
	    sk_loop_add_fd(dns->loop, dns->tcp_fd, EPOLLIN, on_tcp_accept, dns, err) < 0 ||
	    sk_loop_add_fd(dns->loop, dns->up_fd, EPOLLIN, on_upstream, dns, err) < 0)
		return -1;
	return 0;
}

int net_dns_new(sk_loop *loop, const struct net_dns_config *cfg, net_dns **out, sk_err *err)
{
	net_dns *dns = sk_calloc(1, sizeof(*dns));
	struct sockaddr_in self;
	char listen[32];

	dns->loop = loop;
	dns->udp_fd = dns->tcp_fd = dns->up_fd = -1;
	dns->ttl = cfg->ttl ? cfg->ttl : 5;
	dns->domain = sk_strdup(cfg->domain ? cfg->domain : "cluster.local");
	for (char *p = dns->domain; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	snprintf(listen, sizeof(listen), "%s", cfg->listen_addr ? cfg->listen_addr : "0.0.0.0");
	if (parse_hostport(listen, cfg->port ? cfg->port : 53, &self, err) < 0)
		goto fail;
	if (cfg->port)
		self.sin_port = htons(cfg->port);
	for (size_t i = 0; i < cfg->n_upstreams && dns->n_upstreams < DNS_MAX_UPSTREAMS; i++)
		if (parse_hostport(cfg->upstreams[i], 53, &dns->upstreams[dns->n_upstreams++],
				   err) < 0)
			goto fail;
	if (!cfg->upstreams)
		upstreams_from_resolv_conf(dns, &self);
	if (loop && dns_sockets(dns, &self, err) < 0)
		goto fail;
	srandom((unsigned)sk_monotonic_ns());
	*out = dns;
	return 0;
fail:
	net_dns_free(dns);
	return sk_err_wrap(err, "DNS server");
}

void net_dns_free(net_dns *dns)
{
	if (!dns)
		return;
	while (dns->conns)
		tcp_close(dns->conns);
	while (dns->pending) {
		sk_loop_cancel_timer(dns->loop, dns->pending->timer);
		pending_unlink(dns, dns->pending);
	}
	int fds[] = {dns->udp_fd, dns->tcp_fd, dns->up_fd};
	for (size_t i = 0; i < SK_ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0) {
			if (dns->loop)
				sk_loop_del_fd(dns->loop, fds[i]);
			close(fds[i]);
		}
	net_dns_clear(dns);
	free(dns->domain);
	free(dns);
}
