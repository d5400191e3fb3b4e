/* skiff cleanup: remove what skiff made on this machine's network (its
 * nftables table, its bridge, every pod network, the netns mounts and the
 * network state) and nothing else. The runtime's part (pods, cgroups) is
 * for `skiff play --down` and the runtime's own tools. */
#include "cli.h"

#include <getopt.h>

#include "../netns/netns.h"

static int cmd_cleanup(int argc, char **argv)
{
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, 's'},
		{"bridge", required_argument, NULL, 'b'},
		{"table", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct net_node_config cfg = {0};
	_cleanup_net_node_ net_node *node = NULL;
	sk_err err = {0};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			cfg.state_dir = optarg;
			break;
		case 'b':
			cfg.bridge = optarg;
			break;
		case 't':
			cfg.table = optarg;
			break;
		case 'h':
			puts("usage: skiff cleanup [--state-dir DIR] [--bridge NAME] [--table "
			     "NAME]");
			return 0;
		default:
			return cli_failf("see skiff cleanup --help");
		}
	}
	if (net_node_open(&cfg, &node, &err) < 0 || net_node_cleanup(node, &err) < 0)
		return cli_fail(&err);
	return 0;
}
SK_COMMAND(cleanup, "cleanup", cmd_cleanup, "remove skiff's network (table, bridge, pod networks)");
