/* Running a command inside a running container: what `kubectl exec`, exec
 * probes and lifecycle hooks need. The process joins the container's
 * namespaces (through a pidfd of the container's init, all at once, so a
 * reused pid cannot mix two containers), its cgroup, and then takes the
 * same user, capabilities, no_new_privs, seccomp filter, environment and
 * working directory as the container's own process, as runc exec does.
 *
 * setns(CLONE_NEWPID) only moves the caller's future children, so the
 * caller (the single-threaded `skiff __exec` helper) forks once; the child
 * execs the command and the caller waits and passes its status on. A
 * failure before exec travels back over a socketpair as the real message. */
#include "runtime_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct exec_target {
	struct rt_pod_config *cfg;
	const struct rt_container_config *c;
	pid_t pid;
	int pidfd;
	char *cgroup;
};

static void target_clear(struct exec_target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	rt_pod_config_free(t->cfg);
	free(t->cgroup);
}

static const struct rt_container_status *find_status(const struct rt_pod_status *st,
						     const char *name)
{
	for (size_t i = 0; i < st->n_containers; i++)
		if (!strcmp(st->containers[i].name, name))
			return &st->containers[i];
	for (size_t i = 0; i < st->n_init_containers; i++)
		if (!strcmp(st->init_containers[i].name, name))
			return &st->init_containers[i];
	return NULL;
}

static const struct rt_container_config *find_config(const struct rt_pod_config *cfg,
						     const char *name)
{
	for (size_t i = 0; i < cfg->n_init_containers + cfg->n_containers; i++) {
		const struct rt_container_config *c = rt_pod_container_at(cfg, i);
		if (!strcmp(c->name, name))
			return c;
	}
	return NULL;
}

/* The pid still belongs to the container when its cgroup says so: the
 * pidfd was opened before the check, so it cannot move to another process
 * afterwards. */
static bool pid_in_cgroup(pid_t pid, const char *cgroup)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *want = sk_asprintf(":/%s\n", cgroup);
	sk_err e;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (sk_read_file(path, 1 << 16, &text, NULL, &e) < 0)
		return false;
	return strstr(text, want) != NULL;
}

static int find_target(const char *state_dir, const char *id, const char *container,
		       struct exec_target *t, sk_err *err)
{
	struct rt_pod_status st;
	const struct rt_container_status *cs;

	memset(t, 0, sizeof(*t));
	t->pidfd = -1;
	if (rt_pod_config_load(state_dir, id, &t->cfg, err) < 0 ||
	    rt_pod_config_check(t->cfg, err) < 0)
		return -1;
	t->c = find_config(t->cfg, container);
	if (!t->c)
		return sk_err_set(err, ENOENT, "container %s is not valid for pod %s", container,
				  t->cfg->name);
	if (rt_pod_status(state_dir, id, &st, err) < 0)
		return -1;
	cs = find_status(&st, container);
	t->pid = cs && cs->state == RT_RUNNING ? cs->pid : 0;
	rt_pod_status_free(&st);
	if (t->pid <= 0)
		return sk_err_set(err, ESRCH, "container %s in pod %s is not running", container,
				  t->cfg->name);
	t->cgroup = rt_container_cgroup(t->cfg, container);
	t->pidfd = rt_pidfd_open(t->pid, 0);
	if (t->pidfd < 0 || !pid_in_cgroup(t->pid, t->cgroup))
		return sk_err_set(err, ESRCH, "container %s in pod %s is not running", container,
				  t->cfg->name);
	return 0;
}

/* ---- the child: becomes the command ------------------------------------------ */

struct exec_child_error {
	int code;
	char msg[SK_ERR_MSG_MAX];
};

static char **exec_env(const struct rt_spawn *s, const struct rt_user *u, char **extra)
{
	char **env = rt_build_env(s, u);

	for (size_t i = 0; extra && extra[i]; i++)
		env = sk_strv_push(env, extra[i]);
	return env;
}

/* Send fd over a unix socket (SCM_RIGHTS). */
static int send_fd(int sock, int fd, sk_err *err)
{
	char byte = 'm';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return sk_err_sys(err, errno, "send the terminal");
	return 0;
}

/* A terminal of the container's own devpts (the host's /dev/pts/N does
 * not exist in there: ttyname and tty would fail): opened after joining
 * its mount namespace, the master handed to the caller, the slave made
 * stdin, stdout and stderr, as runc exec does with --console-socket. */
