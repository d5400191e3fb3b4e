/* skiff logs: a container's log through the server (pods/log, proxied to
 * the pod's node agent), as kubectl logs prints it. */
#include "kube_internal.h"

#include <errno.h>
#include <unistd.h>

#define USAGE                                                                                \
	"usage: skiff logs [-f] [-p] [-c CONTAINER] [--tail N] [--timestamps] [--since D]\n" \
	"                  [--limit-bytes N] [-n NAMESPACE] POD\n"                           \
	"Print the logs of a container in a pod.\n"                                          \
	"  -f, --follow        stream the log as it grows, until the container stops\n"      \
	"  -p, --previous      the previous run of the container (after a restart)\n"        \
	"  -c, --container C   the container (default: the pod's default one)\n"             \
	"  --tail N            only the last N lines (-1: all)\n"                            \
	"  --timestamps        each line with its RFC 3339 time\n"                           \
	"  --since D           only lines newer than D (5s, 2m, 3h)\n"                       \
	"  --limit-bytes N     at most N bytes\n"

/* Go's time.ParseDuration for the units kubectl's --since takes. */
static int parse_duration(const char *s, int64_t *seconds, sk_err *err)
{
	double total = 0;
	const char *p = s;

	if (!*p)
		return sk_err_set(err, EINVAL, "invalid duration \"%s\"", s);
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p)
			return sk_err_set(err, EINVAL, "invalid duration \"%s\"", s);
		p = end;
		if (!strncmp(p, "ms", 2)) {
			total += v / 1000;
			p += 2;
		} else if (*p == 's') {
			total += v;
			p++;
		} else if (*p == 'm') {
			total += v * 60;
			p++;
		} else if (*p == 'h') {
			total += v * 3600;
			p++;
		} else {
			return sk_err_set(err, EINVAL, "invalid duration \"%s\"", s);
		}
	}
	*seconds = total < 1 ? 1 : (int64_t)total;
	return 0;
}

/* The container kubectl would pick: the named one, else the
 * default-container annotation, else the first (saying so when there
 * are several). */
char *cli_default_container(json_t *pod, const char *want, sk_err *err)
{
	json_t *cs = api_get(pod, "spec.containers"), *c;
	size_t i;

	if (want)
		return sk_strdup(want);
	if (json_array_size(cs) == 0) {
		sk_err_set(err, EINVAL, "error: pod %s has no containers",
			   api_get_str(pod, "metadata.name"));
		return NULL;
	}
	json_t *annotations = api_get(pod, "metadata.annotations");
	const char *dflt = json_string_value(
		json_object_get(annotations, "kubectl.kubernetes.io/default-container"));
	const char *pick = dflt ? dflt : api_get_str(json_array_get(cs, 0), "name");
	if (json_array_size(cs) > 1 && !dflt) {
		sk_buf names;
		sk_buf_init(&names);
		json_array_foreach (cs, i, c)
			sk_buf_printf(&names, "%s%s", i ? ", " : "", api_get_str(c, "name"));
		fprintf(stderr, "Defaulted container \"%s\" out of: %s\n", pick, names.data);
		sk_buf_free(&names);
	}
	return sk_strdup(pick);
}

/* "pod/NAME", "pods/NAME" or "NAME" */
const char *cli_pod_arg(const char *arg, sk_err *err)
{
	const char *slash = strchr(arg, '/');

	if (!slash)
		return arg;
	size_t n = (size_t)(slash - arg);
	if ((n == 3 && !strncmp(arg, "pod", 3)) || (n == 4 && !strncmp(arg, "pods", 4)) ||
	    (n == 2 && !strncmp(arg, "po", 2)))
		return slash + 1;
	sk_err_set(err, EINVAL, "error: only pods are supported here: \"%s\"", arg);
	return NULL;
}

static int write_out(const char *data, size_t len, void *ctx SK_UNUSED, sk_err *err)
{
	if (fwrite(data, 1, len, stdout) != len)
		return sk_err_sys(err, errno, "error: write");
	fflush(stdout);
	return 0;
}

