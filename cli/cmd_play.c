/* skiff play: run the Pods of a manifest on this machine, with no server
 * (like `podman kube play` or a kubelet's static pods).
 *
 *   skiff play [--detach] FILE.yaml     start them; without --detach, stream
 *                                       their logs until Ctrl-C/SIGTERM or
 *                                       until they end, then remove them
 *   skiff play --down FILE.yaml         stop and remove them
 *
 * Every document is read and checked before anything starts. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../agent/agent.h"
#include "../api/api.h"
#include "../runtime/runtime.h"
#include "play_net.h"

#define START_TIMEOUT_MS 120000

static const char play_usage[] =
	"usage: skiff play [--detach] [options] FILE.yaml\n"
	"       skiff play --down [options] FILE.yaml\n"
	"  -d, --detach          start the pods and return\n"
	"  --down                stop and remove the pods of FILE\n"
	"  --state-dir DIR       pods' state (default " RT_DEFAULT_STATE_DIR "; when given, logs\n"
	"                        and volumes default to DIR/logs and DIR/data)\n"
	"  --log-dir DIR         container logs (default " RT_DEFAULT_LOG_DIR ")\n"
	"  --data-dir DIR        emptyDir volumes (default " RT_DEFAULT_DATA_DIR ")\n"
	"  --image-dir DIR       the image store (default " RT_IMAGE_DIR_DEFAULT ")\n"
	"  --cgroup-root NAME    top-level cgroup (default " RT_DEFAULT_CGROUP_ROOT ")\n"
	"  --bridge NAME         the node's pod bridge (default skiff0)\n"
	"  --pod-cidr CIDR       the node's pod addresses (default 10.88.0.0/24)\n"
	"  --grace SECONDS       with --down: the grace period instead of the pods' own\n";

struct play {
	struct agent_pod_options opt;
	bool detach, down;
	int64_t grace; /* --grace for --down; -1: each pod's own */
	struct agent_pod *pods;
	size_t n;
	json_t *docs; /* the Pods, for their network (hostPorts) */
	struct play_net_opts net;
};

/* ---- reading the manifest ------------------------------------------------------ */

/* For --down only the names count: a pod can be removed even when its
 * image is gone. */
static int pod_names(json_t *doc, struct agent_pod *out, sk_err *err)
{
	json_t *meta = json_object_get(doc, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));

	if (!name)
		return sk_err_set(err, EINVAL, "metadata.name: Required value");
	out->cfg = rt_pod_config_new();
	out->cfg->name = sk_strdup(name);
	out->cfg->namespace = sk_strdup(ns ? ns : "default");
	return 0;
}

static int load_pods(struct play *p, const char *file, sk_err *err)
{
	json_t *docs = NULL, *doc;
	size_t i;
	int ret = 0;

	if (api_yaml_load_file(file, &docs, err) < 0)
		return -1;
	p->pods = sk_calloc(json_array_size(docs) + 1, sizeof(*p->pods));
	json_array_foreach (docs, i, doc) {
		const char *kind = json_string_value(json_object_get(doc, "kind"));
		if (kind && strcmp(kind, "Pod")) {
			ret = sk_err_set(err, EINVAL,
					 "%s: document %zu: kind \"%s\" is not supported by skiff "
					 "play (only Pod)",
					 file, i + 1, kind);
			break;
		}
		ret = p->down ? pod_names(doc, &p->pods[p->n], err)
			      : agent_pod_from_json(doc, &p->opt, &p->pods[p->n], err);
		if (ret < 0) {
			sk_err_wrap(err, "%s", file);
			break;
		}
		p->n++;
	}
	p->docs = docs;
	if (ret == 0 && !p->n)
		ret = sk_err_set(err, EINVAL, "%s: no Pod in the file", file);
	return ret;
}

static const char *state_dir(const struct play *p)
{
	return p->opt.state_dir ? p->opt.state_dir : RT_DEFAULT_STATE_DIR;
}

static char *pod_id(const struct agent_pod *pod)
{
	return rt_pod_id(pod->cfg->namespace, pod->cfg->name);
}

/* ---- down ------------------------------------------------------------------------ */

