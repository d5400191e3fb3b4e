/* `skiff server`: the API server (see server/server.h and docs/server.md),
 * and by default an agent for this machine, so one command gives a
 * single-node cluster (docs/agent.md). */
#include "../agent/agent.h"
#include "../controllers/controllers.h"
#include "../server/server.h"
#include "cli.h"

#include <getopt.h>
#include <pthread.h>
#include <string.h>

/* ---- the embedded agent ----------------------------------------------------
 * Started by the server's on_ready hook with the server's own URL, CA and
 * node token; it runs in a thread of its own and stops (leaving its pods
 * running) before the server stops serving. */
struct embedded_agent {
	struct agent_config cfg;
	char *data_dir, *logs, *data;
	agent *a;
	pthread_t thread;
	bool running;
};

static void *embedded_main(void *arg)
{
	struct embedded_agent *e = arg;
	sk_err err;

	if (agent_run(e->a, &err) < 0)
		sk_error("skiff server: agent: %s", err.msg);
	return NULL;
}

static int agent_ready(void *data, const char *url, const char *ca_pem, const char *token,
		       sk_err *err)
{
	struct embedded_agent *e = data;

	e->cfg.server = url;
	e->cfg.ca_pem = ca_pem;
	e->cfg.token = token;
	if (agent_new(&e->cfg, &e->a, err) < 0)
		return sk_err_wrap(err, "agent");
	int r = pthread_create(&e->thread, NULL, embedded_main, e);
	if (r != 0)
		return sk_err_sys(err, r, "start the agent");
	e->running = true;
	return 0;
}

