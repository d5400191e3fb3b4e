/* skiff run: one container in a pod of its own, in the foreground, exiting
 * with the container's status (137 when OOM-killed). The runtime alone, to
 * compare with `crun run`. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api/api.h"
#include "../runtime/runtime.h"

static const char run_usage[] =
	"usage: skiff run [--rootfs DIR | --image NAME] [options] -- CMD [ARGS...]\n"
	"  --rootfs DIR          an unpacked root file system (read-only lower of an overlay)\n"
	"  --image NAME          an image of the store (--image-dir, default " RT_IMAGE_DIR_DEFAULT
	")\n"
	"  --memory QTY          memory limit (128Mi); the container is OOM-killed above it\n"
	"  --cpus QTY            cpu limit and request (0.5, 500m)\n"
	"  --pids N              at most N processes\n"
	"  --user UID[:GID]|NAME run as this user (names from the image's /etc/passwd)\n"
	"  --hostname H          hostname (default: the pod's name)\n"
	"  --name NAME           pod and container name (default: run-XXXXX)\n"
	"  -e, --env K=V         set an environment variable\n"
	"  -w, --workdir DIR     working directory\n"
	"  -v, --volume SRC:DST[:ro]  bind a host path\n"
	"  --cap-add CAP, --cap-drop CAP, --privileged, --read-only, --no-new-privileges\n"
	"  --seccomp unconfined  no seccomp filter\n"
	"  --net host            share the host's network namespace\n"
	"  --pid host            share the host's PID namespace\n"
	"  --grace SECONDS       after a forwarded SIGINT/SIGTERM, SIGKILL this late (10)\n"
	"  --cgroup-root NAME    top-level cgroup (default " RT_DEFAULT_CGROUP_ROOT ")\n"
	"  --state-dir DIR       where the seccomp filter cache lives (" RT_DEFAULT_STATE_DIR ")\n";

enum {
	OPT_ROOTFS = 256,
	OPT_IMAGE,
	OPT_IMAGE_DIR,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_PIDS,
	OPT_USER,
	OPT_HOSTNAME,
	OPT_NAME,
	OPT_CAP_ADD,
	OPT_CAP_DROP,
	OPT_PRIVILEGED,
	OPT_READ_ONLY,
	OPT_NNP,
	OPT_SECCOMP,
	OPT_NET,
	OPT_CGROUP_ROOT,
	OPT_STATE_DIR,
	OPT_GRACE,
	OPT_PID,
};

static const struct option run_options[] = {
	{"rootfs", required_argument, NULL, OPT_ROOTFS},
	{"image", required_argument, NULL, OPT_IMAGE},
	{"image-dir", required_argument, NULL, OPT_IMAGE_DIR},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"pids", required_argument, NULL, OPT_PIDS},
	{"user", required_argument, NULL, OPT_USER},
	{"hostname", required_argument, NULL, OPT_HOSTNAME},
	{"name", required_argument, NULL, OPT_NAME},
	{"env", required_argument, NULL, 'e'},
	{"workdir", required_argument, NULL, 'w'},
	{"volume", required_argument, NULL, 'v'},
	{"cap-add", required_argument, NULL, OPT_CAP_ADD},
	{"cap-drop", required_argument, NULL, OPT_CAP_DROP},
	{"privileged", no_argument, NULL, OPT_PRIVILEGED},
	{"read-only", no_argument, NULL, OPT_READ_ONLY},
	{"no-new-privileges", no_argument, NULL, OPT_NNP},
	{"seccomp", required_argument, NULL, OPT_SECCOMP},
	{"net", required_argument, NULL, OPT_NET},
	{"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"grace", required_argument, NULL, OPT_GRACE},
	{"pid", required_argument, NULL, OPT_PID},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct run_args {
	const char *rootfs, *image, *image_dir;
};

/* "UID", "UID:GID" or a name looked up in the image. */
static int parse_user(const char *s, struct rt_container_config *c, sk_err *err)
{
	_cleanup_free_ char *copy = sk_strdup(s);
	char *colon = strchr(copy, ':');
	int64_t v;

	if (colon)
		*colon = '\0';
	if (sk_parse_int64(copy, 0, 0xfffffffe, &v, NULL) == 0)
		c->uid = v;
	else if (!colon)
		c->user = sk_strdup(copy);
	else
		return sk_err_set(err, EINVAL, "--user \"%s\": want UID[:GID] or a name", s);
	if (colon && sk_parse_int64(colon + 1, 0, 0xfffffffe, &c->gid, err) < 0)
		return sk_err_wrap(err, "--user \"%s\"", s);
	return 0;
}