static char *log_path(struct cli_client *c, const char *pod, const char *ctr, bool follow,
		      bool previous, bool timestamps, int64_t tail, int64_t since, int64_t limit)
{
	_cleanup_free_ char *ens = sk_url_escape(c->ns);
	_cleanup_free_ char *epod = sk_url_escape(pod);
	_cleanup_free_ char *ectr = sk_url_escape(ctr);
	sk_buf b;

	sk_buf_init(&b);
	sk_buf_printf(&b, "/api/v1/namespaces/%s/pods/%s/log?container=%s", ens, epod, ectr);
	if (follow)
		sk_buf_puts(&b, "&follow=true");
	if (previous)
		sk_buf_puts(&b, "&previous=true");
	if (timestamps)
		sk_buf_puts(&b, "&timestamps=true");
	if (tail >= 0)
		sk_buf_printf(&b, "&tailLines=%lld", (long long)tail);
	if (since > 0)
		sk_buf_printf(&b, "&sinceSeconds=%lld", (long long)since);
	if (limit > 0)
		sk_buf_printf(&b, "&limitBytes=%lld", (long long)limit);
	return sk_buf_steal(&b);
}

static int cmd_logs(int argc, char **argv)
{
	bool follow = false, previous = false, timestamps = false;
	const char *container = NULL, *since = NULL;
	int64_t tail = -1, limit = 0, since_s = 0;
	_cleanup_strv_ char **args = NULL;
	struct cli_flag flags[] = {
		{"follow", 'f', CLI_FLAG_BOOL, &follow, NULL},
		{"previous", 'p', CLI_FLAG_BOOL, &previous, NULL},
		{"container", 'c', CLI_FLAG_STRING, &container, NULL},
		{"tail", 0, CLI_FLAG_INT, &tail, NULL},
		{"timestamps", 0, CLI_FLAG_BOOL, &timestamps, NULL},
		{"since", 0, CLI_FLAG_STRING, &since, NULL},
		{"limit-bytes", 0, CLI_FLAG_INT, &limit, NULL},
		{0},
	};
	struct cli_client c;
	json_t *pod = NULL;
	sk_err err = {0};
	int rc = 0;

	if (cli_parse_flags(argc, argv, flags, USAGE, &args, &err) < 0)
		return cli_failf("error: %s", err.msg);
	if (sk_strv_len(args) != 1)
		return cli_failf("error: expected POD (skiff logs [-f] [-c CONTAINER] POD)");
	if (since && parse_duration(since, &since_s, &err) < 0)
		return cli_failf("error: --since: %s", err.msg);
	const char *name = cli_pod_arg(args[0], &err);
	if (!name)
		return cli_fail(&err);
	if (cli_client_open(&c, &err) < 0)
		return cli_fail(&err);
	_cleanup_free_ char *ens = sk_url_escape(c.ns);
	_cleanup_free_ char *ename = sk_url_escape(name);
	_cleanup_free_ char *pod_path = sk_asprintf("/api/v1/namespaces/%s/pods/%s", ens, ename);
	_cleanup_free_ char *ctr = NULL;
	if (cli_request(&c, "GET", pod_path, NULL, NULL, NULL, &pod, NULL, &err) < 0 ||
	    !(ctr = cli_default_container(pod, container, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	_cleanup_free_ char *path =
		log_path(&c, name, ctr, follow, previous, timestamps, tail, since_s, limit);
	struct sk_http_request req = {.path = path, .accept = "*/*"};
	struct sk_http_response resp;
	if (sk_http_stream(c.http, &req, false, write_out, NULL, &resp, &err) < 0) {
		rc = cli_fail(&err);
		goto out;
	}
	if (resp.status < 200 || resp.status >= 300) {
		json_t *st = json_loadb(resp.body.data, resp.body.len, 0, NULL);
		cli_status_message(st, resp.status, &err);
		json_decref(st);
		rc = cli_fail(&err);
	}
	sk_http_response_free(&resp);
out:
	json_decref(pod);
	cli_client_close(&c);
	return rc;
}

SK_COMMAND(logs, "logs", cmd_logs, "print the logs of a container in a pod");
