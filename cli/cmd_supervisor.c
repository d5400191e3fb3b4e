/* The hidden entry point of a pod's supervisor, exec'ed by rt_pod_create:
 * `skiff __supervisor POD_DIR READY_FD`. */
#include "cli.h"

#include "../runtime/runtime.h"

static int cmd_supervisor(int argc, char **argv)
{
	int64_t fd = -1;

	if (argc != 3 || sk_parse_int64(argv[2], -1, 1024, &fd, NULL) < 0)
		return cli_failf(
			"usage: skiff __supervisor POD_DIR READY_FD (started by the runtime)");
	return rt_supervisor_main(argv[1], (int)fd);
}

SK_COMMAND_HIDDEN(supervisor, "__supervisor", cmd_supervisor);
