/* The pod supervisor: one small process per pod (`skiff __supervisor`),
 * started by rt_pod_create and independent of its starter. It
 *
 *   - holds the pod's network, IPC and UTS namespaces (it lives in them;
 *     the containers, its children, inherit them) and its /dev/shm;
 *   - starts the init containers one after another, then the containers;
 *   - reaps them (it is their parent and a subreaper), records exit code and
 *     reason (Completed, Error, OOMKilled, StartError), and restarts them by
 *     the restart policy with the kubelet's back-off (10 s doubling to
 *     300 s, forgotten after 10 minutes of running);
 *   - writes their stdout and stderr as CRI logs;
 *   - writes its status to <pod dir>/status on every change (atomically)
 *     and answers on <pod dir>/sock: "status", "wait-started",
 *     "stop GRACE" (answered once every container has ended) and
 *     "shutdown".
 *
 * It is one sk_loop: a signalfd for SIGCHLD and SIGTERM, the socket, the
 * containers' output pipes, and timers for back-off and grace periods. */
#include "runtime_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BACKOFF_INITIAL_MS 10000
#define BACKOFF_MAX_MS 300000
#define REQUEST_MAX 256

struct sup;

struct sup_ctr {
	struct sup *sup;
	struct rt_container_config *cfg;
	struct rt_container_status *st;
	bool init;
	char *cg;
	char *log_dir;
	pid_t pid;
	int pidfd;
	int out[2]; /* read ends of stdout and stderr; -1 when closed */
	struct rt_crilog log;
	int64_t oom_before;
	uint64_t restart_timer;
	bool has_backoff;
	int64_t backoff_ms;
	int64_t backoff_updated_ns; /* monotonic: when the back-off last grew */
	int64_t finished_mono;	    /* monotonic: when the last run ended */
	bool started_once;
};

enum wait_kind { WAIT_STARTED, WAIT_STOPPED };

struct waiter {
	int fd;
	enum wait_kind kind;
	struct waiter *next;
};

struct sup {
	struct rt_pod_config *cfg;
	char *dir;
	char *pod_cg;
	enum rt_cgroup_mode mode;
	sk_loop *loop;
	int listen_fd;
	int devnull;
	struct rt_pod_status status;
	struct sup_ctr *ctrs; /* init containers, then containers */
	size_t n;
	size_t n_init;
	size_t next_init; /* the init container to run next (n_init: all done) */
	bool mains_started;
	bool stopping;
	bool shutting_down;
	uint64_t kill_timer;
	struct waiter *waiters;
	char *hosts_path, *hostname_path, *resolv_path, *shm_dir;
	int oom_score_adj;
};

static int start_container(struct sup *s, struct sup_ctr *c);
static void start_next(struct sup *s);

/* ---- status --------------------------------------------------------------------- */

static size_t running_count(const struct sup *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->ctrs[i].pid > 0;
	return n;
}

static bool pod_ended(const struct sup *s)
{
	return s->status.phase == RT_PHASE_SUCCEEDED || s->status.phase == RT_PHASE_FAILED;
}

static bool all_started(const struct sup *s)
{
	for (size_t i = s->n_init; i < s->n; i++)
		if (!s->ctrs[i].started_once)
			return false;
	return true;
}

/* Some container already ended badly: a caller waiting for the start
 * should hear about it rather than wait through the back-off. */
static bool any_failed(const struct sup *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct rt_container_status *st = s->ctrs[i].st;
		if (st->has_last_state || (st->state == RT_TERMINATED && st->exit_code != 0))
			return true;
	}
	return false;
}

static void reply(int fd, const char *text)
{
	(void)send(fd, text, strlen(text), MSG_NOSIGNAL);
	close(fd);
}

