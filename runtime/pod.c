/* The pod API the commands and the agent use: create (spawning the
 * supervisor), status, wait, stop, remove and list. Everything goes
 * through the pod's state directory:
 *
 *   <state dir>/<namespace>_<name>/pod.conf     the config (rt_pod_config_load)
 *                                  /status       the supervisor's last status
 *                                  /sock         the supervisor's socket
 *                                  /hosts, hostname, resolv.conf, shm/
 *                                  /supervisor.log
 *
 * rt_pod_remove works whether or not the supervisor is alive: it can
 * always find the pod's cgroups, mounts and files from pod.conf. */
#include "runtime_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 30000
#define REQUEST_TIMEOUT_MS 10000

static char *pod_dir(const char *state_dir, const char *id)
{
	return sk_asprintf("%s/%s", state_dir, id);
}

/* ---- talking to the supervisor -------------------------------------------------- */

/* Read until EOF or timeout. */
static int read_all(int fd, int timeout_ms, char **out, sk_err *err)
{
	sk_buf b;
	char chunk[4096];
	int64_t deadline = sk_monotonic_ns() + (int64_t)timeout_ms * 1000000;

	sk_buf_init(&b);
	for (;;) {
		int left = (int)((deadline - sk_monotonic_ns()) / 1000000);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0) {
			sk_buf_free(&b);
			return sk_err_set(err, ETIMEDOUT, "no answer from the pod's supervisor");
		}
		int r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sk_buf_free(&b);
			return sk_err_sys(err, errno, "read from the supervisor");
		}
		if (n == 0)
			break;
		sk_buf_append(&b, chunk, (size_t)n);
	}
	*out = sk_buf_steal(&b);
	return 0;
}

/* One request and its answer. Returns -2 (err filled) when no supervisor
 * listens, -1 on other errors. */
static int pod_request(const char *dir, const char *req, int timeout_ms, char **answer, sk_err *err)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (dfd < 0)
		return sk_err_sys(err, errno, "open %s", dir);
	/* by fd, so a long state path never exceeds sun_path */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/sock", dfd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk_err_sys(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		sk_err_sys(err, errno, "connect to the supervisor of %s", dir);
		return errno == ECONNREFUSED || errno == ENOENT ? -2 : -1;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return sk_err_sys(err, errno, "send to the supervisor");
	if (read_all(fd, timeout_ms, answer, err) < 0)
		return -1;
	if (sk_startswith(*answer, "error ")) {
		(*answer)[strcspn(*answer, "\n")] = '\0';
		sk_err_set(err, EIO, "supervisor: %s", *answer + 6);
		free(*answer);
		*answer = NULL;
		return -1;
	}
	return 0;
}

static int status_request(const char *dir, const char *req, int timeout_ms,
			  struct rt_pod_status *st, sk_err *err)
{
	_cleanup_free_ char *text = NULL;
	int r = pod_request(dir, req, timeout_ms, &text, err);

	if (r < 0)
		return r;
	if (rt_pod_status_parse(text, st, err) < 0)
		return sk_err_wrap(err, "status of %s", dir);
	st->supervisor_alive = true;
	return 0;
}

int rt_pod_status(const char *state_dir, const char *id, struct rt_pod_status *st, sk_err *err)
{
	_cleanup_free_ char *dir = pod_dir(state_dir, id);
	_cleanup_free_ char *path = sk_path_join(dir, "status");
	_cleanup_free_ char *text = NULL;
	int r = status_request(dir, "status\n", REQUEST_TIMEOUT_MS, st, err);

	if (r != -2)
		return r;
	/* no supervisor: what it last wrote */
	if (!sk_path_exists(dir))
		return sk_err_set(err, ENOENT, "pod %s not found in %s", id, state_dir);
	if (sk_read_file(path, 1 << 22, &text, NULL, err) < 0 ||
	    rt_pod_status_parse(text, st, err) < 0)
		return sk_err_wrap(err, "pod %s has no supervisor and no status", id);
	st->supervisor_alive = false;
	return 0;
}