static int parse_volume(const char *s, struct rt_container_config *c, sk_err *err)
{
	_cleanup_free_ char *copy = sk_strdup(s);
	char *dst = strchr(copy, ':');
	char *opt = dst ? strchr(dst + 1, ':') : NULL;
	char real[PATH_MAX];

	if (!dst)
		return sk_err_set(err, EINVAL, "--volume \"%s\": want SRC:DST[:ro]", s);
	*dst++ = '\0';
	if (opt)
		*opt++ = '\0';
	if (opt && strcmp(opt, "ro") && strcmp(opt, "rw"))
		return sk_err_set(err, EINVAL, "--volume \"%s\": option must be ro or rw", s);
	if (!realpath(copy, real))
		return sk_err_sys(err, errno, "--volume source %s", copy);
	struct rt_mount *m = rt_container_add_mount(c);
	m->source = sk_strdup(real);
	m->destination = sk_strdup(dst);
	m->read_only = opt && !strcmp(opt, "ro");
	return 0;
}

static int parse_option(int opt, struct rt_pod_config *cfg, struct rt_container_config *c,
			struct run_args *a, sk_err *err)
{
	uint64_t cap;
	int64_t v;

	switch (opt) {
	case OPT_ROOTFS:
		a->rootfs = optarg;
		return 0;
	case OPT_IMAGE:
		a->image = optarg;
		return 0;
	case OPT_IMAGE_DIR:
		a->image_dir = optarg;
		return 0;
	case OPT_MEMORY:
		if (api_quantity_value(optarg, &v, err) < 0 || v <= 0)
			return sk_err_wrap(err, "--memory \"%s\"", optarg);
		c->resources.memory_limit = v;
		return 0;
	case OPT_CPUS:
		if (api_quantity_milli(optarg, &v, err) < 0 || v <= 0)
			return sk_err_wrap(err, "--cpus \"%s\"", optarg);
		c->resources.cpu_limit_milli = c->resources.cpu_request_milli = v;
		return 0;
	case OPT_PIDS:
		if (sk_parse_int64(optarg, 1, INT32_MAX, &c->resources.pids_limit, err) < 0)
			return sk_err_wrap(err, "--pids");
		return 0;
	case OPT_USER:
		return parse_user(optarg, c, err);
	case OPT_HOSTNAME:
		free(cfg->hostname);
		cfg->hostname = sk_strdup(optarg);
		return 0;
	case OPT_NAME:
		free(cfg->name);
		cfg->name = sk_strdup(optarg);
		return 0;
	case 'e':
		if (!strchr(optarg, '='))
			return sk_err_set(err, EINVAL, "--env \"%s\": want NAME=value", optarg);
		c->env = sk_strv_push(c->env, optarg);
		return 0;
	case 'w':
		free(c->working_dir);
		c->working_dir = sk_strdup(optarg);
		return 0;
	case 'v':
		return parse_volume(optarg, c, err);
	case OPT_CAP_ADD:
	case OPT_CAP_DROP:
		if (rt_cap_from_name(optarg, &cap, err) < 0)
			return -1;
		*(opt == OPT_CAP_ADD ? &c->cap_add : &c->cap_drop) |= cap;
		return 0;
	case OPT_PRIVILEGED:
		c->privileged = true;
		return 0;
	case OPT_READ_ONLY:
		c->read_only_rootfs = true;
		return 0;
	case OPT_NNP:
		c->no_new_privs = true;
		return 0;
	case OPT_SECCOMP:
		if (strcmp(optarg, "unconfined") && strcmp(optarg, "runtime-default"))
			return sk_err_set(err, EINVAL,
					  "--seccomp \"%s\": want unconfined or runtime-default",
					  optarg);
		c->seccomp = optarg[0] == 'u' ? RT_SECCOMP_UNCONFINED : RT_SECCOMP_RUNTIME_DEFAULT;
		return 0;
	case OPT_NET:
		if (strcmp(optarg, "host"))
			return sk_err_set(err, EINVAL, "--net \"%s\": only \"host\" is known",
					  optarg);
		cfg->host_network = true;
		return 0;
	case OPT_CGROUP_ROOT:
		free(cfg->cgroup_root);
		cfg->cgroup_root = sk_strdup(optarg);
		return 0;
	case OPT_STATE_DIR:
		free(cfg->state_dir);
		cfg->state_dir = sk_strdup(optarg);
		return 0;
	case OPT_GRACE:
		if (sk_parse_int64(optarg, 0, INT32_MAX, &cfg->termination_grace_seconds, err) < 0)
			return sk_err_wrap(err, "--grace");
		return 0;
	case OPT_PID:
		if (strcmp(optarg, "host"))
			return sk_err_set(err, EINVAL, "--pid \"%s\": only \"host\" is known",
					  optarg);
		cfg->host_pid = true;
		return 0;
	default:
		return sk_err_set(err, EINVAL, "unknown option (see skiff run --help)");
	}
}