static void notify_waiters(struct sup *s)
{
	struct waiter **pp = &s->waiters;
	bool started = all_started(s) || pod_ended(s) || s->stopping || any_failed(s);
	bool stopped = s->stopping && running_count(s) == 0;

	while (*pp) {
		struct waiter *w = *pp;
		if ((w->kind == WAIT_STARTED && started) || (w->kind == WAIT_STOPPED && stopped)) {
			_cleanup_free_ char *text = rt_pod_status_serialize(&s->status);
			sk_debug("answer a %s waiter", w->kind == WAIT_STARTED ? "start" : "stop");
			reply(w->fd, text);
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

static void status_changed(struct sup *s)
{
	_cleanup_free_ char *path = sk_path_join(s->dir, "status");
	_cleanup_free_ char *text = NULL;
	sk_err err;

	s->status.stopping = s->stopping;
	s->status.phase = rt_pod_phase_compute(&s->status, s->cfg->restart_policy);
	text = rt_pod_status_serialize(&s->status);
	if (rt_write_state(path, text, 0644, &err) < 0)
		sk_error("%s", err.msg);
	notify_waiters(s);
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = value ? sk_strdup(value) : NULL;
}

static void set_waiting(struct rt_container_status *st, const char *reason, const char *message)
{
	st->state = RT_WAITING;
	set_str(&st->reason, reason);
	set_str(&st->message, message);
	st->pid = 0;
}

/* The current termination becomes lastState, as on a restart. */
static void archive_termination(struct rt_container_status *st)
{
	rt_terminated_clear(&st->last_state);
	st->last_state = (struct rt_terminated){st->exit_code, st->signal,     st->reason,
						st->message,   st->started_at, st->finished_at};
	st->reason = NULL;
	st->message = NULL;
	st->has_last_state = true;
}

/* ---- output -------------------------------------------------------------------- */

static void close_stream(struct sup *s, struct sup_ctr *c, int stream)
{
	if (c->out[stream] < 0)
		return;
	rt_crilog_flush(&c->log, stream);
	sk_loop_del_fd(s->loop, c->out[stream]);
	close(c->out[stream]);
	c->out[stream] = -1;
}

/* Copy at most `rounds` reads of what is readable now; close the stream at
 * EOF. Bounded, so a container that writes without pause cannot keep the
 * loop (timers, reaping, the socket) from running: the fd stays readable
 * and the loop comes back to it. */
static void drain(struct sup *s, struct sup_ctr *c, int stream, int rounds)
{
	static char buf[16384];

	while (c->out[stream] >= 0 && rounds-- > 0) {
		ssize_t n = read(c->out[stream], buf, sizeof(buf));
		if (n > 0) {
			rt_crilog_feed(&c->log, stream, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN)
			close_stream(s, c, stream);
		return;
	}
}

static int on_output(sk_loop *loop SK_UNUSED, int fd, uint32_t events SK_UNUSED, void *data)
{
	struct sup *s = data;

	for (size_t i = 0; i < s->n; i++)
		for (int k = 0; k < 2; k++)
			if (s->ctrs[i].out[k] == fd) {
				drain(s, &s->ctrs[i], k, 4);
				return 0;
			}
	return 0;
}

/* ---- starting --------------------------------------------------------------------- */

static void fill_spawn(struct sup *s, struct sup_ctr *c, struct rt_spawn *sp, int out_w[2])
{
	sp->ns_flags = s->cfg->host_pid ? 0 : CLONE_NEWPID;
	sp->etc[0] = (struct rt_etc_file){"/etc/hosts", s->hosts_path, NULL};
	sp->etc[1] = (struct rt_etc_file){"/etc/hostname", s->hostname_path, NULL};
	sp->etc[2] = (struct rt_etc_file){"/etc/resolv.conf", s->resolv_path, NULL};
	sp->shm_dir = s->shm_dir;
	sp->cg_rel = c->cg;
	sp->stdio[0] = s->devnull;
	sp->stdio[1] = out_w[0];
	sp->stdio[2] = out_w[1];
	sp->pdeathsig = true;
	sp->oom_score_adj = s->oom_score_adj;
	sp->set_oom_score_adj = true;
}

static int open_pipes(int rd[2], int wr[2], sk_err *err)
{
	int p[2][2];

	if (pipe2(p[0], O_CLOEXEC) < 0)
		return sk_err_sys(err, errno, "pipe");
	if (pipe2(p[1], O_CLOEXEC) < 0) {
		int e = errno;
		close(p[0][0]);
		close(p[0][1]);
		return sk_err_sys(err, e, "pipe");
	}
	for (int i = 0; i < 2; i++) {
		rd[i] = p[i][0];
		wr[i] = p[i][1];
		fcntl(rd[i], F_SETFL, O_NONBLOCK);
	}
	return 0;
}

static void container_ended(struct sup *s, struct sup_ctr *c);

/* A start that failed before exec: terminated with StartError (exit code
 * 128, the real message), as containerd reports it. */
static void start_failed(struct sup *s, struct sup_ctr *c, const char *msg)
{
	struct rt_container_status *st = c->st;
	int64_t now = sk_now_ns();

	sk_warn("container %s: %s", c->cfg->name, msg);
	st->state = RT_TERMINATED;
	st->exit_code = 128;
	st->signal = 0;
	st->started_at = now;
	st->finished_at = now;
	c->finished_mono = sk_monotonic_ns();
	set_str(&st->reason, "StartError");
	set_str(&st->message, msg);
	c->started_once = true;
	container_ended(s, c);
}

static int spawn_container(struct sup *s, struct sup_ctr *c, sk_err *err)
{
	struct rt_spawn sp;
	_cleanup_close_ int cgfd = -1;
	int wr[2] = {-1, -1};
	int ret;

	if (rt_crilog_open(&c->log, c->log_dir, c->st->restart_count, err) < 0)
		return -1;
	if (open_pipes(c->out, wr, err) < 0)
		return -1;
	if (s->mode == RT_CGROUP_V2 && (cgfd = rt_cg_open_v2(c->cg, err)) < 0)
		return -1;
	if (rt_spawn_prepare(&sp, s->cfg, c->cfg, err) < 0)
		return -1;
	fill_spawn(s, c, &sp, wr);
	sp.cg_fd = cgfd;
	c->oom_before = rt_cg_oom_kills(c->cg);
	ret = rt_container_spawn(&sp, &c->pid, &c->pidfd, err);
	rt_spawn_release(&sp);
	close(wr[0]);
	close(wr[1]);
	return ret;
}

static int start_container(struct sup *s, struct sup_ctr *c)
{
	struct rt_container_status *st = c->st;
	sk_err err;

	sk_err_clear(&err);
	c->restart_timer = 0;
	if (spawn_container(s, c, &err) < 0) {
		for (int k = 0; k < 2; k++)
			if (c->out[k] >= 0) {
				close(c->out[k]);
				c->out[k] = -1;
			}
		rt_crilog_close(&c->log);
		c->pid = 0;
		start_failed(s, c, err.msg);
		return -1;
	}
	for (int k = 0; k < 2; k++)
		if (sk_loop_add_fd(s->loop, c->out[k], EPOLLIN, on_output, s, &err) < 0)
			sk_error("%s", err.msg);
	st->state = RT_RUNNING;
	st->started_at = sk_now_ns();
	st->finished_at = 0;
	st->exit_code = 0;
	st->signal = 0;
	set_str(&st->reason, NULL);
	set_str(&st->message, NULL);
	st->pid = c->pid;
	c->started_once = true;
	status_changed(s);
	return 0;
}

/* ---- restarts ------------------------------------------------------------------ */

static bool should_restart(const struct sup *s, const struct sup_ctr *c)
{
	if (s->stopping)
		return false;
	switch (s->cfg->restart_policy) {
	case RT_RESTART_ALWAYS:
		/* init containers run to completion: only failures repeat */
		return !c->init || c->st->exit_code != 0;
	case RT_RESTART_ON_FAILURE:
		return c->st->exit_code != 0;
	default:
		return false;
	}
}

/* The kubelet's flowcontrol.Backoff keyed by container: the first restart
 * is immediate; later ones wait the back-off after the container ended,
 * doubling from 10 s to 300 s (Next() on each restart); an entry last
 * updated more than 2 x 300 s before the end (the container ran 10
 * minutes) starts over. */
static bool backoff_expired(const struct sup_ctr *c)
{
	return c->finished_mono - c->backoff_updated_ns > 2LL * BACKOFF_MAX_MS * 1000000LL;
}

static int64_t backoff_delay_ms(const struct sup_ctr *c)
{
	int64_t wait;

	if (!c->has_backoff || backoff_expired(c))
		return 0;
	wait = c->backoff_ms - (sk_monotonic_ns() - c->finished_mono) / 1000000;
	return wait > 0 ? wait : 0;
}

static void backoff_next(struct sup_ctr *c)
{
	if (!c->has_backoff || backoff_expired(c))
		c->backoff_ms = BACKOFF_INITIAL_MS;
	else if (c->backoff_ms * 2 > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	else
		c->backoff_ms *= 2;
	c->has_backoff = true;
	c->backoff_updated_ns = sk_monotonic_ns();
}

static void restart_now(struct sup *s, struct sup_ctr *c)
{
	if (c->st->state == RT_TERMINATED)
		archive_termination(c->st);
	c->st->restart_count++;
	start_container(s, c);
}

static int on_restart_timer(sk_loop *loop SK_UNUSED, void *data)
{
	struct sup_ctr *c = data;
	struct sup *s = c->sup;

	c->restart_timer = 0;
	if (s->stopping)
		return 0;
	backoff_next(c);
	restart_now(s, c);
	return 0;
}

static void schedule_restart(struct sup *s, struct sup_ctr *c)
{
	int64_t delay = backoff_delay_ms(c);
	char msg[160];

	if (delay == 0) {
		backoff_next(c);
		restart_now(s, c);
		return;
	}
	/* waiting in CrashLoopBackOff, the last run as lastState */
	archive_termination(c->st);
	snprintf(msg, sizeof(msg), "back-off %llds restarting failed container=%s pod=%s_%s(%s)",
		 (long long)(c->backoff_ms / 1000), c->cfg->name, s->cfg->name, s->cfg->namespace,
		 s->cfg->uid);
	set_waiting(c->st, "CrashLoopBackOff", msg);
	c->restart_timer = sk_loop_add_timer(s->loop, delay, on_restart_timer, c);
	status_changed(s);
}

/* After a container ended (exit, kill, or a failed start). */
static void container_ended(struct sup *s, struct sup_ctr *c)
{
	if (should_restart(s, c)) {
		schedule_restart(s, c);
		return;
	}
	status_changed(s);
	if (c->init && c->st->exit_code == 0 && !s->stopping) {
		s->next_init++;
		start_next(s);
	}
	if (s->stopping && running_count(s) == 0 && s->kill_timer) {
		sk_loop_cancel_timer(s->loop, s->kill_timer);
		s->kill_timer = 0;
	}
	notify_waiters(s);
}

static void reaped(struct sup *s, struct sup_ctr *c, int wstatus)
{
	struct rt_container_status *st = c->st;
	bool oom = rt_cg_oom_kills(c->cg) > c->oom_before;

	sk_debug("container %s (pid %d) ended: status 0x%x", c->cfg->name, (int)c->pid, wstatus);
	/* what the container wrote before it ended (a bounded amount: with
	 * hostPID, a straggler could keep writing) */
	drain(s, c, 0, 256);
	drain(s, c, 1, 256);
	close_stream(s, c, 0);
	close_stream(s, c, 1);
	rt_crilog_close(&c->log);
	close(c->pidfd);
	c->pidfd = -1;
	c->pid = 0;
	st->pid = 0;
	st->state = RT_TERMINATED;
	st->finished_at = sk_now_ns();
	c->finished_mono = sk_monotonic_ns();
	if (WIFEXITED(wstatus)) {
		st->exit_code = WEXITSTATUS(wstatus);
		st->signal = 0;
	} else {
		st->signal = WTERMSIG(wstatus);
		st->exit_code = 128 + st->signal;
	}
	set_str(&st->reason, oom ? "OOMKilled" : st->exit_code == 0 ? "Completed" : "Error");
	set_str(&st->message, NULL);
	container_ended(s, c);
}

/* Start what comes next: the next init container, or all containers. */
static void start_next(struct sup *s)
{
	if (s->stopping)
		return;
	if (s->next_init < s->n_init) {
		struct sup_ctr *c = &s->ctrs[s->next_init];
		if (!c->started_once)
			start_container(s, c);
		return;
	}
	if (s->mains_started)
		return;
	s->mains_started = true;
	for (size_t i = s->n_init; i < s->n; i++)
		set_waiting(s->ctrs[i].st, "ContainerCreating", NULL);
	for (size_t i = s->n_init; i < s->n && !s->stopping; i++)
		start_container(s, &s->ctrs[i]);
}

/* ---- stopping ---------------------------------------------------------------------- */

static void signal_running(struct sup *s, int sig)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->ctrs[i].pid <= 0)
			continue;
		if (rt_pidfd_send_signal(s->ctrs[i].pidfd, sig, NULL, 0) < 0)
			sk_warn("signal %d to container %s (pid %d): %m", sig, s->ctrs[i].cfg->name,
				(int)s->ctrs[i].pid);
		else
			sk_debug("signal %d to container %s (pid %d)", sig, s->ctrs[i].cfg->name,
				 (int)s->ctrs[i].pid);
	}
}

static int on_kill_timer(sk_loop *loop SK_UNUSED, void *data)
{
	struct sup *s = data;

	s->kill_timer = 0;
	sk_debug("grace period over");
	signal_running(s, SIGKILL);
	return 0;
}

/* SIGTERM now, SIGKILL after the grace period; no restarts from here on. */
static void stop_pod(struct sup *s, int64_t grace_s)
{
	bool first = !s->stopping;

	sk_debug("stop: grace %llds, %zu running", (long long)grace_s, running_count(s));
	s->stopping = true;
	for (size_t i = 0; i < s->n; i++) {
		if (s->ctrs[i].restart_timer) {
			sk_loop_cancel_timer(s->loop, s->ctrs[i].restart_timer);
			s->ctrs[i].restart_timer = 0;
		}
	}
	if (running_count(s) && grace_s <= 0) {
		signal_running(s, SIGKILL);
	} else if (running_count(s) && first) {
		signal_running(s, SIGTERM);
		s->kill_timer = sk_loop_add_timer(s->loop, grace_s * 1000, on_kill_timer, s);
	} else if (running_count(s) && s->kill_timer) {
		/* a shorter grace period shortens the wait, as in Kubernetes */
		sk_loop_cancel_timer(s->loop, s->kill_timer);
		s->kill_timer = sk_loop_add_timer(s->loop, grace_s * 1000, on_kill_timer, s);
	}
	status_changed(s);
}

/* ---- signals and the socket ------------------------------------------------------- */

static int on_sigchld(sk_loop *loop SK_UNUSED, int signo SK_UNUSED, void *data)
{
	struct sup *s = data;
	int wstatus;
	pid_t pid;

	while ((pid = waitpid(-1, &wstatus, WNOHANG | __WALL)) > 0) {
		for (size_t i = 0; i < s->n; i++) {
			if (s->ctrs[i].pid == pid) {
				reaped(s, &s->ctrs[i], wstatus);
				break;
			}
		}
	}
	if (s->shutting_down && running_count(s) == 0)
		sk_loop_stop(s->loop);
	return 0;
}

static int on_sigterm(sk_loop *loop SK_UNUSED, int signo SK_UNUSED, void *data)
{
	struct sup *s = data;

	stop_pod(s, s->cfg->termination_grace_seconds);
	s->shutting_down = true;
	if (running_count(s) == 0)
		sk_loop_stop(s->loop);
	return 0;
}

static void park(struct sup *s, int fd, enum wait_kind kind)
{
	struct waiter *w = sk_calloc(1, sizeof(*w));

	w->fd = fd;
	w->kind = kind;
	w->next = s->waiters;
	s->waiters = w;
	notify_waiters(s);
}

static void handle_request(struct sup *s, int fd, char *req)
{
	int64_t grace;
	sk_err err;

	req[strcspn(req, "\n")] = '\0';
	sk_debug("request \"%s\"", req);
	if (!strcmp(req, "status")) {
		_cleanup_free_ char *text = rt_pod_status_serialize(&s->status);
		reply(fd, text);
	} else if (!strcmp(req, "wait-started")) {
		park(s, fd, WAIT_STARTED);
	} else if (sk_startswith(req, "stop ")) {
		if (sk_parse_int64(req + 5, -1, INT32_MAX, &grace, &err) < 0) {
			reply(fd, "error bad grace period\n");
			return;
		}
		stop_pod(s, grace < 0 ? s->cfg->termination_grace_seconds : grace);
		park(s, fd, WAIT_STOPPED);
	} else if (!strcmp(req, "shutdown")) {
		stop_pod(s, 0);
		s->shutting_down = true;
		reply(fd, "ok\n");
		if (running_count(s) == 0)
			sk_loop_stop(s->loop);
	} else {
		reply(fd, "error unknown request\n");
	}
}

static int on_accept(sk_loop *loop SK_UNUSED, int lfd, uint32_t events SK_UNUSED, void *data)
{
	struct sup *s = data;
	struct timeval tv = {1, 0};
	char req[REQUEST_MAX];
	ssize_t n;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		n = recv(fd, req, sizeof(req) - 1, 0);
		if (n <= 0) {
			sk_warn("a client sent no request: %s", n < 0 ? strerror(errno) : "EOF");
			close(fd);
			continue;
		}
		req[n] = '\0';
		handle_request(s, fd, req);
	}
	return 0;
}

/* ---- the sandbox ------------------------------------------------------------------ */

static int join_netns(const char *path, sk_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return sk_err_sys(err, errno, "open network namespace %s", path);
	if (setns(fd, CLONE_NEWNET) < 0)
		return sk_err_sys(err, errno, "join network namespace %s", path);
	return 0;
}

static int enter_namespaces(struct sup *s, sk_err *err)
{
	const struct rt_pod_config *cfg = s->cfg;
	int flags = 0;

	if (!cfg->host_ipc)
		flags |= CLONE_NEWIPC;
	if (!cfg->host_network)
		flags |= CLONE_NEWUTS;
	if (!cfg->host_network && !cfg->netns_path)
		flags |= CLONE_NEWNET;
	if (cfg->netns_path && join_netns(cfg->netns_path, err) < 0)
		return -1;
	if (flags && unshare(flags) < 0)
		return sk_err_sys(err, errno, "unshare the pod's namespaces");
	return rt_sandbox_namespaces_setup(flags & CLONE_NEWUTS ? cfg->hostname : NULL,
					   !cfg->host_network, err);
}

static int write_pod_file(struct sup *s, const char *name, const char *text, char **path,
			  sk_err *err)
{
	*path = sk_path_join(s->dir, name);
	return rt_write_state(*path, text, 0644, err);
}

static int pod_files(struct sup *s, sk_err *err)
{
	_cleanup_free_ char *hosts = rt_hosts_content(s->cfg);
	_cleanup_free_ char *hostname = sk_asprintf("%s\n", s->cfg->hostname);
	_cleanup_free_ char *resolv = rt_resolv_content(s->cfg);

	if (write_pod_file(s, "hosts", hosts, &s->hosts_path, err) < 0 ||
	    write_pod_file(s, "hostname", hostname, &s->hostname_path, err) < 0 ||
	    write_pod_file(s, "resolv.conf", resolv, &s->resolv_path, err) < 0)
		return -1;
	if (s->cfg->host_ipc) {
		s->shm_dir = sk_strdup("/dev/shm");
		return 0;
	}
	/* one /dev/shm for the pod's containers, as they share IPC */
	s->shm_dir = sk_path_join(s->dir, "shm");
	if (mkdir(s->shm_dir, 0755) < 0 && errno != EEXIST)
		return sk_err_sys(err, errno, "mkdir %s", s->shm_dir);
	if (mount("shm", s->shm_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=1777,size=65536k") < 0)
		return sk_err_sys(err, errno, "mount the pod's /dev/shm");
	return 0;
}

/* The socket is bound by a relative name from inside the pod directory, so
 * a long state path never hits sun_path's 108 bytes. */
static int listen_socket(struct sup *s, sk_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "sock"};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return sk_err_sys(err, errno, "socket");
	(void)unlink("sock");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod("sock", 0600) < 0 ||
	    listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		return sk_err_sys(err, e, "listen on %s/sock", s->dir);
	}
	s->listen_fd = fd;
	return sk_loop_add_fd(s->loop, fd, EPOLLIN, on_accept, s, err);
}

/* The kubelet's OOM score by QoS class: Guaranteed -997, BestEffort 1000,
 * Burstable by memory request against the node's memory. */
static int qos_oom_score(const struct rt_pod_config *cfg)
{
	bool any = false, guaranteed = true;
	int64_t mem_request = 0;
	int64_t capacity = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < cfg->n_containers; i++) {
		const struct rt_resources *r = &cfg->containers[i].resources;
		any = any || r->cpu_limit_milli || r->cpu_request_milli || r->memory_limit ||
		      r->memory_request;
		guaranteed = guaranteed && r->cpu_limit_milli &&
			     r->cpu_limit_milli == r->cpu_request_milli && r->memory_limit &&
			     r->memory_limit == r->memory_request;
		mem_request += r->memory_request;
	}
	if (!any)
		return 1000;
	if (guaranteed)
		return -997;
	int64_t score = capacity > 0 ? 1000 - (1000 * mem_request) / capacity : 500;
	return score < 2 ? 2 : score > 999 ? 999 : (int)score;
}

