/* The ClusterIP and NodePort allocators. */
#include "../../server/srv_internal.h"
#include "tap.h"

#include <errno.h>

int main(void)
{
	srv_ipalloc *a;
	srv_portalloc *p;
	sk_err err = {0};
	char ip[64];
	int port, n = 0;

	ok(srv_ipalloc_new("10.96.0.0/16", &a, &err) == 0, "a /16");
	srv_ipalloc_nth(a, 1, ip, sizeof(ip));
	is_str(ip, "10.96.0.1", "its first address");
	ok(srv_ipalloc_take(a, "10.96.0.1", ip, sizeof(ip), &err) == 0, "take the first address");
	ok(srv_ipalloc_take(a, "10.96.0.1", ip, sizeof(ip), &err) < 0 && err.code == EEXIST,
	   "taking it twice: EEXIST");
	ok(srv_ipalloc_take(a, "10.97.0.1", ip, sizeof(ip), &err) < 0 && err.code == ERANGE,
	   "outside the range: ERANGE");
	like(err.msg, "The range of valid IPs is 10.96.0.0/16", "... the message names the range");
	ok(srv_ipalloc_take(a, "10.96.0.0", ip, sizeof(ip), &err) < 0 && err.code == ERANGE,
	   "the network address: ERANGE");
	ok(srv_ipalloc_take(a, "10.96.255.255", ip, sizeof(ip), &err) < 0,
	   "the broadcast address is refused");
	ok(srv_ipalloc_take(a, NULL, ip, sizeof(ip), &err) == 0 && srv_ipalloc_contains(a, ip),
	   "a random address is in the range (%s)", ip);
	srv_ipalloc_release(a, "10.96.0.1");
	ok(srv_ipalloc_take(a, "10.96.0.1", ip, sizeof(ip), &err) == 0,
	   "released, it can be taken");
	srv_ipalloc_free(a);

	ok(srv_ipalloc_new("10.0.0.0/28", &a, &err) == 0, "a /28");
	while (srv_ipalloc_take(a, NULL, ip, sizeof(ip), &err) == 0)
		n++;
	is_int(n, 14, "it holds 14 addresses");
	is_int(err.code, ENOSPC, "then ENOSPC");
	srv_ipalloc_free(a);
	ok(srv_ipalloc_new("10.0.0.0/8", &a, &err) < 0, "a /8 is refused");
	ok(srv_ipalloc_new("nonsense", &a, &err) < 0, "nonsense is refused");

	srv_portalloc_new(30000, 30009, &p);
	ok(srv_portalloc_take(p, 30005, &port, &err) == 0 && port == 30005, "take port 30005");
	ok(srv_portalloc_take(p, 30005, &port, &err) < 0 && err.code == EEXIST, "again: EEXIST");
	ok(srv_portalloc_take(p, 80, &port, &err) < 0 && err.code == ERANGE, "port 80: ERANGE");
	n = 1;
	while (srv_portalloc_take(p, 0, &port, &err) == 0) {
		ok(port >= 30000 && port <= 30009 && port != 30005, "free port %d", port);
		n++;
	}
	is_int(n, 10, "ten ports in 30000-30009");
	srv_portalloc_release(p, 30003);
	ok(srv_portalloc_take(p, 0, &port, &err) == 0 && port == 30003, "a released port returns");
	srv_portalloc_free(p);
	return done_testing();
}
