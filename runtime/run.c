/* One container in the foreground (`skiff run`): the calling process is
 * its own small supervisor. The container gets every namespace of a pod
 * in one clone3() and writes its /etc files into its private tmpfs, so the
 * hot path has no state directory, no socket and no second process; the
 * only things to undo afterwards are the two cgroups. */
#include "runtime_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Forward SIGINT, SIGTERM, SIGHUP and SIGQUIT to the container. A
 * container's PID 1 ignores signals it has no handler for, so after a
 * forwarded SIGINT or SIGTERM it gets the grace period to end before
 * SIGKILL (as `docker stop`), and a second one kills at once. */
static int wait_forwarding(pid_t pid, int pidfd, int64_t grace_s, int *wstatus, sk_err *err)
{
	int64_t deadline = 0;
	int terminations = 0;
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	for (const int *s = (const int[]){SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, 0}; *s; s++)
		sigaddset(&set, *s);
	for (;;) {
		pid_t r = waitpid(pid, wstatus, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return sk_err_sys(err, errno, "waitpid");
		int64_t left = deadline ? deadline - sk_monotonic_ns() : INT64_MAX;
		if (left <= 0) {
			(void)rt_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			deadline = 0;
			continue;
		}
		struct timespec ts = {left / 1000000000LL, left % 1000000000LL};
		int sig = sigtimedwait(&set, &si, deadline ? &ts : NULL);
		if (sig <= 0 || sig == SIGCHLD)
			continue;
		if (sig == SIGINT || sig == SIGTERM) {
			if (++terminations > 1) {
				(void)rt_pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
				continue;
			}
			deadline = sk_monotonic_ns() + grace_s * 1000000000LL;
		}
		(void)rt_pidfd_send_signal(pidfd, sig, NULL, 0);
	}
}

static int join_netns(const char *path, sk_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return sk_err_sys(err, errno, "open network namespace %s", path);
	if (setns(fd, CLONE_NEWNET) < 0)
		return sk_err_sys(err, errno, "join network namespace %s", path);
	return 0;
}

struct run_cgroups {
	const struct rt_pod_config *cfg;
	const char *pod_cg, *ctr_cg;
};

static int make_cgroups(void *data, sk_err *err)
{
	const struct run_cgroups *g = data;
	const struct rt_container_config *c = &g->cfg->containers[0];
	struct rt_resources pod_res;

	rt_cg_pod_resources(g->cfg, &pod_res);
	if (rt_cg_create(g->ctr_cg, err) < 0 || rt_cg_apply(g->pod_cg, &pod_res, false, err) < 0 ||
	    rt_cg_apply(g->ctr_cg, &c->resources, true, err) < 0)
		return -1;
	if (!c->privileged && rt_cg_devices(g->ctr_cg, err) < 0)
		return -1;
	return 0;
}

/* The spawn of the pod's only container: every namespace at once. */
static void set_namespaces(struct rt_spawn *s, const struct rt_pod_config *cfg)
{
	s->hostname = cfg->hostname;
	s->ns_flags = 0;
	if (!cfg->host_pid)
		s->ns_flags |= CLONE_NEWPID;
	if (!cfg->host_ipc)
		s->ns_flags |= CLONE_NEWIPC;
	if (!cfg->host_network && !cfg->netns_path)
		s->ns_flags |= CLONE_NEWNET;
	/* with hostNetwork, the node's hostname, as the kubelet does */
	if (!cfg->host_network)
		s->ns_flags |= CLONE_NEWUTS;
}

static int run_container(struct rt_pod_config *cfg, const char *pod_cg, const char *ctr_cg,
			 int *status, bool *oom_killed, sk_err *err)
{
	struct rt_container_config *c = &cfg->containers[0];
	struct run_cgroups groups = {cfg, pod_cg, ctr_cg};
	enum rt_cgroup_mode mode;
	struct rt_spawn s;
	_cleanup_free_ char *hosts = rt_hosts_content(cfg);
	_cleanup_free_ char *hostname = sk_asprintf("%s\n", cfg->hostname);
	_cleanup_free_ char *resolv = rt_resolv_content(cfg);
	_cleanup_close_ int pidfd = -1;
	_cleanup_close_ int cgfd = -1;
	int wstatus = 0;
	pid_t pid;
	int ret;

	if (rt_cgroup_mode(&mode, err) < 0)
		return -1;
	if (cfg->netns_path && join_netns(cfg->netns_path, err) < 0)
		return -1;
	/* v2 places the child with clone3(CLONE_INTO_CGROUP): the groups come
	 * first. v1 makes them while the child builds its root. */
	if (mode == RT_CGROUP_V2) {
		if (make_cgroups(&groups, err) < 0)
			return -1;
		cgfd = rt_cg_open_v2(ctr_cg, err);
		if (cgfd < 0)
			return -1;
	}
	if (rt_spawn_prepare(&s, cfg, c, err) < 0)
		return -1;
	set_namespaces(&s, cfg);
	s.etc[0] = (struct rt_etc_file){"/etc/hosts", NULL, hosts};
	s.etc[1] = (struct rt_etc_file){"/etc/hostname", NULL, hostname};
	s.etc[2] = (struct rt_etc_file){"/etc/resolv.conf", NULL, resolv};
	s.cg_rel = ctr_cg;
	s.cg_fd = cgfd;
	s.pdeathsig = true;
	if (mode == RT_CGROUP_V1) {
		s.after_clone = make_cgroups;
		s.after_clone_data = &groups;
	}
	ret = rt_container_spawn(&s, &pid, &pidfd, err);
	rt_spawn_release(&s);
	if (ret < 0) {
		*status = rt_start_error_status(err->code);
		return -1;
	}
	if (wait_forwarding(pid, pidfd, cfg->termination_grace_seconds, &wstatus, err) < 0)
		return -1;
	*oom_killed = rt_cg_oom_kills(ctr_cg) > 0;
	if (WIFEXITED(wstatus))
		*status = WEXITSTATUS(wstatus);
	else
		*status = 128 + WTERMSIG(wstatus);
	return 0;
}

int rt_run(struct rt_pod_config *cfg, int *status, bool *oom_killed, sk_err *err)
{
	_cleanup_free_ char *pod_cg = NULL;
	_cleanup_free_ char *ctr_cg = NULL;
	sigset_t set, old;
	sk_err cleanup_err;
	int ret;

	*status = 125;
	*oom_killed = false;
	if (rt_pod_config_check(cfg, err) < 0)
		return -1;
	if (cfg->n_containers != 1 || cfg->n_init_containers)
		return sk_err_set(err, EINVAL, "rt_run takes exactly one container");
	pod_cg = rt_pod_cgroup(cfg);
	ctr_cg = rt_container_cgroup(cfg, cfg->containers[0].name);
	/* held until the container runs; then forwarded to it */
	sigemptyset(&set);
	for (const int *s = (const int[]){SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, 0}; *s; s++)
		sigaddset(&set, *s);
	sigprocmask(SIG_BLOCK, &set, &old);
	ret = run_container(cfg, pod_cg, ctr_cg, status, oom_killed, err);
	if (cfg->host_pid)
		(void)rt_cg_kill(pod_cg, &cleanup_err);
	if (rt_cg_remove(pod_cg, &cleanup_err) < 0 && ret == 0) {
		*err = cleanup_err;
		ret = -1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
