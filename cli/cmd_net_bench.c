/* Hidden benchmark drivers for netns/, timed in-process so that what is
 * measured is the network work, not the start of a process:
 *   skiff net-bench-svc --existing N --samples K [node options]
 *       set N Services, then time K more (each one nft transaction)
 *   skiff net-bench-pod --count K [node options]
 *       time K pod network set-ups and teardowns
 * Both print one line per figure: "name median_ms p90_ms". */
#include "cli.h"

#include "../netns/netns.h"

#include <getopt.h>
#include <time.h>

/* CPU time of this thread (user + system, which includes the kernel's
 * work for our netlink messages): unlike wall time, not inflated when
 * other work on the machine takes the CPU away. */
static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, double *ms, size_t n)
{
	qsort(ms, n, sizeof(*ms), cmp_double);
	printf("%s median_ms=%.3f p90_ms=%.3f n=%zu\n", name, ms[n / 2], ms[n * 9 / 10], n);
}

struct bench_opts {
	struct net_node_config node;
	long existing, samples, start;
};

static int parse_bench(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 's'},
		{"bridge", required_argument, NULL, 'b'},
		{"table", required_argument, NULL, 't'},
		{"existing", required_argument, NULL, 'e'},
		{"samples", required_argument, NULL, 'n'},
		{"count", required_argument, NULL, 'n'},
		{"start", required_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->samples = 20;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->node.state_dir = optarg;
			break;
		case 'b':
			o->node.bridge = optarg;
			break;
		case 't':
			o->node.table = optarg;
			break;
		case 'e':
			o->existing = atol(optarg);
			break;
		case 'n':
			o->samples = atol(optarg);
			break;
		case 'S':
			o->start = atol(optarg);
			break;
		default:
			return cli_failf("bad option");
		}
	}
	if (o->existing < 0 || o->existing > 60000 || o->samples < 1 || o->samples > 250)
		return cli_failf("--existing 0..60000, --samples/--count 1..250");
	return 0;
}

/* Service i: ClusterIP 10.96.x.y from i, two endpoints. */
static void bench_service(long i, struct net_service *s, struct net_endpoint eps[2])
{
	memset(s, 0, sizeof(*s));
	memset(eps, 0, 2 * sizeof(*eps));
	snprintf(s->ns, sizeof(s->ns), "bench");
	snprintf(s->name, sizeof(s->name), "svc-%ld", i);
	snprintf(s->cluster_ip, sizeof(s->cluster_ip), "10.96.%ld.%ld", (i + 1) / 250 % 250,
		 (i + 1) % 250 + 1);
	s->n_ports = 1;
	s->ports[0] = (struct net_service_port){"", IPPROTO_TCP, 80, 8080, 0};
	snprintf(eps[0].ip, sizeof(eps[0].ip), "10.88.%ld.%ld", i % 200, i % 250 + 2);
	snprintf(eps[1].ip, sizeof(eps[1].ip), "10.88.%ld.%ld", (i + 7) % 200, (i + 3) % 250 + 2);
	s->n_endpoints = 2;
	s->endpoints = eps;
}

static int cmd_net_bench_svc(int argc, char **argv)
{
	_cleanup_net_node_ net_node *node = NULL;
	struct bench_opts o;
	struct net_service s;
	struct net_endpoint eps[2];
	_cleanup_free_ double *ms = NULL, *cpu = NULL;
	sk_err err = {0};

	if (parse_bench(argc, argv, &o))
		return 1;
	if (net_node_open(&o.node, &node, &err) < 0)
		return cli_fail(&err);
	for (long i = 0; i < o.existing; i++) {
		bench_service(o.start + i, &s, eps);
		if (net_lb_set_service(node, &s, &err) < 0)
			return cli_fail(&err);
	}
	ms = sk_calloc((size_t)o.samples, sizeof(*ms));
	cpu = sk_calloc((size_t)o.samples, sizeof(*cpu));
	for (long k = 0; k < o.samples; k++) {
		int64_t t0, c0;
		bench_service(o.start + o.existing + k, &s, eps);
		t0 = sk_monotonic_ns();
		c0 = cpu_ns();
		if (net_lb_set_service(node, &s, &err) < 0)
			return cli_fail(&err);
		cpu[k] = (double)(cpu_ns() - c0) / 1e6;
		ms[k] = (double)(sk_monotonic_ns() - t0) / 1e6;
	}
	for (long k = 0; k < o.samples; k++) {
		bench_service(o.start + o.existing + k, &s, eps);
		if (net_lb_delete_service(node, s.ns, s.name, &err) < 0)
			return cli_fail(&err);
	}
	char label[64];
	snprintf(label, sizeof(label), "add-one-service existing=%ld wall", o.existing);
	report(label, ms, (size_t)o.samples);
	snprintf(label, sizeof(label), "add-one-service existing=%ld cpu", o.existing);
	report(label, cpu, (size_t)o.samples);
	return 0;
}
SK_COMMAND_HIDDEN(net_bench_svc, "net-bench-svc", cmd_net_bench_svc);

static int cmd_net_bench_pod(int argc, char **argv)
{
	_cleanup_net_node_ net_node *node = NULL;
	_cleanup_free_ double *up = NULL, *down = NULL;
	struct bench_opts o;
	struct net_pod pod;
	sk_err err = {0};
	char uid[64];

	if (parse_bench(argc, argv, &o))
		return 1;
	if (net_node_open(&o.node, &node, &err) < 0)
		return cli_fail(&err);
	up = sk_calloc((size_t)o.samples, sizeof(*up));
	down = sk_calloc((size_t)o.samples, sizeof(*down));
	/* all set-ups, then all teardowns: a teardown's namespace is destroyed
	 * by a kernel worker afterwards, which would otherwise compete with
	 * the next set-up for the RTNL lock */
	for (long k = 0; k < o.samples; k++) {
		struct net_host_port hp = {IPPROTO_TCP, (uint16_t)(9000 + k), 80};
		struct net_pod_config cfg = {.uid = uid, .host_ports = &hp, .n_host_ports = 1};
		int64_t t0;
		snprintf(uid, sizeof(uid), "bench-%ld", k);
		t0 = sk_monotonic_ns();
		if (net_pod_setup(node, &cfg, &pod, &err) < 0)
			return cli_fail(&err);
		up[k] = (double)(sk_monotonic_ns() - t0) / 1e6;
	}
	for (long k = 0; k < o.samples; k++) {
		int64_t t0 = sk_monotonic_ns();
		snprintf(uid, sizeof(uid), "bench-%ld", k);
		if (net_pod_teardown(node, uid, &err) < 0)
			return cli_fail(&err);
		down[k] = (double)(sk_monotonic_ns() - t0) / 1e6;
	}
	report("pod-network-setup", up, (size_t)o.samples);
	report("pod-network-teardown", down, (size_t)o.samples);
	return 0;
}
SK_COMMAND_HIDDEN(net_bench_pod, "net-bench-pod", cmd_net_bench_pod);