static int make_cgroups(struct sup *s, sk_err *err)
{
	struct rt_resources pod;

	rt_cg_pod_resources(s->cfg, &pod);
	if (rt_cg_apply(s->pod_cg, &pod, false, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		struct sup_ctr *c = &s->ctrs[i];
		if (rt_cg_create(c->cg, err) < 0 ||
		    rt_cg_apply(c->cg, &c->cfg->resources, true, err) < 0)
			return -1;
		if (!c->cfg->privileged && rt_cg_devices(c->cg, err) < 0)
			return -1;
	}
	return 0;
}

static void init_status(struct sup *s)
{
	struct rt_pod_status *st = &s->status;
	const struct rt_pod_config *cfg = s->cfg;

	st->id = rt_pod_id(cfg->namespace, cfg->name);
	st->name = sk_strdup(cfg->name);
	st->namespace = sk_strdup(cfg->namespace);
	st->uid = sk_strdup(cfg->uid);
	st->pod_ip = cfg->pod_ip ? sk_strdup(cfg->pod_ip) : NULL;
	st->supervisor_pid = getpid();
	st->supervisor_alive = true;
	st->created_at = sk_now_ns();
	st->n_init_containers = cfg->n_init_containers;
	st->n_containers = cfg->n_containers;
	st->init_containers = sk_calloc(cfg->n_init_containers + 1, sizeof(*st->init_containers));
	st->containers = sk_calloc(cfg->n_containers + 1, sizeof(*st->containers));
}

static void init_containers(struct sup *s)
{
	const struct rt_pod_config *cfg = s->cfg;

	s->n_init = cfg->n_init_containers;
	s->n = cfg->n_init_containers + cfg->n_containers;
	s->ctrs = sk_calloc(s->n + 1, sizeof(*s->ctrs));
	init_status(s);
	for (size_t i = 0; i < s->n; i++) {
		struct sup_ctr *c = &s->ctrs[i];
		c->sup = s;
		c->init = i < s->n_init;
		c->cfg = rt_pod_container_at(cfg, i);
		c->st = c->init ? &s->status.init_containers[i]
				: &s->status.containers[i - s->n_init];
		c->st->name = sk_strdup(c->cfg->name);
		c->st->image = sk_strdup(c->cfg->image ? c->cfg->image : c->cfg->rootfs);
		c->st->init = c->init;
		set_waiting(c->st,
			    c->init ? NULL : (s->n_init ? "PodInitializing" : "ContainerCreating"),
			    NULL);
		c->cg = rt_container_cgroup(cfg, c->cfg->name);
		c->log_dir = rt_container_log_dir(cfg, c->cfg->name);
		c->out[0] = c->out[1] = -1;
		c->pidfd = -1;
	}
	if (s->n_init)
		set_waiting(s->ctrs[0].st, "PodInitializing", NULL);
}

static int sandbox_setup(struct sup *s, sk_err *err)
{
	if (rt_cgroup_mode(&s->mode, err) < 0)
		return -1;
	if (s->mode == RT_CGROUP_V1) {
		_cleanup_free_ char *own = sk_asprintf("%s/_supervisor", s->pod_cg);
		if (rt_cg_enter(own, 0, err) < 0)
			return -1;
	}
	if (make_cgroups(s, err) < 0)
		return -1;
	(void)sk_write_string("/proc/self/oom_score_adj", "-998", err);
	s->oom_score_adj = qos_oom_score(s->cfg);
	if (enter_namespaces(s, err) < 0 || pod_files(s, err) < 0)
		return -1;
	s->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (s->devnull < 0)
		return sk_err_sys(err, errno, "open /dev/null");
	if (sk_loop_new(&s->loop, err) < 0 ||
	    sk_loop_add_signal(s->loop, SIGCHLD, on_sigchld, s, err) < 0 ||
	    sk_loop_add_signal(s->loop, SIGTERM, on_sigterm, s, err) < 0 ||
	    sk_loop_add_signal(s->loop, SIGINT, on_sigterm, s, err) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	return listen_socket(s, err);
}

static void report_ready(int fd, const sk_err *err)
{
	if (fd < 0)
		return;
	if (err && err->msg[0]) {
		_cleanup_free_ char *msg = sk_asprintf("error %s\n", err->msg);
		(void)sk_write_all(fd, msg, strlen(msg));
	} else {
		(void)sk_write_all(fd, "ok\n", 3);
	}
	close(fd);
}

/* Kill whatever still runs and undo the host-side mount; the caller of
 * "shutdown" (rt_pod_remove) removes cgroups and files. */
static void final_cleanup(struct sup *s)
{
	signal_running(s, SIGKILL);
	while (running_count(s)) {
		int wstatus;
		pid_t pid = waitpid(-1, &wstatus, __WALL);
		if (pid < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < s->n; i++)
			if (pid > 0 && s->ctrs[i].pid == pid)
				reaped(s, &s->ctrs[i], wstatus);
	}
	if (s->shm_dir && !s->cfg->host_ipc)
		(void)umount2(s->shm_dir, MNT_DETACH);
	status_changed(s);
	for (struct waiter *w = s->waiters, *next; w; w = next) {
		next = w->next;
		reply(w->fd, "error the supervisor exits\n");
		free(w);
	}
	s->waiters = NULL;
}

static void sup_free(struct sup *s)
{
	for (size_t i = 0; s->ctrs && i < s->n; i++) {
		free(s->ctrs[i].cg);
		free(s->ctrs[i].log_dir);
		rt_crilog_close(&s->ctrs[i].log);
	}
	free(s->ctrs);
	rt_pod_status_free(&s->status);
	rt_pod_config_free(s->cfg);
	sk_loop_free(s->loop);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->devnull >= 0)
		close(s->devnull);
	free(s->dir);
	free(s->pod_cg);
	free(s->hosts_path);
	free(s->hostname_path);
	free(s->resolv_path);
	free(s->shm_dir);
}

int rt_supervisor_main(const char *pod_dir, int ready_fd)
{
	struct sup s;
	_cleanup_free_ char *conf = sk_path_join(pod_dir, "pod.conf");
	_cleanup_free_ char *text = NULL;
	sk_err err;
	int ret;

	memset(&s, 0, sizeof(s));
	sk_err_clear(&err);
	s.listen_fd = s.devnull = -1;
	s.dir = sk_strdup(pod_dir);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	prctl(PR_SET_NAME, "skiff-pod", 0, 0, 0);
	if (chdir(pod_dir) < 0 || sk_read_file(conf, 1 << 20, &text, NULL, &err) < 0 ||
	    rt_pod_config_parse(text, &s.cfg, &err) < 0) {
		if (!err.msg[0])
			sk_err_sys(&err, errno, "chdir %s", pod_dir);
		report_ready(ready_fd, &err);
		sup_free(&s);
		return 1;
	}
	free(text);
	text = NULL;
	s.pod_cg = rt_pod_cgroup(s.cfg);
	init_containers(&s);
	if (sandbox_setup(&s, &err) < 0) {
		report_ready(ready_fd, &err);
		sup_free(&s);
		return 1;
	}
	status_changed(&s);
	report_ready(ready_fd, NULL);
	start_next(&s);
	ret = sk_loop_run(s.loop, &err);
	if (ret < 0)
		sk_error("supervisor loop: %s", err.msg);
	final_cleanup(&s);
	sup_free(&s);
	return ret < 0 ? 1 : 0;
}
