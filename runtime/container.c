/* Starting one container: clone3() into new mount and PID namespaces (and
 * the pod's namespaces for `skiff run`), then, in the child, a flat list
 * of checked steps up to execve(). A failure before exec travels back over
 * a close-on-exec socketpair as the real message; a successful exec closes
 * the socket, which the parent reads as success.
 *
 * The setup runs non-dumpable: until it execs, the child is the skiff
 * binary, and a non-dumpable process's /proc/PID/exe (and mem, fd, ...)
 * can only be opened by a holder of CAP_SYS_PTRACE in the host's user
 * namespace, which no unprivileged container has. execve() makes the
 * container's own program dumpable again. See docs/runtime.md. */
#include "runtime_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct child_error {
	int code;
	char msg[SK_ERR_MSG_MAX];
};

/* Exit status of a setup that failed, as shells and docker count them. */
int rt_start_error_status(int code)
{
	switch (code) {
	case ENOENT:
		return 127;
	case EACCES:
	case ENOEXEC:
	case EISDIR:
	case EPERM:
		return 126;
	default:
		return 125;
	}
}

/* ---- child ------------------------------------------------------------------- */

int rt_reset_signals(sk_err *err)
{
	sigset_t all;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
		return sk_err_sys(err, errno, "unblock signals");
	return 0;
}

static int loopback_up(sk_err *err)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	if (s < 0)
		return sk_err_sys(err, errno, "socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return sk_err_sys(err, errno, "get flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return sk_err_sys(err, errno, "bring lo up");
	return 0;
}

int rt_sandbox_namespaces_setup(const char *hostname, bool new_net, sk_err *err)
{
	if (hostname && sethostname(hostname, strlen(hostname)) < 0)
		return sk_err_sys(err, errno, "sethostname %s", hostname);
	if (new_net && loopback_up(err) < 0)
		return -1;
	return 0;
}

static int set_oom_score_adj(int value, sk_err *err)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", value);
	if (sk_write_string("/proc/self/oom_score_adj", v, err) < 0)
		return sk_err_wrap(err, "set oom_score_adj");
	return 0;
}

static bool env_has(char **env, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return true;
	return false;
}