int rt_pod_wait_started(const char *state_dir, const char *id, int timeout_ms,
			struct rt_pod_status *st, sk_err *err)
{
	_cleanup_free_ char *dir = pod_dir(state_dir, id);
	struct rt_pod_status tmp;
	int r = status_request(dir, "wait-started\n", timeout_ms, st ? st : &tmp, err);

	if (r < 0)
		return -1;
	if (!st)
		rt_pod_status_free(&tmp);
	return 0;
}

static int64_t pod_grace(const char *state_dir, const char *id, int64_t grace_s)
{
	struct rt_pod_config *cfg = NULL;
	sk_err e;

	if (grace_s >= 0)
		return grace_s;
	if (rt_pod_config_load(state_dir, id, &cfg, &e) < 0)
		return 30;
	grace_s = cfg->termination_grace_seconds;
	rt_pod_config_free(cfg);
	return grace_s;
}

int rt_pod_stop(const char *state_dir, const char *id, int64_t grace_s, sk_err *err)
{
	_cleanup_free_ char *dir = pod_dir(state_dir, id);
	_cleanup_free_ char *req = sk_asprintf("stop %lld\n", (long long)grace_s);
	int64_t wait_s = pod_grace(state_dir, id, grace_s) + 30;
	struct rt_pod_status st;

	if (status_request(dir, req, (int)(wait_s * 1000), &st, err) < 0)
		return sk_err_wrap(err, "stop pod %s", id);
	rt_pod_status_free(&st);
	return 0;
}

/* ---- creating --------------------------------------------------------------------- */

/* The grandchild: becomes the supervisor by exec'ing this binary. */
/* Runs between clone and exec in a copy of a possibly multi-threaded
 * starter (the agent): async-signal-safe calls only, no allocation (a
 * malloc lock held by another thread at clone time would never be
 * released here). */
static void __attribute__((noreturn)) exec_supervisor(const char *dir, const char *log, int ready_w)
{
	char *argv[] = {"skiff", "__supervisor", (char *)dir, "3", NULL};
	char *envp[3] = {"PATH=" RT_DEFAULT_PATH, NULL, NULL};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (getenv("SKIFF_DEBUG"))
		envp[1] = "SKIFF_DEBUG=1";
	if (null < 0 || logfd < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(logfd, 2) < 0 ||
	    dup2(ready_w, 3) < 0)
		_exit(127);
	/* nothing of the starter's but the ready pipe reaches the supervisor */
	(void)rt_close_range(4, ~0U, CLOSE_RANGE_CLOEXEC);
	execve("/proc/self/exe", argv, envp);
	(void)!write(3, "error exec /proc/self/exe failed\n", 33);
	_exit(127);
}

/* Fork twice so the supervisor is nobody's child but init's (or the nearest
 * subreaper's): it outlives its starter and leaves no zombie behind. In v2
 * the first child is cloned straight into the supervisor's cgroup. */
static int spawn_supervisor(const char *dir, int cgfd, int ready_w, sk_err *err)
{
	_cleanup_free_ char *log = sk_path_join(dir, "supervisor.log");
	struct clone_args args;
	int wstatus;
	pid_t pid;

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	if (cgfd >= 0) {
		args.flags = CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
	}
	pid = rt_clone3(&args);
	if (pid < 0)
		return sk_err_sys(err, errno, "clone3 the supervisor");
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		setsid();
		/* the raw system call, not glibc's fork(): its atfork handlers take
		 * malloc's locks, which another thread of the starter may hold */
		struct clone_args gargs = {.exit_signal = SIGCHLD};
		pid_t grandchild = rt_clone3(&gargs);
		if (grandchild == 0)
			exec_supervisor(dir, log, ready_w);
		_exit(grandchild < 0 ? 1 : 0);
	}
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
		return sk_err_set(err, ECHILD, "fork the supervisor");
	return 0;
}

static int wait_ready(int ready_r, const char *id, sk_err *err)
{
	_cleanup_free_ char *msg = NULL;

	if (read_all(ready_r, READY_TIMEOUT_MS, &msg, err) < 0)
		return sk_err_wrap(err, "start the supervisor of %s", id);
	if (!strcmp(msg, "ok\n"))
		return 0;
	msg[strcspn(msg, "\n")] = '\0';
	if (sk_startswith(msg, "error "))
		return sk_err_set(err, EIO, "%s", msg + 6);
	return sk_err_set(err, EIO, "the supervisor of %s died while starting", id);
}

