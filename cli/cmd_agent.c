/* skiff agent: join this machine (or a test node in a network namespace)
 * to a cluster as a node. See docs/agent.md. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../agent/agent.h"
#include "kube_internal.h"

static const char agent_usage[] =
	"usage: skiff agent --server URL --token-file FILE [options]\n"
	"       skiff agent --kubeconfig FILE [options]\n"
	"Joins this machine to the cluster as a node: registers it, runs the pods\n"
	"bound to it, and programs Services and cluster DNS.\n"
	"  --server URL          the API server (https://HOST:6443)\n"
	"  --token-file FILE     the join token (K10<ca sha256>::<secret>) or a bearer token\n"
	"  --token TOKEN         the same, given directly\n"
	"  --ca-file FILE        the server's CA (not needed with a K10 join token)\n"
	"  --kubeconfig FILE     take server, CA and token from a kubeconfig\n"
	"  --node-name NAME      default: the host name\n"
	"  --node-ip IP          the node's InternalIP (default: the address that reaches\n"
	"                        the server)\n"
	"  --node-label K=V      an extra label of the Node (repeatable)\n"
	"  --data-dir DIR        the agent's files (default " AGENT_DEFAULT_DATA_DIR ")\n"
	"  --state-dir DIR       pods' state (default " RT_DEFAULT_STATE_DIR "; when given, logs\n"
	"                        and volumes default to DIR/logs and DIR/data)\n"
	"  --log-dir DIR         container logs (default " RT_DEFAULT_LOG_DIR ")\n"
	"  --pod-data-dir DIR    emptyDir volumes (default " RT_DEFAULT_DATA_DIR ")\n"
	"  --image-dir DIR       the image store (default " RT_IMAGE_DIR_DEFAULT ")\n"
	"  --cgroup-root NAME    top-level cgroup (default " RT_DEFAULT_CGROUP_ROOT ")\n"
	"  --pod-cidr CIDR       this node's pod CIDR (default: the one the server assigns)\n"
	"  --cluster-cidr CIDR   default 10.88.0.0/16\n"
	"  --service-cidr CIDR   default 10.96.0.0/16\n"
	"  --bridge NAME         default skiff0\n"
	"  --nft-table NAME      default skiff\n"
	"  --dns-port N          cluster DNS on the bridge address (default 53; 0: none)\n"
	"  --listen ADDR:PORT    logs/exec endpoint (default 0.0.0.0:10250; port 0: any)\n"
	"  --max-pods N          default 110\n"
	"  -v, --verbose         log more\n";

enum {
	O_SERVER = 256,
	O_TOKEN_FILE,
	O_TOKEN,
	O_CA_FILE,
	O_KUBECONFIG,
	O_NODE_NAME,
	O_NODE_IP,
	O_NODE_LABEL,
	O_DATA_DIR,
	O_STATE_DIR,
	O_LOG_DIR,
	O_POD_DATA_DIR,
	O_IMAGE_DIR,
	O_CGROUP_ROOT,
	O_POD_CIDR,
	O_CLUSTER_CIDR,
	O_SERVICE_CIDR,
	O_BRIDGE,
	O_NFT_TABLE,
	O_DNS_PORT,
	O_LISTEN,
	O_MAX_PODS,
	O_INSECURE,
};

static const struct option agent_options[] = {
	{"server", required_argument, NULL, O_SERVER},
	{"token-file", required_argument, NULL, O_TOKEN_FILE},
	{"token", required_argument, NULL, O_TOKEN},
	{"ca-file", required_argument, NULL, O_CA_FILE},
	{"kubeconfig", required_argument, NULL, O_KUBECONFIG},
	{"node-name", required_argument, NULL, O_NODE_NAME},
	{"node-ip", required_argument, NULL, O_NODE_IP},
	{"node-label", required_argument, NULL, O_NODE_LABEL},
	{"data-dir", required_argument, NULL, O_DATA_DIR},
	{"state-dir", required_argument, NULL, O_STATE_DIR},
	{"log-dir", required_argument, NULL, O_LOG_DIR},
	{"pod-data-dir", required_argument, NULL, O_POD_DATA_DIR},
	{"image-dir", required_argument, NULL, O_IMAGE_DIR},
	{"cgroup-root", required_argument, NULL, O_CGROUP_ROOT},
	{"pod-cidr", required_argument, NULL, O_POD_CIDR},
	{"cluster-cidr", required_argument, NULL, O_CLUSTER_CIDR},
	{"service-cidr", required_argument, NULL, O_SERVICE_CIDR},
	{"bridge", required_argument, NULL, O_BRIDGE},
	{"nft-table", required_argument, NULL, O_NFT_TABLE},
	{"dns-port", required_argument, NULL, O_DNS_PORT},
	{"listen", required_argument, NULL, O_LISTEN},
	{"max-pods", required_argument, NULL, O_MAX_PODS},
	{"insecure-skip-tls-verify", no_argument, NULL, O_INSECURE},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct agent_args {
	struct agent_config cfg;
	const char *token_file, *kubeconfig;
	char **labels;
	char *token_buf, *logs, *data;
	struct cli_kubeconfig kc;
	bool have_kc;
};

static int parse_int(const char *flag, const char *v, int64_t min, int64_t max, int64_t *out)
{
	sk_err err;

	if (sk_parse_int64(v, min, max, out, &err) < 0)
		return cli_failf("--%s: %s", flag, err.msg);
	return 0;
}

static int parse_args(struct agent_args *g, int argc, char **argv)
{
	struct agent_config *c = &g->cfg;
	int64_t n;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "vh", agent_options, NULL)) != -1) {
		switch (opt) {
		case O_SERVER:
			c->server = optarg;
			break;
		case O_TOKEN_FILE:
			g->token_file = optarg;
			break;
		case O_TOKEN:
			c->token = optarg;
			break;
		case O_CA_FILE:
			c->ca_file = optarg;
			break;
		case O_KUBECONFIG:
			g->kubeconfig = optarg;
			break;
		case O_NODE_NAME:
			c->node_name = optarg;
			break;
		case O_NODE_IP:
			c->node_ip = optarg;
			break;
		case O_NODE_LABEL:
			g->labels = sk_strv_push(g->labels, optarg);
			break;
		case O_DATA_DIR:
			c->data_dir = optarg;
			break;
		case O_STATE_DIR:
			c->state_dir = optarg;
			break;
		case O_LOG_DIR:
			c->log_dir = optarg;
			break;
		case O_POD_DATA_DIR:
			c->pod_data_dir = optarg;
			break;
		case O_IMAGE_DIR:
			c->image_dir = optarg;
			break;
		case O_CGROUP_ROOT:
			c->cgroup_root = optarg;
			break;
		case O_POD_CIDR:
			c->pod_cidr = optarg;
			break;
		case O_CLUSTER_CIDR:
			c->cluster_cidr = optarg;
			break;
		case O_SERVICE_CIDR:
			c->service_cidr = optarg;
			break;
		case O_BRIDGE:
			c->bridge = optarg;
			break;
		case O_NFT_TABLE:
			c->nft_table = optarg;
			break;
		case O_LISTEN:
			c->listen = optarg;
			break;
		case O_INSECURE:
			c->insecure = true;
			break;
		case O_DNS_PORT:
			if (parse_int("dns-port", optarg, 0, 65535, &n) != 0)
				return 1;
			c->dns_port = n ? (int)n : -1;
			break;
		case O_MAX_PODS:
			if (parse_int("max-pods", optarg, 1, 100000, &n) != 0)
				return 1;
			c->max_pods = (int)n;
			break;
		case 'v':
			sk_log_level = SK_LOG_DEBUG;
			break;
		case 'h':
			fputs(agent_usage, stdout);
			return -1;
		default:
			return cli_failf("see skiff agent --help");
		}
	}
	if (optind != argc)
		return cli_failf("unexpected argument \"%s\" (see skiff agent --help)",
				 argv[optind]);
	return 0;
}

/* Server, CA and token from a kubeconfig, where the flags did not say. */
static int use_kubeconfig(struct agent_args *g)
{
	sk_err err;

	cli_globals.kubeconfig = g->kubeconfig;
	if (cli_kubeconfig_load(&g->kc, &err) < 0)
		return cli_fail(&err);
	g->have_kc = true;
	if (!g->cfg.server)
		g->cfg.server = g->kc.server;
	if (!g->cfg.ca_file && !g->cfg.ca_pem) {
		g->cfg.ca_file = g->kc.ca_file;
		g->cfg.ca_pem = g->kc.ca_data;
	}
	if (!g->cfg.token)
		g->cfg.token = g->kc.token;
	g->cfg.insecure = g->cfg.insecure || g->kc.insecure;
	return 0;
}

