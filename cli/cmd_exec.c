/* skiff __exec: the hidden helper the agent starts for `kubectl exec`,
 * exec probes and lifecycle hooks. It is a process of its own (single
 * threaded, as joining a mount namespace requires) that enters the
 * container, runs the command with the helper's stdio and exits with the
 * command's status:
 *
 *   skiff __exec --state-dir DIR [--tty] [--env K=V]... POD_ID CONTAINER -- CMD [ARG...]
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

#include "../runtime/runtime.h"

enum { OPT_STATE_DIR = 256, OPT_TTY, OPT_ENV };

static const struct option exec_helper_options[] = {
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"tty", no_argument, NULL, OPT_TTY},
	{"env", required_argument, NULL, OPT_ENV},
	{NULL, 0, NULL, 0},
};

static int cmd_exec_helper(int argc, char **argv)
{
	struct rt_exec_config ec = {0};
	const char *state_dir = RT_DEFAULT_STATE_DIR;
	_cleanup_strv_ char **env = NULL;
	sk_err err;
	int opt, status;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+", exec_helper_options, NULL)) != -1) {
		switch (opt) {
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case OPT_TTY:
			ec.tty = true;
			break;
		case OPT_ENV:
			env = sk_strv_push(env, optarg);
			break;
		default:
			return cli_failf("usage: skiff __exec [--state-dir DIR] [--tty] "
					 "[--env K=V]... POD_ID CONTAINER -- CMD...");
		}
	}
	int cmd = optind + 2;
	if (cmd < argc && !strcmp(argv[cmd], "--"))
		cmd++;
	if (cmd >= argc)
		return cli_failf("usage: skiff __exec [--state-dir DIR] [--tty] [--env K=V]... "
				 "POD_ID CONTAINER -- CMD...");
	ec.env = env;
	ec.argv = argv + cmd;
	if (rt_exec(state_dir, argv[optind], argv[optind + 1], &ec, &status, &err) < 0) {
		cli_fail(&err);
		return status;
	}
	return status;
}

SK_COMMAND_HIDDEN(exec_helper, "__exec", cmd_exec_helper);
