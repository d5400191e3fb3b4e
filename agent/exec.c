/* Starting the `skiff __exec` helper (runtime/exec.c does the work) as a
 * child of the agent, with pipes or a pseudo-terminal for its stdio. The
 * agent has threads, so between fork and execve the child does only
 * async-signal-safe system calls; everything is prepared before. */
#include "agent_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

int agent_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

void agent_exec_proc_close(struct agent_exec_proc *p)
{
	int *fds[] = {&p->in, &p->out, &p->err, &p->pty, &p->pidfd};

	for (size_t i = 0; i < SK_ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static char **helper_argv(const struct agent_config *cfg, const char *pod_id, const char *container,
			  char **argv, bool tty)
{
	char **v = NULL;

	v = sk_strv_push(v, "skiff");
	v = sk_strv_push(v, "__exec");
	v = sk_strv_push(v, "--state-dir");
	v = sk_strv_push(v, cfg->state_dir);
	if (tty) {
		/* the terminal is made inside the container and its master
		 * comes back on fd 3 */
		v = sk_strv_push(v, "--tty");
		v = sk_strv_push(v, "--console-socket");
		v = sk_strv_push(v, "3");
	}
	v = sk_strv_push(v, pod_id);
	v = sk_strv_push(v, container);
	v = sk_strv_push(v, "--");
	for (size_t i = 0; argv && argv[i]; i++)
		v = sk_strv_push(v, argv[i]);
	return v;
}

/* The pty master the helper sends on the console socket (or -1 with the
 * helper's own error, which it wrote to its stderr, when it sent none). */
static int receive_pty(int sock, int *master, sk_err *err)
{
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct timeval tv = {10, 0};
	ssize_t n;

	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (!c || c->cmsg_type != SCM_RIGHTS) {
		*master = -1;
		if (n < 0)
			return sk_err_sys(err, errno, "no terminal from the exec helper");
		return 0;
	}
	memcpy(master, CMSG_DATA(c), sizeof(int));
	return 0;
}

/* Our end and the child's end of one stdio stream. */
static int stdio_pipe(bool for_input, int *ours, int *theirs, sk_err *err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return sk_err_sys(err, errno, "pipe");
	*ours = for_input ? p[1] : p[0];
	*theirs = for_input ? p[0] : p[1];
	return 0;
}

struct child_fds {
	int fd[3];   /* what becomes 0, 1, 2 */
	int console; /* becomes 3, or -1 */
};

static void __attribute__((noreturn)) child(const char *exe, char **argv, const struct child_fds *c)
{
	static char *const envp[] = {"PATH=" RT_DEFAULT_PATH, NULL};
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int i = 0; i < 3; i++) {
		if (c->fd[i] == i) {
			int fl = fcntl(i, F_GETFD);
			fcntl(i, F_SETFD, fl & ~FD_CLOEXEC);
		} else if (dup2(c->fd[i], i) < 0) {
			_exit(126);
		}
	}
	if (c->console >= 0 && dup2(c->console, 3) < 0)
		_exit(126);
	syscall(SYS_close_range, c->console >= 0 ? 4U : 3U, ~0U, 0U);
	execve(exe, argv, envp);
	_exit(127);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int agent_exec_spawn(const struct agent_config *cfg, const char *pod_id, const char *container,
		     char **argv, bool want_stdin, bool tty, struct agent_exec_proc *out,
		     sk_err *err)
{
	_cleanup_strv_ char **hargv = helper_argv(cfg, pod_id, container, argv, tty);
	const char *exe = cfg->exe ? cfg->exe : "/proc/self/exe";
	struct child_fds c = {{-1, -1, -1}, -1};
	int devnull = -1, sv[2] = {-1, -1};
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->in = out->out = out->err = out->pty = out->pidfd = -1;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		ret = sk_err_sys(err, errno, "open /dev/null");
	if (ret == 0 && tty) {
		/* stdio of the helper: nothing in, its own errors out */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			ret = sk_err_sys(err, errno, "socketpair");
		c.console = sv[1];
		c.fd[0] = c.fd[1] = devnull;
		if (ret == 0)
			ret = stdio_pipe(false, &out->err, &c.fd[2], err);
	} else if (ret == 0) {
		if (ret == 0 && want_stdin)
			ret = stdio_pipe(true, &out->in, &c.fd[0], err);
		else
			c.fd[0] = devnull;
		if (ret == 0)
			ret = stdio_pipe(false, &out->out, &c.fd[1], err);
		if (ret == 0)
			ret = stdio_pipe(false, &out->err, &c.fd[2], err);
	}
	if (ret == 0) {
		out->pid = fork();
		if (out->pid == 0)
			child(exe, hargv, &c);
		if (out->pid < 0)
			ret = sk_err_sys(err, errno, "fork the exec helper");
	}
	if (ret == 0) {
		out->pidfd = (int)syscall(SYS_pidfd_open, out->pid, 0);
		if (out->pidfd < 0)
			ret = sk_err_sys(err, errno, "pidfd_open");
	}
	if (c.fd[0] != devnull)
		close_fd(&c.fd[0]);
	if (c.fd[1] != devnull)
		close_fd(&c.fd[1]);
	close_fd(&c.fd[2]);
	close_fd(&sv[1]);
	close_fd(&devnull);
	if (ret == 0 && tty)
		ret = receive_pty(sv[0], &out->pty, err);
	close_fd(&sv[0]);
	if (ret < 0) {
		if (out->pid > 0) {
			kill(out->pid, SIGKILL);
			waitpid(out->pid, NULL, 0);
		}
		agent_exec_proc_close(out);
		return -1;
	}
	return 0;
}