static int read_token(struct agent_args *g)
{
	sk_err err;

	if (!g->token_file)
		return 0;
	if (sk_read_file(g->token_file, 1 << 16, &g->token_buf, NULL, &err) < 0)
		return cli_failf("--token-file: %s", err.msg);
	g->token_buf[strcspn(g->token_buf, "\r\n")] = '\0';
	if (!*g->token_buf)
		return cli_failf("--token-file %s: the file is empty", g->token_file);
	g->cfg.token = g->token_buf;
	return 0;
}

static void args_free(struct agent_args *g)
{
	sk_strv_free(g->labels);
	free(g->token_buf);
	free(g->logs);
	free(g->data);
	if (g->have_kc)
		cli_kubeconfig_free(&g->kc);
}

static int cmd_agent(int argc, char **argv)
{
	struct agent_args g;
	agent *a = NULL;
	sk_err err;
	int r;

	memset(&g, 0, sizeof(g));
	g.cfg.handle_signals = true;
	r = parse_args(&g, argc, argv);
	if (r == 0 && g.kubeconfig)
		r = use_kubeconfig(&g);
	if (r == 0)
		r = read_token(&g);
	if (r == 0 && !g.cfg.server)
		r = cli_failf("agent: --server (or --kubeconfig) is required");
	if (r == 0 && !g.cfg.token)
		r = cli_failf("agent: --token-file (or --token, --kubeconfig) is required");
	if (r != 0) {
		args_free(&g);
		return r < 0 ? 0 : r;
	}
	if (g.cfg.state_dir && !g.cfg.log_dir)
		g.cfg.log_dir = g.logs = sk_path_join(g.cfg.state_dir, "logs");
	if (g.cfg.state_dir && !g.cfg.pod_data_dir)
		g.cfg.pod_data_dir = g.data = sk_path_join(g.cfg.state_dir, "data");
	g.cfg.labels = (const char **)g.labels;
	if (agent_new(&g.cfg, &a, &err) < 0 || agent_run(a, &err) < 0)
		r = cli_fail(&err);
	agent_free(a);
	args_free(&g);
	return r;
}

SK_COMMAND(agent, "agent", cmd_agent, "join this machine to a cluster as a node");