static int container_terminal(int console, sk_err *err)
{
	char name[64];
	_cleanup_close_ int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	_cleanup_close_ int slave = -1;

	if (m < 0)
		return sk_err_sys(err, errno, "open the container's /dev/ptmx");
	if (unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0)
		return sk_err_sys(err, errno, "set up the container's terminal");
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return sk_err_sys(err, errno, "open %s", name);
	if (send_fd(console, m, err) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return sk_err_sys(err, errno, "dup2 the terminal");
	close(console);
	return 0;
}

static int exec_child_setup(const struct rt_spawn *s, const struct rt_exec_config *ec, sk_err *err)
{
	struct rt_user user;
	_cleanup_strv_ char **env = NULL;

	if (rt_reset_signals(err) < 0)
		return -1;
	if (ec->tty && ec->console_fd > 0 && container_terminal(ec->console_fd, err) < 0)
		return -1;
	if (setsid() < 0)
		return sk_err_sys(err, errno, "setsid");
	if (ec->tty && ioctl(0, TIOCSCTTY, 0) < 0)
		return sk_err_sys(err, errno, "make the terminal the controlling tty");
	if (rt_user_resolve(s->c, &user, err) < 0)
		return -1;
	env = exec_env(s, &user, ec->env);
	if (rt_enter_working_dir(s->c->working_dir ? s->c->working_dir : "/", err) < 0)
		return -1;
	if (rt_apply_security(s, &user, err) < 0)
		return -1;
	/* after the user change, which would clear it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return sk_err_sys(err, errno, "PR_SET_PDEATHSIG");
	if (getppid() == 1)
		return sk_err_set(err, ECHILD, "the exec helper is gone");
	if (rt_close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return sk_err_sys(err, errno, "close_range");
	return rt_exec_command(ec->argv, env, err);
}

static void __attribute__((noreturn))
exec_child(const struct rt_spawn *s, const struct rt_exec_config *ec, int errfd)
{
	static struct exec_child_error ce;
	sk_err err;

	sk_err_clear(&err);
	if (exec_child_setup(s, ec, &err) == 0)
		_exit(125);
	ce.code = err.code;
	snprintf(ce.msg, sizeof(ce.msg), "%s", err.msg);
	(void)!write(errfd, &ce, sizeof(ce));
	_exit(rt_start_error_status(err.code));
}

/* ---- the caller ------------------------------------------------------------------ */

static int join_container(const struct exec_target *t, sk_err *err)
{
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET;

	if (rt_cgroup_mode(NULL, err) < 0 || rt_cg_enter(t->cgroup, getpid(), err) < 0)
		return -1;
	if (setns(t->pidfd, flags) < 0)
		return sk_err_sys(err, errno, "join the namespaces of container %s", t->c->name);
	return 0;
}

static volatile sig_atomic_t exec_child_pid;

static void forward_signal(int sig)
{
	if (exec_child_pid > 0)
		kill(exec_child_pid, sig);
}

static int wait_child(pid_t pid, int errfd, int *status, sk_err *err)
{
	struct exec_child_error ce;
	int wstatus;
	ssize_t n;

	do {
		n = read(errfd, &ce, sizeof(ce));
	} while (n < 0 && errno == EINTR);
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR)
			return sk_err_sys(err, errno, "wait for the command");
	}
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	if (n > 0) {
		ce.msg[sizeof(ce.msg) - 1] = '\0';
		return sk_err_set(err, ce.code, "%s", ce.msg);
	}
	return 0;
}

int rt_exec(const char *state_dir, const char *id, const char *container,
	    const struct rt_exec_config *ec, int *status, sk_err *err)
{
	struct exec_target t;
	struct rt_spawn sp;
	int sv[2];
	pid_t pid;
	int ret;

	*status = 125;
	if (!ec->argv || !ec->argv[0])
		return sk_err_set(err, EINVAL, "exec: no command");
	if (find_target(state_dir, id, container, &t, err) < 0) {
		target_clear(&t);
		return -1;
	}
	ret = rt_spawn_prepare(&sp, t.cfg, t.c, err);
	if (ret == 0)
		ret = join_container(&t, err);
	if (ret == 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		ret = sk_err_sys(err, errno, "socketpair");
	if (ret < 0) {
		target_clear(&t);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		exec_child(&sp, ec, sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		ret = sk_err_sys(err, errno, "fork");
	} else {
		struct sigaction sa = {.sa_handler = forward_signal};
		exec_child_pid = pid;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		ret = wait_child(pid, sv[0], status, err);
	}
	close(sv[0]);
	rt_spawn_release(&sp);
	target_clear(&t);
	return ret;
}
