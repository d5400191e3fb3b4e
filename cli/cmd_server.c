/* `skiff server`: the API server (see server/server.h and docs/server.md). */
#include "../controllers/controllers.h"
#include "../server/server.h"
#include "cli.h"

#include <getopt.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: skiff server [OPTIONS]\n"
		"\n"
		"Run the Kubernetes API server: HTTPS, bearer-token auth, the SQLite store.\n"
		"\n"
		"  --data-dir DIR           state, credentials and the admin kubeconfig\n"
		"                           (default %s)\n"
		"  --listen ADDR:PORT       address to serve on (default %s; port 0 picks one)\n"
		"  --write-kubeconfig PATH  also write the admin kubeconfig to PATH\n"
		"  --service-cidr CIDR      ClusterIP range (default %s)\n"
		"  --node-port-range LO-HI  NodePort range (default %s)\n"
		"  --disable-agent          do not run a node agent for this machine\n"
		"  --disable-scheduler      do not run the scheduler (another one binds pods)\n"
		"  --cluster-cidr CIDR      pod CIDRs for the nodes, a /24 each (default %s)\n"
		"  --node-monitor-grace-period DURATION\n"
		"                           a node without heartbeats for this long is NotReady\n"
		"                           (default 40s; 90s, 2m, 1m30s or seconds)\n"
		"  --threads N              HTTP worker threads (default 4)\n"
		"  --compact-interval SEC   store compaction period (default 300)\n"
		"  --bookmark-interval SEC  watch bookmark period (default 60)\n"
		"  --insecure-http          plain HTTP without authentication (debugging only)\n"
		"  -v, --verbose            log every request\n",
		SRV_DEFAULT_DATA_DIR, SRV_DEFAULT_LISTEN, SRV_DEFAULT_SERVICE_CIDR,
		SRV_DEFAULT_NODE_PORTS, CTL_DEFAULT_CLUSTER_CIDR);
}

static int int_arg(const char *opt, const char *v, int64_t min, int64_t max, int *out)
{
	sk_err err = {0};
	int64_t n;

	if (sk_parse_int64(v, min, max, &n, &err) < 0)
		return cli_failf("%s %s: %s", opt, v, err.msg);
	*out = (int)n;
	return 0;
}

/* A Go-style duration of whole seconds ("40s", "2m", "1m30s", "1h") or a
 * plain number of seconds, as the kube-controller-manager flag takes it. */
static int duration_arg(const char *opt, const char *v, int *out)
{
	int64_t total = 0;
	const char *p = v;

	if (!*p)
		return cli_failf("%s: empty duration", opt);
	while (*p) {
		char *end;
		long long n = strtoll(p, &end, 10);
		if (end == p || n < 0)
			return cli_failf("%s %s: expected a duration such as 40s or 2m", opt, v);
		switch (*end) {
		case 'h':
			n *= 3600;
			end++;
			break;
		case 'm':
			n *= 60;
			end++;
			break;
		case 's':
			end++;
			break;
		case '\0':
			if (p != v)
				return cli_failf("%s %s: missing unit", opt, v);
			break;
		default:
			return cli_failf("%s %s: expected a duration such as 40s or 2m", opt, v);
		}
		total += n;
		p = end;
	}
	if (total < 1 || total > 86400)
		return cli_failf("%s %s: must be between 1s and 24h", opt, v);
	*out = (int)total;
	return 0;
}

static int cmd_server(int argc, char **argv)
{
	enum {
		O_DATA = 256,
		O_LISTEN,
		O_KUBECONFIG,
		O_CIDR,
		O_PORTS,
		O_NOAGENT,
		O_THREADS,
		O_COMPACT,
		O_BOOKMARK,
		O_INSECURE,
		O_NOSCHED,
		O_CLUSTER_CIDR,
		O_GRACE,
	};
	static const struct option opts[] = {
		{"data-dir", required_argument, NULL, O_DATA},
		{"listen", required_argument, NULL, O_LISTEN},
		{"write-kubeconfig", required_argument, NULL, O_KUBECONFIG},
		{"service-cidr", required_argument, NULL, O_CIDR},
		{"node-port-range", required_argument, NULL, O_PORTS},
		{"disable-agent", no_argument, NULL, O_NOAGENT},
		{"threads", required_argument, NULL, O_THREADS},
		{"compact-interval", required_argument, NULL, O_COMPACT},
		{"bookmark-interval", required_argument, NULL, O_BOOKMARK},
		{"insecure-http", no_argument, NULL, O_INSECURE},
		{"disable-scheduler", no_argument, NULL, O_NOSCHED},
		{"cluster-cidr", required_argument, NULL, O_CLUSTER_CIDR},
		{"node-monitor-grace-period", required_argument, NULL, O_GRACE},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	srv_config cfg = {0};
	sk_err err = {0};
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case O_DATA:
			cfg.data_dir = optarg;
			break;
		case O_LISTEN:
			cfg.listen = optarg;
			break;
		case O_KUBECONFIG:
			cfg.write_kubeconfig = optarg;
			break;
		case O_CIDR:
			cfg.service_cidr = optarg;
			break;
		case O_PORTS:
			cfg.node_ports = optarg;
			break;
		case O_NOAGENT:
			cfg.disable_agent = true;
			break;
		case O_THREADS:
			if (int_arg("--threads", optarg, 1, 256, &cfg.threads))
				return 1;
			break;
		case O_COMPACT:
			if (int_arg("--compact-interval", optarg, 1, 86400,
				    &cfg.compact_interval_s))
				return 1;
			break;
		case O_BOOKMARK:
			if (int_arg("--bookmark-interval", optarg, 1, 3600,
				    &cfg.bookmark_interval_s))
				return 1;
			break;
		case O_INSECURE:
			cfg.insecure_http = true;
			break;
		case O_NOSCHED:
			cfg.disable_scheduler = true;
			break;
		case O_CLUSTER_CIDR:
			cfg.cluster_cidr = optarg;
			break;
		case O_GRACE:
			if (duration_arg("--node-monitor-grace-period", optarg,
					 &cfg.node_monitor_grace_s))
				return 1;
			break;
		case 'v':
			sk_log_level = SK_LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc)
		return cli_failf("server: unexpected argument \"%s\"", argv[optind]);
	if (srv_run(&cfg, &err) < 0)
		return cli_failf("server: %s", err.msg);
	return 0;
}
SK_COMMAND(server, "server", cmd_server, "run the Kubernetes API server");