static void agent_stopping(void *data)
{
	struct embedded_agent *e = data;

	if (!e->running)
		return;
	agent_stop(e->a);
	pthread_join(e->thread, NULL);
	e->running = false;
	agent_free(e->a);
	e->a = NULL;
}

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
		"  --node-name NAME         this machine's node (default: the host name)\n"
		"  --node-ip IP             its InternalIP\n"
		"  --agent-listen ADDR:PORT the agent's logs/exec endpoint (default "
		"0.0.0.0:10250)\n"
		"  --state-dir DIR          pods' state (default /run/skiff; logs and volumes\n"
		"                           below it when given)\n"
		"  --image-dir DIR          the image store (default /var/lib/skiff/images)\n"
		"  --cgroup-root NAME       pods' top-level cgroup (default skiff)\n"
		"  --pod-cidr CIDR          this node's pod CIDR (default: one from the cluster "
		"CIDR)\n"
		"  --bridge NAME            the pods' bridge (default skiff0)\n"
		"  --nft-table NAME         the agent's nftables table (default skiff)\n"
		"  --dns-port N             cluster DNS port on the bridge (default 53; 0: none)\n"
		"  --max-pods N             pods this node takes (default 110)\n"
		"  --disable-scheduler      do not run the scheduler (another one binds pods)\n"
		"  --cluster-cidr CIDR      pod CIDRs for the nodes, a /24 each (default %s)\n"
		"  --node-monitor-grace-period DURATION\n"
		"                           a node without heartbeats for this long is NotReady\n"
		"                           (default 40s; 90s, 2m, 1m30s or seconds)\n"
		"  --threads N              HTTP worker threads (default 4)\n"
		"  --compact-interval SEC   store compaction period (default 300)\n"
		"  --bookmark-interval SEC  watch bookmark period (default 60)\n"
		"  --sync full|normal       full (default): fsync every commit, durable across\n"
		"                           power cuts; normal: durable across kill -9 only\n"
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
		O_NODE_NAME,
		O_NODE_IP,
		O_AGENT_LISTEN,
		O_STATE_DIR,
		O_IMAGE_DIR,
		O_CGROUP_ROOT,
		O_POD_CIDR,
		O_BRIDGE,
		O_NFT_TABLE,
		O_DNS_PORT,
		O_MAX_PODS,
		O_SYNC,
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
		{"sync", required_argument, NULL, O_SYNC},
		{"disable-scheduler", no_argument, NULL, O_NOSCHED},
		{"cluster-cidr", required_argument, NULL, O_CLUSTER_CIDR},
		{"node-monitor-grace-period", required_argument, NULL, O_GRACE},
		{"node-name", required_argument, NULL, O_NODE_NAME},
		{"node-ip", required_argument, NULL, O_NODE_IP},
		{"agent-listen", required_argument, NULL, O_AGENT_LISTEN},
		{"state-dir", required_argument, NULL, O_STATE_DIR},
		{"image-dir", required_argument, NULL, O_IMAGE_DIR},
		{"cgroup-root", required_argument, NULL, O_CGROUP_ROOT},
		{"pod-cidr", required_argument, NULL, O_POD_CIDR},
		{"bridge", required_argument, NULL, O_BRIDGE},
		{"nft-table", required_argument, NULL, O_NFT_TABLE},
		{"dns-port", required_argument, NULL, O_DNS_PORT},
		{"max-pods", required_argument, NULL, O_MAX_PODS},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	srv_config cfg = {0};
	struct embedded_agent ea;
	struct agent_config *ac = &ea.cfg;
	sk_err err = {0};
	int c, n = 0, ret = 0;

	memset(&ea, 0, sizeof(ea));

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
		case O_SYNC:
			if (!strcmp(optarg, "full") || !strcmp(optarg, "normal"))
				cfg.sync_normal = !strcmp(optarg, "normal");
			else
				return cli_failf("server: --sync %s: expected full or normal",
						 optarg);
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
		case O_NODE_NAME:
			ac->node_name = optarg;
			break;
		case O_NODE_IP:
			ac->node_ip = optarg;
			break;
		case O_AGENT_LISTEN:
			ac->listen = optarg;
			break;
		case O_STATE_DIR:
			ac->state_dir = optarg;
			break;
		case O_IMAGE_DIR:
			ac->image_dir = optarg;
			break;
		case O_CGROUP_ROOT:
			ac->cgroup_root = optarg;
			break;
		case O_POD_CIDR:
			ac->pod_cidr = optarg;
			break;
		case O_BRIDGE:
			ac->bridge = optarg;
			break;
		case O_NFT_TABLE:
			ac->nft_table = optarg;
			break;
		case O_DNS_PORT:
			if (int_arg("--dns-port", optarg, 0, 65535, &n))
				return 1;
			ac->dns_port = n ? n : -1;
			break;
		case O_MAX_PODS:
			if (int_arg("--max-pods", optarg, 1, 100000, &ac->max_pods))
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
	if (!cfg.disable_agent) {
		ea.data_dir =
			sk_path_join(cfg.data_dir ? cfg.data_dir : SRV_DEFAULT_DATA_DIR, "agent");
		ac->data_dir = ea.data_dir;
		if (ac->state_dir) {
			ac->log_dir = ea.logs = sk_path_join(ac->state_dir, "logs");
			ac->pod_data_dir = ea.data = sk_path_join(ac->state_dir, "data");
		}
		if (cfg.service_cidr)
			ac->service_cidr = cfg.service_cidr;
		if (cfg.cluster_cidr)
			ac->cluster_cidr = cfg.cluster_cidr;
		/* the server's own node, as k3s labels it (ROLES in get nodes) */
		static const char *server_labels[] = {"node-role.kubernetes.io/control-plane=",
						      NULL};
		ac->labels = server_labels;
		cfg.on_ready = agent_ready;
		cfg.on_stop = agent_stopping;
		cfg.hook_data = &ea;
	}
	if (srv_run(&cfg, &err) < 0)
		ret = cli_failf("server: %s", err.msg);
	agent_stopping(&ea);
	free(ea.data_dir);
	free(ea.logs);
	free(ea.data);
	return ret;
}
SK_COMMAND(server, "server", cmd_server, "run the Kubernetes API server");
