/* Bitmap allocators for Service ClusterIPs (from the service CIDR) and
 * NodePorts (30000-32767). Like Kubernetes', a free address is picked at a
 * random offset so that a deleted Service's address is not handed to the
 * next one at once; the state is rebuilt from the stored Services at
 * start, so the Services are the only record. Callers serialise. */
#include "srv_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/random.h>

struct srv_ipalloc {
	uint32_t base; /* network address, host order */
	uint32_t size; /* addresses in the range */
	unsigned char *used;
	char cidr[48];
};

struct srv_portalloc {
	int lo, hi;
	unsigned char *used;
};

static bool bit_get(const unsigned char *b, uint32_t i)
{
	return b[i / 8] & (1u << (i % 8));
}

static void bit_set(unsigned char *b, uint32_t i, bool v)
{
	if (v)
		b[i / 8] |= (unsigned char)(1u << (i % 8));
	else
		b[i / 8] &= (unsigned char)~(1u << (i % 8));
}

static uint32_t random_u32(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)sk_monotonic_ns();
	return r;
}

int srv_ipalloc_new(const char *cidr, srv_ipalloc **out, sk_err *err)
{
	_cleanup_free_ char *addr = sk_strdup(cidr);
	char *slash = strchr(addr, '/');
	struct in_addr in;
	int64_t bits;

	if (!slash)
		return sk_err_set(err, EINVAL, "service CIDR %s: expected ADDRESS/BITS", cidr);
	*slash = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1)
		return sk_err_set(err, EINVAL, "service CIDR %s: not an IPv4 network", cidr);
	if (sk_parse_int64(slash + 1, 12, 28, &bits, err) < 0)
		return sk_err_wrap(err, "service CIDR %s: prefix length (12-28)", cidr);
	srv_ipalloc *a = sk_calloc(1, sizeof(*a));
	a->size = 1u << (32 - bits);
	a->base = ntohl(in.s_addr) & ~(a->size - 1);
	a->used = sk_calloc(a->size / 8 + 1, 1);
	snprintf(a->cidr, sizeof(a->cidr), "%s", cidr);
	/* the network and broadcast addresses are never handed out */
	bit_set(a->used, 0, true);
	bit_set(a->used, a->size - 1, true);
	*out = a;
	return 0;
}

void srv_ipalloc_free(srv_ipalloc *a)
{
	if (!a)
		return;
	free(a->used);
	free(a);
}

static void ip_text(uint32_t ip, char *buf, size_t len)
{
	struct in_addr in = {.s_addr = htonl(ip)};

	inet_ntop(AF_INET, &in, buf, (socklen_t)len);
}

void srv_ipalloc_nth(srv_ipalloc *a, uint32_t n, char *buf, size_t len)
{
	ip_text(a->base + n, buf, len);
}

/* Offset of ip in the range, or -1. */
static int64_t ip_offset(srv_ipalloc *a, const char *ip)
{
	struct in_addr in;
	uint32_t v;

	if (!ip || inet_pton(AF_INET, ip, &in) != 1)
		return -1;
	v = ntohl(in.s_addr);
	if (v < a->base || v >= a->base + a->size)
		return -1;
	return v - a->base;
}

bool srv_ipalloc_contains(srv_ipalloc *a, const char *ip)
{
	return ip_offset(a, ip) >= 0;
}

int srv_ipalloc_take(srv_ipalloc *a, const char *want, char *buf, size_t len, sk_err *err)
{
	if (want && *want) {
		int64_t off = ip_offset(a, want);
		if (off <= 0 || off >= (int64_t)a->size - 1)
			return sk_err_set(
				err, ERANGE,
				"the provided IP (%s) is not in the valid range. The range "
				"of valid IPs is %s",
				want, a->cidr);
		if (bit_get(a->used, (uint32_t)off))
			return sk_err_set(err, EEXIST, "provided IP is already allocated");
		bit_set(a->used, (uint32_t)off, true);
		ip_text(a->base + (uint32_t)off, buf, len);
		return 0;
	}
	uint32_t start = random_u32() % a->size;
	for (uint32_t i = 0; i < a->size; i++) {
		uint32_t off = (start + i) % a->size;
		if (!bit_get(a->used, off)) {
			bit_set(a->used, off, true);
			ip_text(a->base + off, buf, len);
			return 0;
		}
	}
	return sk_err_set(err, ENOSPC, "range is full");
}

void srv_ipalloc_release(srv_ipalloc *a, const char *ip)
{
	int64_t off = ip_offset(a, ip);

	if (off > 0 && off < (int64_t)a->size - 1)
		bit_set(a->used, (uint32_t)off, false);
}

int srv_portalloc_new(int lo, int hi, srv_portalloc **out)
{
	srv_portalloc *a = sk_calloc(1, sizeof(*a));

	a->lo = lo;
	a->hi = hi;
	a->used = sk_calloc((size_t)(hi - lo + 1) / 8 + 1, 1);
	*out = a;
	return 0;
}

void srv_portalloc_free(srv_portalloc *a)
{
	if (!a)
		return;
	free(a->used);
	free(a);
}

int srv_portalloc_take(srv_portalloc *a, int want, int *port, sk_err *err)
{
	uint32_t n = (uint32_t)(a->hi - a->lo + 1);

	if (want) {
		if (want < a->lo || want > a->hi)
			return sk_err_set(err, ERANGE,
					  "provided port is not in the valid range. The range of "
					  "valid ports is %d-%d",
					  a->lo, a->hi);
		if (bit_get(a->used, (uint32_t)(want - a->lo)))
			return sk_err_set(err, EEXIST, "provided port is already allocated");
		bit_set(a->used, (uint32_t)(want - a->lo), true);
		*port = want;
		return 0;
	}
	uint32_t start = random_u32() % n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = (start + i) % n;
		if (!bit_get(a->used, off)) {
			bit_set(a->used, off, true);
			*port = a->lo + (int)off;
			return 0;
		}
	}
	return sk_err_set(err, ENOSPC, "range is full");
}

void srv_portalloc_release(srv_portalloc *a, int port)
{
	if (port >= a->lo && port <= a->hi)
		bit_set(a->used, (uint32_t)(port - a->lo), false);
}
