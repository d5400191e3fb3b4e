/* cgroups, v2 and v1, both real. The mode is read with statfs(2) on
 * /sys/fs/cgroup, never guessed from paths: on a hybrid host that
 * directory is a tmpfs and writing "memory.max" there would quietly create
 * a plain file. v1 controllers are found in /proc/self/mountinfo (they may
 * be co-mounted, "cpu,cpuacct").
 *
 * Layout: <root>/<pod id>/<container> (and <root>/<pod id>/_supervisor),
 * with <root> skiff's own top-level group. Nothing above <root> is ever
 * written. Limits follow the kubelet's formulas. */
#include "runtime_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"
#define CPU_PERIOD_US 100000
#define MIN_QUOTA_US 1000
#define MIN_SHARES 2
#define MAX_SHARES 262144

static const char *const v1_controllers[RT_CG_NCTRL] = {"cpu", "memory", "pids", "devices"};

static struct {
	bool detected;
	enum rt_cgroup_mode mode;
	char *v1_mount[RT_CG_NCTRL];
} cg;

/* Does the comma-separated option list opts name ctrl? */
static bool has_option(const char *opts, const char *ctrl)
{
	size_t n = strlen(ctrl);

	for (const char *p = opts; p && *p;) {
		if (!strncmp(p, ctrl, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static int find_v1_mounts(sk_err *err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	if (!f)
		return sk_err_sys(err, errno, "open /proc/self/mountinfo");
	while (fgets(line, sizeof(line), f)) {
		/* "... mountpoint opts [optional...] - fstype source superopts" */
		char *sep = strstr(line, " - ");
		char mnt[1024], fstype[64], src[256], super[1024];
		if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %255s %1023s", fstype, src, super) != 3)
			continue;
		if (strcmp(fstype, "cgroup") != 0)
			continue;
		for (int i = 0; i < RT_CG_NCTRL; i++)
			if (!cg.v1_mount[i] && has_option(super, v1_controllers[i]))
				cg.v1_mount[i] = sk_strdup(mnt);
	}
	for (int i = 0; i < RT_CG_NCTRL; i++)
		if (!cg.v1_mount[i])
			return sk_err_set(err, ENOENT, "cgroup v1 controller \"%s\" is not mounted",
					  v1_controllers[i]);
	return 0;
}

int rt_cgroup_mode(enum rt_cgroup_mode *mode, sk_err *err)
{
	struct statfs sf;

	if (!cg.detected) {
		if (statfs(CG_ROOT, &sf) < 0)
			return sk_err_sys(err, errno, "statfs %s", CG_ROOT);
		if (sf.f_type == CGROUP2_SUPER_MAGIC) {
			cg.mode = RT_CGROUP_V2;
		} else if (sf.f_type == TMPFS_MAGIC) {
			cg.mode = RT_CGROUP_V1;
			if (find_v1_mounts(err) < 0)
				return -1;
		} else {
			return sk_err_set(err, ENOTSUP,
					  "%s is neither cgroup2 nor a tmpfs of v1 controllers "
					  "(filesystem magic 0x%lx)",
					  CG_ROOT, (unsigned long)sf.f_type);
		}
		cg.detected = true;
	}
	if (mode)
		*mode = cg.mode;
	return 0;
}

/* The directory of group rel in controller i (v1) or in the unified tree. */
static char *cg_dir(int ctrl, const char *rel)
{
	if (cg.mode == RT_CGROUP_V2)
		return sk_asprintf(CG_ROOT "/%s", rel);
	return sk_asprintf("%s/%s", cg.v1_mount[ctrl], rel);
}

static int cg_write(int ctrl, const char *rel, const char *file, const char *value, sk_err *err)
{
	_cleanup_free_ char *dir = cg_dir(ctrl, rel);
	_cleanup_free_ char *path = sk_asprintf("%s/%s", dir, file);

	return sk_write_string(path, value, err);
}

static int ncontrollers(void)
{
	return cg.mode == RT_CGROUP_V2 ? 1 : RT_CG_NCTRL;
}

static int mkdir_one(const char *path, sk_err *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return sk_err_sys(err, errno, "create cgroup %s", path);
	return 0;
}

/* v2: let the children of rel use cpu, memory and pids. */
static int enable_subtree(const char *rel, sk_err *err)
{
	_cleanup_free_ char *path = sk_asprintf(CG_ROOT "/%s/cgroup.subtree_control", rel);

	if (sk_write_string(path, "+cpu +memory +pids", err) < 0)
		return sk_err_wrap(err, "enable controllers (are cpu, memory and pids delegated in "
					"/sys/fs/cgroup/cgroup.subtree_control?)");
	return 0;
}

int rt_cg_create(const char *rel, sk_err *err)
{
	_cleanup_free_ char *copy = sk_strdup(rel);

	if (rt_cgroup_mode(NULL, err) < 0)
		return -1;
	/* create each level; in v2, each parent level delegates the controllers */
	for (char *s = copy;; s++) {
		bool last = (*s == '\0');
		if (*s != '/' && !last)
			continue;
		*s = '\0';
		for (int i = 0; i < ncontrollers(); i++) {
			_cleanup_free_ char *dir = cg_dir(i, copy);
			if (mkdir_one(dir, err) < 0)
				return -1;
		}
		if (last)
			break;
		if (cg.mode == RT_CGROUP_V2 && enable_subtree(copy, err) < 0)
			return -1;
		*s = '/';
	}
	return 0;
}

static int64_t milli_to_shares(int64_t milli)
{
	int64_t shares = milli * 1024 / 1000;

	if (shares < MIN_SHARES)
		return MIN_SHARES;
	return shares > MAX_SHARES ? MAX_SHARES : shares;
}

static int64_t milli_to_quota(int64_t milli)
{
	int64_t quota = milli * CPU_PERIOD_US / 1000;

	return quota < MIN_QUOTA_US ? MIN_QUOTA_US : quota;
}

/* runc's and the kubelet's shares -> weight mapping: [2, 262144] -> [1, 10000] */
static int64_t shares_to_weight(int64_t shares)
{
	return 1 + ((shares - 2) * 9999) / 262142;
}

static int apply_cpu(const char *rel, const struct rt_resources *r, sk_err *err)
{
	char v[64];

	if (!r->cpu_limit_milli && !r->cpu_request_milli)
		return 0; /* leave the kernel's defaults */
	int64_t shares = milli_to_shares(r->cpu_request_milli);
	if (cg.mode == RT_CGROUP_V2) {
		snprintf(v, sizeof(v), "%lld", (long long)shares_to_weight(shares));
		if (cg_write(0, rel, "cpu.weight", v, err) < 0)
			return -1;
		if (r->cpu_limit_milli)
			snprintf(v, sizeof(v), "%lld %d",
				 (long long)milli_to_quota(r->cpu_limit_milli), CPU_PERIOD_US);
		else
			snprintf(v, sizeof(v), "max %d", CPU_PERIOD_US);
		return cg_write(0, rel, "cpu.max", v, err);
	}
	snprintf(v, sizeof(v), "%lld", (long long)shares);
	if (cg_write(RT_CG_CPU, rel, "cpu.shares", v, err) < 0)
		return -1;
	if (!r->cpu_limit_milli)
		return 0;
	snprintf(v, sizeof(v), "%d", CPU_PERIOD_US);
	if (cg_write(RT_CG_CPU, rel, "cpu.cfs_period_us", v, err) < 0)
		return -1;
	snprintf(v, sizeof(v), "%lld", (long long)milli_to_quota(r->cpu_limit_milli));
	return cg_write(RT_CG_CPU, rel, "cpu.cfs_quota_us", v, err);
}

static bool cg_file_exists(int ctrl, const char *rel, const char *file)
{
	_cleanup_free_ char *dir = cg_dir(ctrl, rel);
	_cleanup_free_ char *path = sk_asprintf("%s/%s", dir, file);

	return access(path, F_OK) == 0;
}

static int apply_memory(const char *rel, const struct rt_resources *r, bool container, sk_err *err)
{
	char v[32];

	if (cg.mode == RT_CGROUP_V2) {
		/* one OOM kill takes the whole container down, as the kubelet asks */
		if (container && cg_write(0, rel, "memory.oom.group", "1", err) < 0)
			return -1;
		if (!r->memory_limit)
			return 0;
		snprintf(v, sizeof(v), "%lld", (long long)r->memory_limit);
		if (cg_write(0, rel, "memory.max", v, err) < 0)
			return -1;
		if (cg_file_exists(0, rel, "memory.swap.max"))
			return cg_write(0, rel, "memory.swap.max", "0", err);
		return 0;
	}
	if (!r->memory_limit)
		return 0;
	snprintf(v, sizeof(v), "%lld", (long long)r->memory_limit);
	if (cg_write(RT_CG_MEMORY, rel, "memory.limit_in_bytes", v, err) < 0)
		return -1;
	/* memory+swap equal to memory: no swap, when the kernel accounts it */
	if (cg_file_exists(RT_CG_MEMORY, rel, "memory.memsw.limit_in_bytes"))
		return cg_write(RT_CG_MEMORY, rel, "memory.memsw.limit_in_bytes", v, err);
	return 0;
}

static int apply_pids(const char *rel, const struct rt_resources *r, sk_err *err)
{
	char v[32];

	if (!r->pids_limit)
		return 0;
	snprintf(v, sizeof(v), "%lld", (long long)r->pids_limit);
	return cg_write(cg.mode == RT_CGROUP_V2 ? 0 : RT_CG_PIDS, rel, "pids.max", v, err);
}

int rt_cg_apply(const char *rel, const struct rt_resources *r, bool container, sk_err *err)
{
	if (apply_cpu(rel, r, err) < 0 || apply_memory(rel, r, container, err) < 0 ||
	    apply_pids(rel, r, err) < 0)
		return sk_err_wrap(err, "cgroup %s", rel);
	return 0;
}

/* The kubelet's pod-level group: the sums of the containers' requests, and
 * of their limits when every container has one. */
void rt_cg_pod_resources(const struct rt_pod_config *cfg, struct rt_resources *out)
{
	bool all_cpu = true, all_mem = true;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < cfg->n_containers; i++) {
		const struct rt_resources *r = &cfg->containers[i].resources;
		out->cpu_request_milli += r->cpu_request_milli;
		out->cpu_limit_milli += r->cpu_limit_milli;
		out->memory_limit += r->memory_limit;
		all_cpu = all_cpu && r->cpu_limit_milli;
		all_mem = all_mem && r->memory_limit;
	}
	/* init containers run alone: the pod needs the larger of the two */
	for (size_t i = 0; i < cfg->n_init_containers; i++) {
		const struct rt_resources *r = &cfg->init_containers[i].resources;
		if (r->cpu_request_milli > out->cpu_request_milli)
			out->cpu_request_milli = r->cpu_request_milli;
		if (r->cpu_limit_milli > out->cpu_limit_milli)
			out->cpu_limit_milli = r->cpu_limit_milli;
		if (r->memory_limit > out->memory_limit)
			out->memory_limit = r->memory_limit;
		all_cpu = all_cpu && r->cpu_limit_milli;
		all_mem = all_mem && r->memory_limit;
	}
	if (!all_cpu)
		out->cpu_limit_milli = 0;
	if (!all_mem)
		out->memory_limit = 0;
	out->pids_limit = cfg->pids_limit;
}

/* Move a process (pid 0: the caller) into group rel. For the caller in v1,
 * "0" goes to the `tasks` file: moving only the calling thread lets the
 * kernel skip the global threadgroup lock, whose write side waits for an
 * RCU grace period (about 10 ms here) on every cgroup.procs write. The
 * callers are single-threaded, so the thread is the whole process. */
int rt_cg_enter(const char *rel, pid_t pid, sk_err *err)
{
	const char *file = "cgroup.procs";
	char v[24];

	if (pid == 0 && cg.mode == RT_CGROUP_V1)
		file = "tasks";
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (int i = 0; i < ncontrollers(); i++)
		if (cg_write(i, rel, file, v, err) < 0)
			return sk_err_wrap(err, "move process %d into cgroup %s", (int)pid, rel);
	return 0;
}

int rt_cg_open_v2(const char *rel, sk_err *err)
{
	_cleanup_free_ char *dir = sk_asprintf(CG_ROOT "/%s", rel);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return sk_err_sys(err, errno, "open cgroup %s", dir);
	return fd;
}

/* Read "key N" from a flat keyed cgroup file. */
static int read_key(int ctrl, const char *rel, const char *file, const char *key, int64_t *out)
{
	_cleanup_free_ char *dir = cg_dir(ctrl, rel);
	_cleanup_free_ char *path = sk_asprintf("%s/%s", dir, file);
	_cleanup_free_ char *text = NULL;
	size_t klen = strlen(key);
	sk_err e;

	if (sk_read_file(path, 1 << 16, &text, NULL, &e) < 0)
		return -1;
	for (char *line = text; line && *line;) {
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			*out = strtoll(line + klen + 1, NULL, 10);
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

int64_t rt_cg_oom_kills(const char *rel)
{
	int64_t n = 0;

	if (cg.mode == RT_CGROUP_V2)
		(void)read_key(0, rel, "memory.events", "oom_kill", &n);
	else
		(void)read_key(RT_CG_MEMORY, rel, "memory.oom_control", "oom_kill", &n);
	return n;
}

/* SIGKILL every process of group dir and its children; returns how many
 * were signalled. */
static int kill_tree(const char *dir)
{
	_cleanup_free_ char *procs = sk_asprintf("%s/cgroup.procs", dir);
	_cleanup_fclose_ FILE *f = fopen(procs, "re");
	DIR *d;
	struct dirent *de;
	int n = 0;
	int pid;

	while (f && fscanf(f, "%d", &pid) == 1) {
		if (pid > 0 && kill(pid, SIGKILL) == 0)
			n++;
	}
	d = opendir(dir);
	if (!d)
		return n;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = sk_asprintf("%s/%s", dir, de->d_name);
		n += kill_tree(sub);
	}
	closedir(d);
	return n;
}

int rt_cg_kill(const char *rel, sk_err *err)
{
	if (rt_cgroup_mode(NULL, err) < 0)
		return -1;
	for (int round = 0; round < 200; round++) {
		int n = 0;
		for (int i = 0; i < ncontrollers(); i++) {
			_cleanup_free_ char *dir = cg_dir(i, rel);
			if (access(dir, F_OK) == 0)
				n += kill_tree(dir);
		}
		if (n == 0)
			return 0;
		nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
	}
	return sk_err_set(err, EBUSY, "cgroup %s: processes keep running after SIGKILL", rel);
}

/* rmdir a group after its children; EBUSY while dying tasks leave. */
static int rmdir_tree(const char *dir, sk_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : sk_err_sys(err, errno, "open cgroup %s", dir);
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *sub = sk_asprintf("%s/%s", dir, de->d_name);
		if (rmdir_tree(sub, err) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	for (int tries = 0; rmdir(dir) < 0; tries++) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || tries > 400)
			return sk_err_sys(err, errno, "remove cgroup %s", dir);
		nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
	}
	return 0;
}

int rt_cg_remove(const char *rel, sk_err *err)
{
	int ret = 0;

	if (rt_cgroup_mode(NULL, err) < 0)
		return -1;
	for (int i = 0; i < ncontrollers(); i++) {
		_cleanup_free_ char *dir = cg_dir(i, rel);
		if (rmdir_tree(dir, err) < 0)
			ret = -1;
	}
	return ret;
}

bool rt_cg_exists(const char *rel)
{
	sk_err e;

	if (rt_cgroup_mode(NULL, &e) < 0)
		return false;
	for (int i = 0; i < ncontrollers(); i++) {
		_cleanup_free_ char *dir = cg_dir(i, rel);
		if (access(dir, F_OK) == 0)
			return true;
	}
	return false;
}

int rt_cg_devices(const char *rel, sk_err *err)
{
	if (cg.mode == RT_CGROUP_V2) {
		_cleanup_close_ int fd = rt_cg_open_v2(rel, err);
		if (fd < 0)
			return -1;
		return rt_devices_bpf_attach(fd, err);
	}
	if (cg_write(RT_CG_DEVICES, rel, "devices.deny", "a", err) < 0)
		return -1;
	for (const char *const *rule = rt_device_rules_v1; *rule; rule++)
		if (cg_write(RT_CG_DEVICES, rel, "devices.allow", *rule, err) < 0)
			return -1;
	return 0;
}