static int create_state(struct rt_pod_config *cfg, const char *dir, const char *id, sk_err *err)
{
	_cleanup_free_ char *conf = sk_path_join(dir, "pod.conf");
	_cleanup_free_ char *text = NULL;

	if (sk_mkdir_p(cfg->state_dir, 0711, err) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return sk_err_set(err, EEXIST, "pod %s/%s already exists (state in %s)",
					  cfg->namespace, cfg->name, dir);
		return sk_err_sys(err, errno, "mkdir %s", dir);
	}
	(void)id;
	text = rt_pod_config_serialize(cfg);
	return rt_write_state(conf, text, 0600, err);
}

static int start_pod(struct rt_pod_config *cfg, const char *dir, const char *id, sk_err *err)
{
	_cleanup_free_ char *pod_cg = rt_pod_cgroup(cfg);
	_cleanup_free_ char *sup_cg = sk_asprintf("%s/_supervisor", pod_cg);
	_cleanup_close_ int cgfd = -1;
	enum rt_cgroup_mode mode;
	int ready[2];
	int ret;

	if (rt_cgroup_mode(&mode, err) < 0 || rt_cg_create(sup_cg, err) < 0)
		return -1;
	if (mode == RT_CGROUP_V2 && (cgfd = rt_cg_open_v2(sup_cg, err)) < 0)
		return -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return sk_err_sys(err, errno, "pipe");
	ret = spawn_supervisor(dir, cgfd, ready[1], err);
	close(ready[1]);
	if (ret == 0)
		ret = wait_ready(ready[0], id, err);
	close(ready[0]);
	return ret;
}

int rt_pod_create(struct rt_pod_config *cfg, sk_err *err)
{
	_cleanup_free_ char *id = NULL;
	_cleanup_free_ char *dir = NULL;
	sk_err cleanup;

	if (rt_pod_config_check(cfg, err) < 0)
		return sk_err_wrap(err, "pod \"%s\"", cfg->name ? cfg->name : "");
	id = rt_pod_id(cfg->namespace, cfg->name);
	dir = pod_dir(cfg->state_dir, id);
	if (create_state(cfg, dir, id, err) < 0)
		return -1;
	if (start_pod(cfg, dir, id, err) < 0) {
		(void)rt_pod_remove(cfg->state_dir, id, 0, &cleanup);
		return sk_err_wrap(err, "create pod %s/%s", cfg->namespace, cfg->name);
	}
	return 0;
}

/* ---- removing ---------------------------------------------------------------------- */

/* Wait for a process to end (up to timeout_ms), then SIGKILL it. */
static void wait_exit(pid_t pid, int timeout_ms)
{
	int pidfd = rt_pidfd_open(pid, 0);
	struct pollfd p;

	if (pidfd < 0)
		return;
	p = (struct pollfd){.fd = pidfd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) == 0) {
		(void)rt_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		p.revents = 0;
		(void)poll(&p, 1, 5000);
	}
	close(pidfd);
}

/* Is pid the supervisor of pod dir? (pids are reused) */
static bool is_supervisor(pid_t pid, const char *dir)
{
	char path[64];
	_cleanup_free_ char *cmdline = NULL;
	size_t len = 0;
	sk_err e;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (pid <= 0 || sk_read_file(path, 8192, &cmdline, &len, &e) < 0)
		return false;
	/* argv: skiff \0 __supervisor \0 DIR \0 3 */
	const char *arg1 = cmdline + strlen(cmdline) + 1;
	if (arg1 >= cmdline + len || strcmp(arg1, "__supervisor"))
		return false;
	const char *arg2 = arg1 + strlen(arg1) + 1;
	return arg2 < cmdline + len && !strcmp(arg2, dir);
}