static int play_down(struct play *p)
{
	int ret = 0;

	for (size_t i = 0; i < p->n; i++) {
		_cleanup_free_ char *id = pod_id(&p->pods[i]);
		sk_err err;
		if (rt_pod_remove(state_dir(p), id, p->grace, &err) < 0) {
			cli_fail(&err);
			ret = 1;
			continue;
		}
		play_net_down(&p->net, state_dir(p), p->pods[i].cfg->namespace,
			      p->pods[i].cfg->name);
		printf("pod/%s removed\n", p->pods[i].cfg->name);
	}
	return ret;
}

static void remove_all(struct play *p, size_t n, int64_t grace)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *id = pod_id(&p->pods[i]);
		sk_err err;
		if (rt_pod_remove(state_dir(p), id, grace, &err) < 0 && err.code != ENOENT)
			cli_fail(&err);
		play_net_down(&p->net, state_dir(p), p->pods[i].cfg->namespace,
			      p->pods[i].cfg->name);
	}
}

/* ---- up ----------------------------------------------------------------------------- */

/* The first container that failed to start, as one line. */
static bool start_error(const struct rt_pod_status *st, char *line, size_t n)
{
	for (size_t k = 0; k < st->n_init_containers + st->n_containers; k++) {
		const struct rt_container_status *c =
			k < st->n_init_containers ? &st->init_containers[k]
						  : &st->containers[k - st->n_init_containers];
		const char *reason = c->state == RT_TERMINATED ? c->reason
				     : c->has_last_state       ? c->last_state.reason
							       : NULL;
		const char *msg = c->state == RT_TERMINATED ? c->message : c->last_state.message;
		if (reason && !strcmp(reason, "StartError")) {
			snprintf(line, n, "pod \"%s\": container \"%s\": %s", st->name, c->name,
				 msg ? msg : "failed to start");
			return true;
		}
	}
	return false;
}

