/* libFuzzer entry: one DNS message as the cluster DNS server receives it
 * (net_dns_answer, no sockets), with a normal and a headless Service
 * loaded, answered into a UDP-sized and a TCP-sized buffer. */
#include "../../netns/netns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static net_dns *dns;

static void setup(void)
{
	static struct net_endpoint eps[2] = {{.ip = "10.88.0.5", .hostname = "db-0"},
					     {.ip = "10.88.0.6"}};
	struct net_service web = {.ns = "default",
				  .name = "web",
				  .cluster_ip = "10.96.0.10",
				  .n_ports = 1,
				  .n_endpoints = 2,
				  .endpoints = eps};
	struct net_service db = {
		.ns = "prod", .name = "db", .n_ports = 1, .n_endpoints = 2, .endpoints = eps};
	struct net_dns_config cfg = {0};
	sk_err err;

	web.ports[0] = (struct net_service_port){"http", IPPROTO_TCP, 80, 8888, 0};
	db.ports[0] = (struct net_service_port){"pg", IPPROTO_TCP, 5432, 5432, 0};
	if (net_dns_new(NULL, &cfg, &dns, &err) < 0)
		abort();
	net_dns_set_service(dns, &web);
	net_dns_set_service(dns, &db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t reply[65535];

	if (!dns)
		setup();
	net_dns_answer(dns, data, size, reply, 512);
	net_dns_answer(dns, data, size, reply, sizeof(reply));
	return 0;
}