static const char *env_get(char **env, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

/* The container's environment: its own, then PATH, HOSTNAME and HOME when
 * missing (as containerd and runc add them). */
char **rt_build_env(const struct rt_spawn *s, const struct rt_user *u)
{
	char **env = NULL;
	char hostname[HOST_NAME_MAX + 1] = "";

	for (size_t i = 0; s->c->env && s->c->env[i]; i++)
		env = sk_strv_push(env, s->c->env[i]);
	if (!env_has(env, "PATH"))
		env = sk_strv_push(env, "PATH=" RT_DEFAULT_PATH);
	if (!env_has(env, "HOSTNAME") && gethostname(hostname, sizeof(hostname) - 1) == 0) {
		_cleanup_free_ char *h = sk_asprintf("HOSTNAME=%s", hostname);
		env = sk_strv_push(env, h);
	}
	if (!env_has(env, "HOME")) {
		_cleanup_free_ char *h = sk_asprintf("HOME=%s", u->home[0] ? u->home : "/");
		env = sk_strv_push(env, h);
	}
	return env;
}

/* chdir, then make sure the result is inside the container: a working
 * directory reached through a leaked fd (runc's CVE-2024-21626) would show
 * as "(unreachable)" or fail in getcwd. */
int rt_enter_working_dir(const char *dir, sk_err *err)
{
	char cwd[PATH_MAX];

	if (chdir(dir) < 0)
		return sk_err_sys(err, errno, "chdir to workingDir %s", dir);
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		return sk_err_set(err, EPERM, "workingDir %s is outside the container", dir);
	return 0;
}

static int set_user(const struct rt_user *u, sk_err *err)
{
	if (setgroups(u->ngroups, u->groups) < 0)
		return sk_err_sys(err, errno, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return sk_err_sys(err, errno, "setgid %u", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return sk_err_sys(err, errno, "setuid %u", (unsigned)u->uid);
	return 0;
}

/* Capabilities, user, no_new_privs and seccomp, in the only order that
 * works: the bounding set needs CAP_SETPCAP, the user change keeps the
 * permitted set through PR_SET_KEEPCAPS, and without no_new_privs the
 * filter must be loaded while CAP_SYS_ADMIN is still held. */
int rt_apply_security(const struct rt_spawn *s, const struct rt_user *u, sk_err *err)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return sk_err_sys(err, errno, "PR_SET_KEEPCAPS");
	if (rt_caps_bound(s->caps, err) < 0)
		return -1;
	if (s->seccomp && !s->c->no_new_privs && rt_seccomp_load(&s->prog, err) < 0)
		return -1;
	if (set_user(u, err) < 0)
		return -1;
	if (rt_caps_set(s->caps, err) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return sk_err_sys(err, errno, "PR_SET_KEEPCAPS");
	if (s->c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sk_err_sys(err, errno, "PR_SET_NO_NEW_PRIVS");
	if (s->seccomp && s->c->no_new_privs && rt_seccomp_load(&s->prog, err) < 0)
		return -1;
	return 0;
}

/* execve argv[0], searched in the container's PATH when it has no '/'. */
int rt_exec_command(char **argv, char **env, sk_err *err)
{
	const char *cmd = argv[0];
	int saved = ENOENT;

	if (strchr(cmd, '/')) {
		execve(cmd, argv, env);
		return sk_err_sys(err, errno, "exec %s", cmd);
	}
	_cleanup_free_ char *path = sk_strdup(env_get(env, "PATH") ? env_get(env, "PATH") : "");
	for (char *save = NULL, *dir = strtok_r(path, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *full = sk_asprintf("%s/%s", dir, cmd);
		execve(full, argv, env);
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
	}
	if (saved != ENOENT)
		return sk_err_sys(err, saved, "exec %s", cmd);
	return sk_err_set(err, ENOENT, "exec \"%s\": executable file not found in $PATH", cmd);
}

static int setup_stdio(const struct rt_spawn *s, sk_err *err)
{
	for (int i = 0; i < 3; i++) {
		if (s->stdio[i] < 0)
			continue;
		if (dup2(s->stdio[i], i) < 0)
			return sk_err_sys(err, errno, "dup2 fd %d", i);
	}
	return 0;
}

/* The parent may still be making the container's cgroups while the child
 * builds its root (s->after_clone): EOF on go_fd says they are ready, a byte
 * says the parent failed (and reports it itself). */
static int wait_for_parent(int go_fd)
{
	char c;
	ssize_t n;

	if (go_fd < 0)
		return 0;
	do {
		n = read(go_fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	close(go_fd);
	if (n != 0)
		_exit(125);
	return 0;
}

static int child_setup(const struct rt_spawn *s, int go_fd, sk_err *err)
{
	struct rt_user user;
	_cleanup_strv_ char **env = NULL;
	int rootfd;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return sk_err_sys(err, errno, "PR_SET_DUMPABLE");
	if (s->pdeathsig && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return sk_err_sys(err, errno, "PR_SET_PDEATHSIG");
	if (rt_reset_signals(err) < 0)
		return -1;
	if (s->set_oom_score_adj && set_oom_score_adj(s->oom_score_adj, err) < 0)
		return -1;
	umask(0);
	if (rt_sandbox_namespaces_setup((s->ns_flags & CLONE_NEWUTS) ? s->hostname : NULL,
					s->ns_flags & CLONE_NEWNET, err) < 0)
		return -1;
	if (setup_stdio(s, err) < 0)
		return -1;
	rootfd = rt_rootfs_setup(s, err);
	if (rootfd < 0)
		return -1;
	if (wait_for_parent(go_fd) < 0)
		return -1;
	if (s->cg_fd < 0 && s->cg_rel && rt_cg_enter(s->cg_rel, 0, err) < 0)
		return -1;
	if (rt_rootfs_pivot(rootfd, err) < 0)
		return -1;
	umask(022);
	if (rt_user_resolve(s->c, &user, err) < 0)
		return -1;
	env = rt_build_env(s, &user);
	if (rt_enter_working_dir(s->c->working_dir ? s->c->working_dir : "/", err) < 0)
		return -1;
	if (rt_apply_security(s, &user, err) < 0)
		return -1;
	/* no fd of the host may reach the container: only 0, 1 and 2 survive exec */
	if (rt_close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return sk_err_sys(err, errno, "close_range");
	return rt_exec_command(s->c->argv, env, err);
}

static void __attribute__((noreturn)) child_main(const struct rt_spawn *s, int errfd, int go_fd)
{
	static struct child_error ce;
	sk_err err;

	sk_err_clear(&err);
	if (child_setup(s, go_fd, &err) == 0)
		_exit(125); /* not reached: exec_command only returns on failure */
	ce.code = err.code;
	snprintf(ce.msg, sizeof(ce.msg), "%s", err.msg);
	(void)!write(errfd, &ce, sizeof(ce));
	_exit(rt_start_error_status(err.code));
}

/* ---- parent ------------------------------------------------------------------ */

/* Read the child's report: 0 when it exec'ed, -1 with its message. */
static int read_child_report(int fd, pid_t pid, int pidfd, sk_err *err)
{
	struct child_error ce;
	ssize_t n;

	do {
		n = read(fd, &ce, sizeof(ce));
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	/* the child exits right after reporting: reap it here */
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	close(pidfd);
	ce.msg[sizeof(ce.msg) - 1] = '\0';
	return sk_err_set(err, ce.code, "%s", ce.msg);
}

static void kill_child(pid_t pid, int pidfd)
{
	(void)rt_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	close(pidfd);
}

int rt_container_spawn(const struct rt_spawn *s, pid_t *pid_out, int *pidfd_out, sk_err *err)
{
	int sv[2];
	int go[2] = {-1, -1};
	int pidfd = -1;
	struct clone_args args;
	pid_t pid;
	int ret;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return sk_err_sys(err, errno, "socketpair");
	if (s->after_clone && pipe2(go, O_CLOEXEC) < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return sk_err_sys(err, e, "pipe");
	}
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_NEWNS | CLONE_PIDFD | s->ns_flags;
	args.pidfd = (uint64_t)(uintptr_t)&pidfd;
	args.exit_signal = SIGCHLD;
	if (s->cg_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)s->cg_fd;
	}
	pid = rt_clone3(&args);
	if (pid == 0) {
		close(sv[0]);
		if (go[1] >= 0)
			close(go[1]);
		child_main(s, sv[1], go[0]);
	}
	ret = pid < 0 ? sk_err_sys(err, errno, "clone3") : 0;
	close(sv[1]);
	if (go[0] >= 0)
		close(go[0]);
	if (ret == 0 && s->after_clone && s->after_clone(s->after_clone_data, err) < 0) {
		(void)!write(go[1], "x", 1);
		kill_child(pid, pidfd);
		ret = -1;
	}
	if (go[1] >= 0)
		close(go[1]);
	if (ret == 0)
		ret = read_child_report(sv[0], pid, pidfd, err);
	close(sv[0]);
	if (ret < 0)
		return -1;
	*pid_out = pid;
	if (pidfd_out)
		*pidfd_out = pidfd;
	else
		close(pidfd);
	return 0;
}