static int start_pods(struct play *p)
{
	sk_err err;
	char line[SK_ERR_MSG_MAX + 128];

	for (size_t i = 0; i < p->n; i++) {
		if (agent_pod_prepare_volumes(&p->pods[i], &err) < 0 ||
		    play_net_up(&p->net, state_dir(p), json_array_get(p->docs, i), p->pods[i].cfg,
				&err) < 0 ||
		    rt_pod_create(p->pods[i].cfg, &err) < 0) {
			cli_fail(&err);
			remove_all(p, i + 1, 0);
			return 1;
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		_cleanup_free_ char *id = pod_id(&p->pods[i]);
		struct rt_pod_status st;
		if (rt_pod_wait_started(state_dir(p), id, START_TIMEOUT_MS, &st, &err) < 0) {
			cli_fail(&err);
			remove_all(p, p->n, 0);
			return 1;
		}
		bool failed = start_error(&st, line, sizeof(line));
		rt_pod_status_free(&st);
		if (failed) {
			cli_failf("%s", line);
			remove_all(p, p->n, 0);
			return 1;
		}
	}
	return 0;
}

/* ---- following the logs ---------------------------------------------------------------- */

struct follow {
	const struct rt_pod_config *pod;
	const char *name;
	int restart;
	int fd;
	off_t offset;
	sk_buf pending; /* an incomplete CRI line */
	bool partial;	/* the last record was a P line */
};

static void print_record(struct follow *f, char *line, int width, bool many_pods)
{
	/* "<time> <stream> <tag> <text>" */
	char *stream = strchr(line, ' ');
	char *tag = stream ? strchr(stream + 1, ' ') : NULL;
	char *text = tag ? strchr(tag + 1, ' ') : NULL;
	FILE *out;

	if (!text)
		return;
	*tag = *text = '\0';
	out = !strcmp(stream + 1, "stderr") ? stderr : stdout;
	if (!f->partial) {
		if (many_pods)
			fprintf(out, "%s/%-*s | ", f->pod->name, width, f->name);
		else
			fprintf(out, "%-*s | ", width, f->name);
	}
	fputs(text + 1, out);
	f->partial = tag[1] == 'P';
	if (!f->partial)
		fputc('\n', out);
	fflush(out);
}

static void follow_read(struct follow *f, int width, bool many_pods)
{
	char buf[16384];
	ssize_t n;

	if (f->fd < 0) {
		_cleanup_free_ char *path = rt_container_log_path(f->pod, f->name, f->restart);
		f->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0)
			return;
		f->offset = 0;
	}
	while ((n = pread(f->fd, buf, sizeof(buf), f->offset)) > 0) {
		f->offset += n;
		sk_buf_append(&f->pending, buf, (size_t)n);
		char *start = f->pending.data, *nl;
		while ((nl = memchr(start, '\n',
				    f->pending.len - (size_t)(start - f->pending.data)))) {
			*nl = '\0';
			print_record(f, start, width, many_pods);
			start = nl + 1;
		}
		size_t rest = f->pending.len - (size_t)(start - f->pending.data);
		memmove(f->pending.data, start, rest);
		f->pending.len = rest;
		f->pending.data[rest] = '\0';
	}
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static struct follow *follow_setup(const struct play *p, size_t *nf, int *width)
{
	struct follow *fs = NULL;

	*nf = 0;
	*width = 0;
	for (size_t i = 0; i < p->n; i++) {
		const struct rt_pod_config *cfg = p->pods[i].cfg;
		for (size_t k = 0; k < cfg->n_init_containers + cfg->n_containers; k++) {
			const char *name =
				k < cfg->n_init_containers
					? cfg->init_containers[k].name
					: cfg->containers[k - cfg->n_init_containers].name;
			fs = sk_realloc(fs, (*nf + 1) * sizeof(*fs));
			fs[*nf] = (struct follow){.pod = cfg, .name = name, .fd = -1};
			sk_buf_init(&fs[*nf].pending);
			(*nf)++;
			if ((int)strlen(name) > *width)
				*width = (int)strlen(name);
		}
	}
	return fs;
}

/* Print what the pod's containers wrote since the last call, following
 * restarts to their next log file. */
static void follow_pod(struct follow *fs, size_t nf, int width, bool many,
		       const struct rt_pod_config *cfg, const struct rt_pod_status *st)
{
	for (size_t f = 0; f < nf; f++) {
		if (fs[f].pod != cfg)
			continue;
		follow_read(&fs[f], width, many);
		for (size_t k = 0; st && k < st->n_init_containers + st->n_containers; k++) {
			const struct rt_container_status *c =
				k < st->n_init_containers
					? &st->init_containers[k]
					: &st->containers[k - st->n_init_containers];
			if (strcmp(c->name, fs[f].name) || c->restart_count == fs[f].restart)
				continue;
			if (fs[f].fd >= 0)
				close(fs[f].fd);
			fs[f].fd = -1;
			fs[f].restart = c->restart_count;
			follow_read(&fs[f], width, many);
		}
	}
}

/* Follow until a signal or until every pod has ended: 0 when all pods
 * succeeded (or the user stopped them), 1 when one failed. */
static int follow_logs(struct play *p, struct follow *fs, size_t nf, int width)
{
	int result = -1;

	while (!got_signal && result < 0) {
		size_t ended = 0, failed = 0;
		for (size_t i = 0; i < p->n && result < 0; i++) {
			_cleanup_free_ char *id = pod_id(&p->pods[i]);
			struct rt_pod_status st;
			sk_err err;
			if (rt_pod_status(state_dir(p), id, &st, &err) < 0) {
				cli_fail(&err);
				result = 1;
				break;
			}
			follow_pod(fs, nf, width, p->n > 1, p->pods[i].cfg, &st);
			if (st.phase == RT_PHASE_SUCCEEDED || st.phase == RT_PHASE_FAILED ||
			    !st.supervisor_alive) {
				ended++;
				failed += st.phase != RT_PHASE_SUCCEEDED;
			}
			rt_pod_status_free(&st);
		}
		if (result < 0 && ended == p->n)
			result = failed ? 1 : 0;
		if (result < 0)
			nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
	return result < 0 ? 0 : result;
}

static int play_foreground(struct play *p)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct follow *fs;
	size_t nf;
	int width, ret;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = start_pods(p);
	if (ret)
		return ret;
	fs = follow_setup(p, &nf, &width);
	ret = follow_logs(p, fs, nf, width);
	/* stop gracefully, show what the containers said while stopping */
	for (size_t i = 0; i < p->n; i++) {
		_cleanup_free_ char *id = pod_id(&p->pods[i]);
		sk_err err;
		if (rt_pod_stop(state_dir(p), id, -1, &err) < 0 && err.code != ECONNREFUSED &&
		    err.code != ENOENT)
			cli_fail(&err);
		follow_pod(fs, nf, width, p->n > 1, p->pods[i].cfg, NULL);
	}
	for (size_t f = 0; f < nf; f++) {
		if (fs[f].fd >= 0)
			close(fs[f].fd);
		sk_buf_free(&fs[f].pending);
	}
	free(fs);
	remove_all(p, p->n, 0);
	return ret;
}

static int play_detached(struct play *p)
{
	int ret = start_pods(p);

	if (ret)
		return ret;
	for (size_t i = 0; i < p->n; i++)
		printf("pod/%s started\n", p->pods[i].cfg->name);
	return 0;
}

/* ---- options ---------------------------------------------------------------------- */

enum {
	OPT_DOWN = 256,
	OPT_STATE_DIR,
	OPT_LOG_DIR,
	OPT_DATA_DIR,
	OPT_IMAGE_DIR,
	OPT_CGROUP_ROOT,
	OPT_BRIDGE,
	OPT_POD_CIDR,
	OPT_GRACE
};

static const struct option play_options[] = {
	{"detach", no_argument, NULL, 'd'},
	{"down", no_argument, NULL, OPT_DOWN},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"log-dir", required_argument, NULL, OPT_LOG_DIR},
	{"data-dir", required_argument, NULL, OPT_DATA_DIR},
	{"image-dir", required_argument, NULL, OPT_IMAGE_DIR},
	{"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
	{"bridge", required_argument, NULL, OPT_BRIDGE},
	{"pod-cidr", required_argument, NULL, OPT_POD_CIDR},
	{"grace", required_argument, NULL, OPT_GRACE},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* --state-dir alone keeps a whole instance in one directory (tests, a
 * second skiff on one machine): logs and volumes go below it too. */
static void derive_dirs(struct play *p, char **logs, char **data)
{
	if (!p->opt.state_dir)
		return;
	if (!p->opt.log_dir) {
		*logs = sk_path_join(p->opt.state_dir, "logs");
		p->opt.log_dir = *logs;
	}
	if (!p->opt.data_dir) {
		*data = sk_path_join(p->opt.state_dir, "data");
		p->opt.data_dir = *data;
	}
}

static int cmd_play(int argc, char **argv)
{
	struct play p;
	_cleanup_free_ char *logs = NULL;
	_cleanup_free_ char *data = NULL;
	sk_err err;
	int opt, ret;

	memset(&p, 0, sizeof(p));
	p.grace = -1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "dh", play_options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			p.detach = true;
			break;
		case OPT_DOWN:
			p.down = true;
			break;
		case OPT_STATE_DIR:
			p.opt.state_dir = optarg;
			break;
		case OPT_LOG_DIR:
			p.opt.log_dir = optarg;
			break;
		case OPT_DATA_DIR:
			p.opt.data_dir = optarg;
			break;
		case OPT_IMAGE_DIR:
			p.opt.image_dir = optarg;
			break;
		case OPT_CGROUP_ROOT:
			p.opt.cgroup_root = optarg;
			break;
		case OPT_BRIDGE:
			p.net.bridge = optarg;
			break;
		case OPT_POD_CIDR:
			p.net.pod_cidr = optarg;
			break;
		case OPT_GRACE:
			if (sk_parse_int64(optarg, 0, INT32_MAX, &p.grace, &err) < 0)
				return cli_failf("--grace: %s", err.msg);
			break;
		case 'h':
			fputs(play_usage, stdout);
			return 0;
		default:
			return cli_failf("see skiff play --help");
		}
	}
	if (optind != argc - 1)
		return cli_failf("want one manifest: skiff play [--detach|--down] FILE.yaml");
	derive_dirs(&p, &logs, &data);
	if (load_pods(&p, argv[optind], &err) < 0)
		ret = cli_fail(&err);
	else if (p.down)
		ret = play_down(&p);
	else if (p.detach)
		ret = play_detached(&p);
	else
		ret = play_foreground(&p);
	for (size_t i = 0; i < p.n; i++)
		agent_pod_clear(&p.pods[i]);
	free(p.pods);
	json_decref(p.docs);
	return ret;
}

SK_COMMAND(play, "play", cmd_play, "run the Pods of a manifest on this machine (no server)");