static void shutdown_supervisor(const char *state_dir, const char *id, const char *dir,
				int64_t grace_s)
{
	_cleanup_free_ char *answer = NULL;
	struct rt_pod_status st;
	sk_err e;

	if (rt_pod_status(state_dir, id, &st, &e) < 0)
		return;
	pid_t pid = st.supervisor_pid;
	bool alive = st.supervisor_alive;
	rt_pod_status_free(&st);
	if (alive) {
		(void)rt_pod_stop(state_dir, id, grace_s, &e);
		(void)pod_request(dir, "shutdown\n", REQUEST_TIMEOUT_MS, &answer, &e);
	}
	if (is_supervisor(pid, dir))
		wait_exit(pid, 10000);
}

/* Mount points below prefix in our mount namespace, deepest first. */
static void unmount_below(const char *prefix)
{
	_cleanup_free_ char *text = NULL;
	char **points = NULL;
	size_t plen = strlen(prefix);
	sk_err e;

	if (sk_read_file("/proc/self/mountinfo", 1 << 24, &text, NULL, &e) < 0)
		return;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char mnt[4096], dec[4096];
		size_t k = 0;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		for (const char *p = mnt; *p && k < sizeof(dec) - 1; p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] && p[3]) {
				dec[k++] =
					(char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 3;
			} else {
				dec[k++] = *p;
			}
		}
		dec[k] = '\0';
		if (!strncmp(dec, prefix, plen) && (dec[plen] == '/' || dec[plen] == '\0'))
			points = sk_strv_push(points, dec);
	}
	for (size_t n = sk_strv_len(points); n > 0; n--)
		(void)umount2(points[n - 1], MNT_DETACH); /* mountinfo lists parents first */
	sk_strv_free(points);
}

int rt_pod_remove(const char *state_dir, const char *id, int64_t grace_s, sk_err *err)
{
	_cleanup_free_ char *dir = pod_dir(state_dir, id);
	_cleanup_close_ int lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct rt_pod_config *cfg = NULL;
	int ret = 0;

	/* one remover at a time; a second one finds the pod gone */
	if (lock >= 0)
		while (flock(lock, LOCK_EX) < 0 && errno == EINTR)
			;
	if (lock < 0 || !sk_path_exists(dir))
		return sk_err_set(err, ENOENT, "pod %s not found in %s", id, state_dir);
	if (rt_pod_config_load(state_dir, id, &cfg, err) < 0) {
		/* a pod whose creation died before pod.conf: only the directory */
		return sk_rm_rf(dir, err);
	}
	(void)rt_pod_config_check(cfg, err);
	shutdown_supervisor(state_dir, id, dir, grace_s);
	_cleanup_free_ char *pod_cg = rt_pod_cgroup(cfg);
	_cleanup_free_ char *data = sk_asprintf("%s/%s", cfg->data_dir, id);
	_cleanup_free_ char *logs =
		sk_asprintf("%s/%s_%s_%s", cfg->log_dir, cfg->namespace, cfg->name, cfg->uid);
	sk_err later;
	/* every step runs even after a failure; the first error is reported */
	if (rt_cg_kill(pod_cg, err) < 0 || rt_cg_remove(pod_cg, err) < 0)
		ret = -1;
	unmount_below(dir);
	unmount_below(data);
	if (sk_rm_rf(data, ret < 0 ? &later : err) < 0 ||
	    sk_rm_rf(logs, ret < 0 ? &later : err) < 0)
		ret = -1;
	if (ret == 0 && sk_rm_rf(dir, err) < 0)
		ret = -1;
	rt_pod_config_free(cfg);
	if (ret < 0)
		return sk_err_wrap(err, "remove pod %s", id);
	return 0;
}

/* ---- listing ----------------------------------------------------------------------- */

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rt_pod_list(const char *state_dir, char ***ids, sk_err *err)
{
	char **v = sk_calloc(1, sizeof(char *));
	DIR *d = opendir(state_dir);
	struct dirent *de;

	*ids = v;
	if (!d)
		return errno == ENOENT ? 0 : sk_err_sys(err, errno, "open %s", state_dir);
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *conf = sk_asprintf("%s/%s/pod.conf", state_dir, de->d_name);
		if (stat(conf, &st) == 0)
			v = sk_strv_push(v, de->d_name);
	}
	closedir(d);
	qsort(v, sk_strv_len(v), sizeof(char *), compare_str);
	*ids = v;
	return 0;
}