/* The rootfs and, for an image without a command on the line, what the
 * image says to run. */
static int resolve_root(const struct run_args *a, struct rt_container_config *c, sk_err *err)
{
	char real[PATH_MAX];

	if (!!a->rootfs == !!a->image)
		return sk_err_set(err, EINVAL, "give one of --rootfs DIR or --image NAME");
	if (a->rootfs) {
		if (!realpath(a->rootfs, real))
			return sk_err_sys(err, errno, "--rootfs %s", a->rootfs);
		c->rootfs = sk_strdup(real);
		return 0;
	}
	struct rt_image img;
	const char *dir = a->image_dir ? a->image_dir : RT_IMAGE_DIR_DEFAULT;
	if (rt_image_inspect(dir, a->image, &img, err) < 0)
		return -1;
	c->rootfs = sk_strdup(img.rootfs);
	c->image = sk_strdup(a->image);
	if (!c->argv) {
		for (char **p = img.config.entrypoint; p && *p; p++)
			c->argv = sk_strv_push(c->argv, *p);
		for (char **p = img.config.cmd; p && *p; p++)
			c->argv = sk_strv_push(c->argv, *p);
	}
	char **own = c->env;
	c->env = NULL;
	for (char **p = img.config.env; p && *p; p++)
		c->env = sk_strv_push(c->env, *p);
	for (char **p = own; p && *p; p++)
		c->env = sk_strv_push(c->env, *p);
	sk_strv_free(own);
	if (!c->working_dir && img.config.workdir && img.config.workdir[0])
		c->working_dir = sk_strdup(img.config.workdir);
	rt_image_clear(&img);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct rt_pod_config *cfg = rt_pod_config_new();
	struct rt_container_config *c = rt_pod_add_container(cfg, false);
	struct run_args a = {0};
	bool oom = false;
	int status = 125;
	bool grace_set = false;
	sk_err err;
	int opt;

	sk_err_clear(&err);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+he:w:v:", run_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(run_usage, stdout);
			rt_pod_config_free(cfg);
			return 0;
		}
		grace_set = grace_set || opt == OPT_GRACE;
		if (opt == '?' || parse_option(opt, cfg, c, &a, &err) < 0) {
			rt_pod_config_free(cfg);
			return opt == '?' ? cli_failf("see skiff run --help") : cli_fail(&err);
		}
	}
	for (int i = optind; i < argc; i++)
		c->argv = sk_strv_push(c->argv, argv[i]);
	if (!cfg->name) {
		char suffix[8];
		sk_random_alnum(suffix, 5);
		cfg->name = sk_asprintf("run-%s", suffix);
	}
	c->name = sk_strdup(cfg->name);
	cfg->restart_policy = RT_RESTART_NEVER;
	if (!grace_set)
		cfg->termination_grace_seconds = 10; /* docker stop's */
	if (resolve_root(&a, c, &err) < 0 ||
	    (!c->argv && sk_err_set(&err, EINVAL,
				    "no command: skiff run "
				    "[options] -- CMD [ARGS...]") < 0)) {
		rt_pod_config_free(cfg);
		return cli_fail(&err);
	}
	fflush(stdout);
	if (rt_run(cfg, &status, &oom, &err) < 0) {
		cli_fail(&err);
		rt_pod_config_free(cfg);
		return status == 0 ? 1 : status;
	}
	if (oom)
		cli_failf("%s: OOMKilled (memory limit %lld bytes)", cfg->name,
			  (long long)c->resources.memory_limit);
	rt_pod_config_free(cfg);
	return status;
}

SK_COMMAND(run, "run", cmd_run, "run one container in the foreground (like crun run)");
