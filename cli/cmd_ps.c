/* skiff ps: the pods on this machine, as `kubectl get pods -o wide` shows
 * the essentials: NAME NAMESPACE STATUS RESTARTS IP AGE. */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../runtime/runtime.h"

/* kubectl's short durations: 45s, 3m20s, 45m, 3h5m, 12h, 3d4h, 20d */
static void human_duration(int64_t sec, char *buf, size_t n)
{
	if (sec < 0)
		sec = 0;
	if (sec < 120)
		snprintf(buf, n, "%llds", (long long)sec);
	else if (sec < 600 && sec % 60)
		snprintf(buf, n, "%lldm%llds", (long long)sec / 60, (long long)sec % 60);
	else if (sec < 3 * 3600)
		snprintf(buf, n, "%lldm", (long long)sec / 60);
	else if (sec < 8 * 3600 && (sec / 60) % 60)
		snprintf(buf, n, "%lldh%lldm", (long long)sec / 3600, (long long)(sec / 60) % 60);
	else if (sec < 48 * 3600)
		snprintf(buf, n, "%lldh", (long long)sec / 3600);
	else if (sec < 8 * 86400 && (sec / 3600) % 24)
		snprintf(buf, n, "%lldd%lldh", (long long)sec / 86400,
			 (long long)(sec / 3600) % 24);
	else
		snprintf(buf, n, "%lldd", (long long)sec / 86400);
}

static const struct option ps_options[] = {
	{"state-dir", required_argument, NULL, 's'},
	{"namespace", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int cmd_ps(int argc, char **argv)
{
	const char *state_dir = RT_DEFAULT_STATE_DIR, *ns = NULL;
	_cleanup_strv_ char **ids = NULL;
	sk_err err;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "n:h", ps_options, NULL)) != -1) {
		if (opt == 's')
			state_dir = optarg;
		else if (opt == 'n')
			ns = optarg;
		else if (opt == 'h') {
			puts("usage: skiff ps [--state-dir DIR] [-n NAMESPACE]");
			return 0;
		} else
			return cli_failf("see skiff ps --help");
	}
	if (optind != argc)
		return cli_failf("skiff ps takes no arguments");
	if (rt_pod_list(state_dir, &ids, &err) < 0)
		return cli_fail(&err);
	printf("%-30s %-15s %-22s %-8s %-15s %s\n", "NAME", "NAMESPACE", "STATUS", "RESTARTS", "IP",
	       "AGE");
	for (size_t i = 0; ids[i]; i++) {
		struct rt_pod_status st;
		char age[32];
		int restarts = 0;
		if (rt_pod_status(state_dir, ids[i], &st, &err) < 0) {
			fprintf(stderr, "skiff: %s\n", err.msg);
			continue;
		}
		if (ns && strcmp(ns, st.namespace ? st.namespace : "")) {
			rt_pod_status_free(&st);
			continue;
		}
		for (size_t k = 0; k < st.n_containers; k++)
			restarts += st.containers[k].restart_count;
		human_duration((sk_now_ns() - st.created_at) / 1000000000LL, age, sizeof(age));
		printf("%-30s %-15s %-22s %-8d %-15s %s\n", st.name ? st.name : ids[i],
		       st.namespace ? st.namespace : "", rt_pod_status_summary(&st), restarts,
		       st.pod_ip ? st.pod_ip : "<none>", age);
		rt_pod_status_free(&st);
	}
	return 0;
}

SK_COMMAND(ps, "ps", cmd_ps, "list the pods on this machine");
