/* IPv4 addresses and CIDRs: parsed strictly, kept in host byte order. */
#include "net_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int net_ip_parse(const char *s, uint32_t *out, sk_err *err)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return sk_err_set(err, EINVAL, "\"%s\": not an IPv4 address", s ? s : "");
	*out = ntohl(a.s_addr);
	return 0;
}

void net_ip_format(uint32_t ip, char *buf, size_t n)
{
	struct in_addr a = {.s_addr = htonl(ip)};

	if (!inet_ntop(AF_INET, &a, buf, (socklen_t)n) && n)
		buf[0] = '\0';
}

static uint32_t prefix_mask(int prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int net_cidr_parse(const char *s, struct net_cidr *out, sk_err *err)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char ipbuf[16];
	int64_t prefix = 0;
	uint32_t ip = 0;

	if (!slash || (size_t)(slash - s) >= sizeof(ipbuf))
		return sk_err_set(err, EINVAL, "\"%s\": not a CIDR (want A.B.C.D/N)", s ? s : "");
	memcpy(ipbuf, s, (size_t)(slash - s));
	ipbuf[slash - s] = '\0';
	if (net_ip_parse(ipbuf, &ip, err) < 0 || sk_parse_int64(slash + 1, 0, 32, &prefix, err) < 0)
		return sk_err_set(err, EINVAL, "\"%s\": not a CIDR (want A.B.C.D/N)", s);
	if (ip & ~prefix_mask((int)prefix))
		return sk_err_set(err, EINVAL, "\"%s\": host bits are set", s);
	out->addr = ip;
	out->prefix = (int)prefix;
	return 0;
}

bool net_cidr_contains(const struct net_cidr *c, uint32_t ip)
{
	return (ip & prefix_mask(c->prefix)) == c->addr;
}

/* FNV-1a: names nft chains and veths after the objects they serve. */
uint64_t net_hash64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* RFC 1123 label, as Kubernetes names of namespaces and Services. */
bool net_is_dns_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

const char *net_proto_name(int protocol)
{
	return protocol == IPPROTO_UDP ? "udp" : "tcp";
}

/* State files live under the run directory (/run/skiff), which does not
 * outlive a reboot: they must survive a crash of skiff, which the page
 * cache guarantees, not of the machine. So: a temporary name and a
 * rename (readers see old or new), without the fsyncs that would cost
 * milliseconds per pod on a disk-backed /run. */
int net_write_state(const char *path, const char *text, sk_err *err)
{
	_cleanup_free_ char *tmp = sk_asprintf("%s.tmp.%d", path, (int)getpid());
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return sk_err_sys(err, errno, "create %s", tmp);
	if (sk_write_all(fd, text, strlen(text)) < 0) {
		int e = errno;
		unlink(tmp);
		return sk_err_sys(err, e, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sk_err_sys(err, e, "rename %s", tmp);
	}
	return 0;
}
