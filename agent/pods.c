/* The pod workers: for every pod bound to this node, the desired state
 * (the Pod from the API) against the actual one (the runtime's pod, its
 * network), and the status written back.
 *
 * A pod goes NEW -> STARTING (a job: network, volumes, sandbox) -> ACTIVE
 * (the supervisor runs the containers; the agent follows its status file
 * by inotify, probes the containers and writes the status) -> KILLING
 * (preStop hooks, then a job: SIGTERM, grace period, removal of the
 * sandbox and network) -> confirmed to the server and forgotten. A pod
 * that is already in the runtime when the agent starts (same uid) is
 * adopted instead of started: nothing starts twice. Runtime pods that no
 * Pod of the first list owns are removed. */
#include "agent_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000
#define IMAGE_RETRY_MIN_MS 10000
#define IMAGE_RETRY_MAX_MS 300000
#define HOUSEKEEPING_MS 10000
#define START_WAIT_MS 250
#define CREATING_STATUS_MS 300
/* the least time a container gets after its preStop hook (the kubelet's) */
#define MIN_GRACE_AFTER_HOOK_S 2

enum stage { STAGE_NEW, STAGE_STARTING, STAGE_ACTIVE, STAGE_KILLING, STAGE_DONE };

struct probe_worker {
	struct agent_probe_spec *spec;
	struct agent_probe_run *run;
	uint64_t timer;
	int successes, failures;
	int64_t run_started_ms;
};

struct ctr {
	char *name;
	bool init;
	char *field_path; /* spec.containers{name} */
	struct agent_probe_spec liveness, readiness, startup, post_start, pre_stop;
	/* the run the probes follow: its start time (0: not running) */
	int64_t started_at;
	pid_t pid;
	bool ready, started;
	struct probe_worker live, rdy, start;
	struct agent_probe_run *hook;
	/* a liveness/startup kill under way */
	int kill_pidfd;
	uint64_t kill_timer;
	int64_t kill_grace;
	/* what was reported in Events already */
	int64_t seen_started_at, seen_finished_at;
	/* the run found running when the agent adopted the pod */
	int64_t adopted_started_at;
	char *seen_waiting;
};

struct agent_pod_state {
	agent *a;
	char *uid, *ns, *name, *id;
	json_t *obj; /* the Pod as last seen */
	enum stage stage;
	bool job;      /* a job on this pod is under way */
	bool in_api;   /* the server still has it (not DELETED) */
	bool seen;     /* present in the latest list (sync) */
	bool adopted;  /* found running when the agent started */
	bool terminal; /* Succeeded or Failed: never started again */
	int64_t grace; /* for the kill */
	bool host_network;
	struct rt_pod_status rt;
	bool have_rt;
	char *pod_ip;
	bool sandbox_ready;
	int64_t start_time;
	char *waiting_reason, *waiting_message;
	int retry_ms;
	uint64_t retry_timer;
	uint64_t creating_timer; /* the ContainerCreating status, if still starting */
	int wd;			 /* inotify */
	struct ctr *ctrs;
	size_t n_ctrs;
	size_t hooks_running; /* preStop hooks before the kill */
	uint64_t hook_timer;
	int64_t kill_started_ms;
	/* status */
	json_t *status_sent, *status_pending;
	bool status_inflight;
};

typedef struct agent_pod_state pod;

static void pod_update_status(pod *p);
static void pod_start(pod *p);
static void pod_kill(pod *p, int64_t grace);
static void probes_sync(pod *p);
static void pod_forget(pod *p);
static void pod_maybe_forget(pod *p);

/* ---- the table: open addressing by uid ----------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static pod **slot_of(agent *a, const char *uid)
{
	size_t i = hash_str(uid) & (a->pods_cap - 1);

	while (a->pods[i] && strcmp(a->pods[i]->uid, uid))
		i = (i + 1) & (a->pods_cap - 1);
	return &a->pods[i];
}

static pod *lookup(agent *a, const char *uid)
{
	return uid && a->pods_cap ? *slot_of(a, uid) : NULL;
}

static void table_grow(agent *a)
{
	pod **old = a->pods;
	size_t cap = a->pods_cap;

	a->pods_cap = cap ? cap * 2 : 64;
	a->pods = sk_calloc(a->pods_cap, sizeof(pod *));
	for (size_t i = 0; i < cap; i++)
		if (old[i])
			*slot_of(a, old[i]->uid) = old[i];
	free(old);
}

static void table_add(agent *a, pod *p)
{
	if ((a->pods_n + 1) * 2 > a->pods_cap)
		table_grow(a);
	*slot_of(a, p->uid) = p;
	a->pods_n++;
}

/* Remove with backward-shift, so lookups never need tombstones. */
static void table_remove(agent *a, pod *p)
{
	size_t mask = a->pods_cap - 1;
	size_t i = (size_t)(slot_of(a, p->uid) - a->pods);

	a->pods[i] = NULL;
	a->pods_n--;
	for (size_t k = (i + 1) & mask; a->pods[k]; k = (k + 1) & mask) {
		pod *q = a->pods[k];
		a->pods[k] = NULL;
		*slot_of(a, q->uid) = q;
	}
}

/* ---- containers and their probes ---------------------------------------------- */

static void worker_stop(agent *a, struct probe_worker *w)
{
	if (w->run)
		agent_probe_cancel(w->run);
	w->run = NULL;
	if (w->timer)
		sk_loop_cancel_timer(a->loop, w->timer);
	w->timer = 0;
	w->successes = w->failures = 0;
}

static void kill_stop(agent *a, struct ctr *c)
{
	if (c->kill_timer)
		sk_loop_cancel_timer(a->loop, c->kill_timer);
	c->kill_timer = 0;
	if (c->kill_pidfd >= 0)
		close(c->kill_pidfd);
	c->kill_pidfd = -1;
}

static void ctr_probes_stop(agent *a, struct ctr *c)
{
	worker_stop(a, &c->live);
	worker_stop(a, &c->rdy);
	worker_stop(a, &c->start);
}

static void ctr_clear(agent *a, struct ctr *c)
{
	ctr_probes_stop(a, c);
	kill_stop(a, c);
	if (c->hook)
		agent_probe_cancel(c->hook);
	free(c->name);
	free(c->field_path);
	free(c->seen_waiting);
	agent_probe_spec_clear(&c->liveness);
	agent_probe_spec_clear(&c->readiness);
	agent_probe_spec_clear(&c->startup);
	agent_probe_spec_clear(&c->post_start);
	agent_probe_spec_clear(&c->pre_stop);
}

static void parse_one(pod *p, json_t *probe, json_t *cj, const char *path,
		      struct agent_probe_spec *out)
{
	sk_err err;

	if (agent_probe_parse(probe, cj, path, out, &err) < 0) {
		sk_warn("agent: pod %s/%s: %s (ignored)", p->ns, p->name, err.msg);
		agent_event(p->a, p->obj, NULL, "Warning", "FailedProbeConfig", "%s", err.msg);
	}
}

static void ctr_init(pod *p, struct ctr *c, json_t *cj, const char *list, size_t i, bool init)
{
	_cleanup_free_ char *base = sk_asprintf("spec.%s[%zu]", list, i);
	_cleanup_free_ char *lp = sk_asprintf("%s.livenessProbe", base);
	_cleanup_free_ char *rp = sk_asprintf("%s.readinessProbe", base);
	_cleanup_free_ char *sp = sk_asprintf("%s.startupProbe", base);
	_cleanup_free_ char *pp = sk_asprintf("%s.lifecycle.postStart", base);
	_cleanup_free_ char *hp = sk_asprintf("%s.lifecycle.preStop", base);
	const char *name = json_string_value(json_object_get(cj, "name"));

	c->name = sk_strdup(name ? name : "");
	c->init = init;
	c->field_path = sk_asprintf("spec.%s{%s}", list, c->name);
	c->kill_pidfd = -1;
	if (!init) {
		parse_one(p, json_object_get(cj, "livenessProbe"), cj, lp, &c->liveness);
		parse_one(p, json_object_get(cj, "readinessProbe"), cj, rp, &c->readiness);
		parse_one(p, json_object_get(cj, "startupProbe"), cj, sp, &c->startup);
	}
	parse_one(p, api_get(cj, "lifecycle.postStart"), cj, pp, &c->post_start);
	parse_one(p, api_get(cj, "lifecycle.preStop"), cj, hp, &c->pre_stop);
	c->live.spec = &c->liveness;
	c->rdy.spec = &c->readiness;
	c->start.spec = &c->startup;
}

static void ctrs_init(pod *p)
{
	json_t *ic = api_get(p->obj, "spec.initContainers");
	json_t *mc = api_get(p->obj, "spec.containers");
	json_t *cj;
	size_t i, k = 0;

	p->n_ctrs = json_array_size(ic) + json_array_size(mc);
	p->ctrs = sk_calloc(p->n_ctrs + 1, sizeof(*p->ctrs));
	json_array_foreach (ic, i, cj)
		ctr_init(p, &p->ctrs[k++], cj, "initContainers", i, true);
	json_array_foreach (mc, i, cj)
		ctr_init(p, &p->ctrs[k++], cj, "containers", i, false);
}

static const struct rt_container_status *rt_ctr(const pod *p, const char *name)
{
	if (!p->have_rt)
		return NULL;
	for (size_t i = 0; i < p->rt.n_containers; i++)
		if (!strcmp(p->rt.containers[i].name, name))
			return &p->rt.containers[i];
	for (size_t i = 0; i < p->rt.n_init_containers; i++)
		if (!strcmp(p->rt.init_containers[i].name, name))
			return &p->rt.init_containers[i];
	return NULL;
}

/* ---- killing one container (liveness, startup, postStart failure) ---------------- */

static int send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static int on_kill_grace(sk_loop *loop SK_UNUSED, void *data)
{
	struct ctr *c = data;

	c->kill_timer = 0;
	if (c->kill_pidfd >= 0)
		(void)send_signal(c->kill_pidfd, SIGKILL);
	return 0;
}

/* The pid is the container's while it sits in the container's cgroup. */
static bool pid_is_container(pod *p, const struct ctr *c, pid_t pid)
{
	char path[64];
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *want =
		sk_asprintf("/%s/%s_%s/%s\n",
			    p->a->cfg.cgroup_root ? p->a->cfg.cgroup_root : RT_DEFAULT_CGROUP_ROOT,
			    p->ns, p->name, c->name);
	sk_err e;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	return sk_read_file(path, 1 << 16, &text, NULL, &e) == 0 && strstr(text, want);
}

static void ctr_signal_stop(pod *p, struct ctr *c)
{
	const struct rt_container_status *rc = rt_ctr(p, c->name);
	int64_t grace = c->kill_grace;

	if (!rc || rc->state != RT_RUNNING || rc->pid <= 0)
		return;
	kill_stop(p->a, c);
	c->kill_pidfd = (int)syscall(SYS_pidfd_open, rc->pid, 0);
	if (c->kill_pidfd < 0 || !pid_is_container(p, c, rc->pid)) {
		kill_stop(p->a, c);
		return;
	}
	(void)send_signal(c->kill_pidfd, grace > 0 ? SIGTERM : SIGKILL);
	if (grace > 0)
		c->kill_timer = sk_loop_add_timer(p->a->loop, grace * 1000, on_kill_grace, c);
}

struct hook_ctx {
	pod *p;
	struct ctr *c;
};

static void kill_after_hook(agent *a SK_UNUSED, void *data, bool ok SK_UNUSED,
			    const char *msg SK_UNUSED)
{
	struct hook_ctx *h = data;

	h->c->hook = NULL;
	ctr_signal_stop(h->p, h->c);
	free(h);
}

/* The kubelet's killContainer: preStop hook, then SIGTERM, SIGKILL after
 * the grace period. The supervisor restarts it by the restart policy. */
static void ctr_kill(pod *p, struct ctr *c, int64_t grace, const char *why)
{
	sk_err err;

	agent_event(p->a, p->obj, c->field_path, "Normal", "Killing", "%s", why);
	ctr_probes_stop(p->a, c);
	c->ready = false;
	c->kill_grace = grace;
	if (c->pre_stop.kind != PROBE_NONE && !c->hook) {
		struct hook_ctx *h = sk_calloc(1, sizeof(*h));
		h->p = p;
		h->c = c;
		c->pre_stop.timeout_s = grace > 0 ? grace : 1;
		c->hook = agent_probe_start(p->a, &c->pre_stop, p->id, c->name, p->pod_ip,
					    kill_after_hook, h, &err);
		if (c->hook)
			return;
		free(h);
	}
	ctr_signal_stop(p, c);
}

static int64_t pod_grace_seconds(pod *p)
{
	return api_get_int(p->obj, "spec.terminationGracePeriodSeconds", 30);
}

/* ---- probes ------------------------------------------------------------------------ */

static void probe_schedule(pod *p, struct ctr *c, struct probe_worker *w, int64_t delay_ms);

struct probe_ctx {
	pod *p;
	struct ctr *c;
	struct probe_worker *w;
};

static const char *probe_label(const struct ctr *c, const struct probe_worker *w)
{
	return w == &c->live ? "Liveness" : w == &c->rdy ? "Readiness" : "Startup";
}

static void probe_failed(pod *p, struct ctr *c, struct probe_worker *w, const char *msg)
{
	const char *label = probe_label(c, w);

	w->successes = 0;
	w->failures++;
	agent_event(p->a, p->obj, c->field_path, "Warning", "Unhealthy", "%s probe failed: %s",
		    label, msg);
	if (w->failures < w->spec->failure_threshold)
		return;
	if (w == &c->rdy) {
		if (c->ready) {
			c->ready = false;
			pod_update_status(p);
		}
		return;
	}
	/* liveness or startup: the container is restarted */
	int64_t grace = w->spec->termination_grace_s > 0 ? w->spec->termination_grace_s
							 : pod_grace_seconds(p);
	_cleanup_free_ char *why = sk_asprintf("Container %s failed %s probe, will be restarted",
					       c->name, w == &c->live ? "liveness" : "startup");
	ctr_kill(p, c, grace, why);
	pod_update_status(p);
}

static void probe_succeeded(pod *p, struct ctr *c, struct probe_worker *w)
{
	w->failures = 0;
	w->successes++;
	if (w == &c->rdy && !c->ready && w->successes >= w->spec->success_threshold) {
		c->ready = true;
		pod_update_status(p);
	} else if (w == &c->start && !c->started) {
		c->started = true;
		worker_stop(p->a, &c->start);
		/* now liveness and readiness, their delays counted from the start */
		int64_t ran = (sk_now_ns() - c->started_at) / 1000000;
		if (c->liveness.kind != PROBE_NONE)
			probe_schedule(p, c, &c->live, c->liveness.initial_delay_s * 1000 - ran);
		if (c->readiness.kind != PROBE_NONE)
			probe_schedule(p, c, &c->rdy, c->readiness.initial_delay_s * 1000 - ran);
		pod_update_status(p);
	}
}

static void probe_done(agent *a SK_UNUSED, void *data, bool ok, const char *msg)
{
	struct probe_ctx *ctx = data;
	pod *p = ctx->p;
	struct ctr *c = ctx->c;
	struct probe_worker *w = ctx->w;

	free(ctx);
	w->run = NULL;
	if (ok)
		probe_succeeded(p, c, w);
	else
		probe_failed(p, c, w, msg && *msg ? msg : "probe failed");
	/* keep probing the same run unless it is being killed */
	if (c->started_at && c->kill_pidfd < 0 && !c->hook && (w != &c->start || !c->started)) {
		int64_t took = sk_monotonic_ns() / 1000000 - w->run_started_ms;
		probe_schedule(p, c, w, w->spec->period_s * 1000 - took);
	}
}

static int probe_fire(sk_loop *loop SK_UNUSED, void *data)
{
	struct probe_ctx *ctx = data;
	pod *p = ctx->p;
	struct probe_worker *w = ctx->w;
	sk_err err;

	w->timer = 0;
	w->run_started_ms = sk_monotonic_ns() / 1000000;
	w->run = agent_probe_start(p->a, w->spec, p->id, ctx->c->name, p->pod_ip, probe_done, ctx,
				   &err);
	if (!w->run)
		probe_done(p->a, ctx, false, err.msg);
	return 0;
}

static void probe_schedule(pod *p, struct ctr *c, struct probe_worker *w, int64_t delay_ms)
{
	struct probe_ctx *ctx = sk_calloc(1, sizeof(*ctx));

	if (w->timer)
		sk_loop_cancel_timer(p->a->loop, w->timer);
	ctx->p = p;
	ctx->c = c;
	ctx->w = w;
	w->timer = sk_loop_add_timer(p->a->loop, delay_ms > 0 ? delay_ms : 0, probe_fire, ctx);
}

/* What the API says of this run (after an agent restart): keep its
 * readiness instead of starting over from not-ready. */
static void adopt_probe_state(pod *p, struct ctr *c, int restart_count)
{
	_cleanup_free_ char *id = agent_container_id(p->uid, c->name, restart_count);
	json_t *cs;
	size_t i;

	json_array_foreach (api_get(p->obj, "status.containerStatuses"), i, cs) {
		if (!sk_streq(json_string_value(json_object_get(cs, "name")), c->name) ||
		    !sk_streq(json_string_value(json_object_get(cs, "containerID")), id))
			continue;
		if (json_is_true(json_object_get(cs, "ready")))
			c->ready = c->started = true;
		if (json_is_true(json_object_get(cs, "started")))
			c->started = true;
	}
}

static void hook_done(agent *a SK_UNUSED, void *data, bool ok, const char *msg)
{
	struct hook_ctx *h = data;
	struct ctr *c = h->c;
	pod *p = h->p;

	free(h);
	c->hook = NULL;
	if (ok)
		return;
	agent_event(p->a, p->obj, c->field_path, "Warning", "FailedPostStartHook", "%s",
		    msg && *msg ? msg : "PostStartHook failed");
	ctr_kill(p, c, pod_grace_seconds(p), "FailedPostStartHook");
}

/* A container began a new run: its probes start over. */
static void ctr_run_started(pod *p, struct ctr *c, const struct rt_container_status *rc, bool live)
{
	sk_err err;

	ctr_probes_stop(p->a, c);
	kill_stop(p->a, c);
	c->started_at = rc->started_at;
	c->pid = rc->pid;
	c->started = c->startup.kind == PROBE_NONE;
	c->ready = c->readiness.kind == PROBE_NONE;
	if (!live)
		adopt_probe_state(p, c, rc->restart_count);
	int64_t ran = (sk_now_ns() - rc->started_at) / 1000000;
	if (!c->started) {
		probe_schedule(p, c, &c->start, c->startup.initial_delay_s * 1000 - ran);
	} else {
		if (c->liveness.kind != PROBE_NONE)
			probe_schedule(p, c, &c->live, c->liveness.initial_delay_s * 1000 - ran);
		if (c->readiness.kind != PROBE_NONE)
			probe_schedule(p, c, &c->rdy, c->readiness.initial_delay_s * 1000 - ran);
	}
	if (live && c->post_start.kind != PROBE_NONE && !c->hook) {
		struct hook_ctx *h = sk_calloc(1, sizeof(*h));
		h->p = p;
		h->c = c;
		c->post_start.timeout_s = pod_grace_seconds(p) > 0 ? pod_grace_seconds(p) : 30;
		c->hook = agent_probe_start(p->a, &c->post_start, p->id, c->name, p->pod_ip,
					    hook_done, h, &err);
		if (!c->hook)
			hook_done(p->a, h, false, err.msg);
	}
}

/* Follow the runtime's view: probes run while a container runs. */
static void probes_sync(pod *p)
{
	for (size_t i = 0; i < p->n_ctrs; i++) {
		struct ctr *c = &p->ctrs[i];
		const struct rt_container_status *rc = rt_ctr(p, c->name);
		bool running = rc && rc->state == RT_RUNNING && p->stage == STAGE_ACTIVE;
		if (running && rc->started_at != c->started_at) {
			ctr_run_started(p, c, rc, rc->started_at != c->adopted_started_at);
		} else if (!running && c->started_at) {
			ctr_probes_stop(p->a, c);
			kill_stop(p->a, c);
			c->started_at = 0;
			c->ready = c->started = false;
		}
	}
}

/* ---- Events from runtime changes ------------------------------------------------- */

static void ctr_events(pod *p, struct ctr *c, const struct rt_container_status *rc)
{
	agent *a = p->a;
	const char *fp = c->field_path;

	if (rc->state == RT_RUNNING && rc->started_at != c->seen_started_at) {
		agent_event(a, p->obj, fp, "Normal", "Pulled",
			    "Container image \"%s\" already present on machine",
			    rc->image ? rc->image : "");
		agent_event(a, p->obj, fp, "Normal", "Created", "Created container %s", c->name);
		agent_event(a, p->obj, fp, "Normal", "Started", "Started container %s", c->name);
		c->seen_started_at = rc->started_at;
	}
	int64_t finished = rc->state == RT_TERMINATED ? rc->finished_at
			   : rc->has_last_state	      ? rc->last_state.finished_at
						      : 0;
	const char *reason = rc->state == RT_TERMINATED ? rc->reason : rc->last_state.reason;
	const char *message = rc->state == RT_TERMINATED ? rc->message : rc->last_state.message;
	if (finished && finished != c->seen_finished_at) {
		c->seen_finished_at = finished;
		if (sk_streq(reason, "OOMKilled"))
			agent_event(a, p->obj, fp, "Warning", "OOMKilled",
				    "Container %s was killed: out of memory (exit code 137)",
				    c->name);
		else if (sk_streq(reason, "StartError"))
			agent_event(a, p->obj, fp, "Warning", "Failed", "Error: %s",
				    message ? message : "the container could not start");
	}
	if (rc->state == RT_WAITING && sk_streq(rc->reason, "CrashLoopBackOff")) {
		if (!sk_streq(c->seen_waiting, rc->message))
			agent_event(a, p->obj, fp, "Warning", "BackOff",
				    "Back-off restarting failed container %s in pod %s_%s(%s)",
				    c->name, p->name, p->ns, p->uid);
		free(c->seen_waiting);
		c->seen_waiting = sk_strdup(rc->message ? rc->message : "");
	}
}

static void runtime_events(pod *p)
{
	for (size_t i = 0; i < p->n_ctrs; i++) {
		const struct rt_container_status *rc = rt_ctr(p, p->ctrs[i].name);
		if (rc)
			ctr_events(p, &p->ctrs[i], rc);
	}
}

/* After an adoption, what is there now was reported before. */
static void mark_events_seen(pod *p)
{
	for (size_t i = 0; i < p->n_ctrs; i++) {
		struct ctr *c = &p->ctrs[i];
		const struct rt_container_status *rc = rt_ctr(p, c->name);
		if (!rc)
			continue;
		c->seen_started_at = rc->state == RT_RUNNING ? rc->started_at : 0;
		c->adopted_started_at = c->seen_started_at;
		c->seen_finished_at = rc->state == RT_TERMINATED ? rc->finished_at
				      : rc->has_last_state	 ? rc->last_state.finished_at
								 : 0;
		free(c->seen_waiting);
		c->seen_waiting =
			rc->state == RT_WAITING && rc->message ? sk_strdup(rc->message) : NULL;
	}
}

/* ---- status ---------------------------------------------------------------------- */

struct status_job {
	pod *p;
	char *path;
	json_t *patch;
	bool ok;
	int code;
};

static void status_run(struct agent_worker *w, void *data)
{
	struct status_job *j = data;
	sk_http *h;
	sk_err err;

	h = agent_worker_http(w, &err);
	j->ok = h && agent_api_merge_patch(h, j->path, j->patch, NULL, &err) == 0;
	if (!j->ok) {
		j->code = err.code;
		if (err.code != 404)
			sk_warn("agent: %s", err.msg);
	}
}

static void status_send(pod *p);

static void status_done(agent *a SK_UNUSED, void *data)
{
	struct status_job *j = data;
	pod *p = j->p;

	p->status_inflight = false;
	if (j->ok) {
		json_decref(p->status_sent);
		p->status_sent = json_incref(json_object_get(j->patch, "status"));
	}
	free(j->path);
	json_decref(j->patch);
	free(j);
	if (p->stage == STAGE_DONE) {
		pod_maybe_forget(p);
		return;
	}
	/* a newer status waited, or this one failed (retry with the next change) */
	if (p->status_pending && !json_equal(p->status_pending, p->status_sent))
		status_send(p);
}

static void status_send(pod *p)
{
	struct status_job *j;

	if (p->status_inflight || !p->status_pending || !p->in_api || atomic_load(&p->a->stopping))
		return;
	j = sk_calloc(1, sizeof(*j));
	j->p = p;
	j->path = sk_asprintf("/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
	/* the uid guards against a new pod of the same name */
	j->patch =
		json_pack("{s:{s:s},s:O}", "metadata", "uid", p->uid, "status", p->status_pending);
	p->status_inflight = true;
	agent_pool_submit(p->a->fast, status_run, status_done, j);
}

static void probe_views(pod *p, struct agent_ctr_probe_view *v)
{
	for (size_t i = 0; i < p->n_ctrs; i++) {
		v[i].name = p->ctrs[i].name;
		v[i].ready = p->ctrs[i].ready;
		v[i].started = p->ctrs[i].started;
	}
}

static void pod_update_status(pod *p)
{
	_cleanup_free_ struct agent_ctr_probe_view *views =
		sk_calloc(p->n_ctrs + 1, sizeof(*views));
	struct agent_status_input in = {
		.pod = p->obj,
		.rt = p->have_rt ? &p->rt : NULL,
		.probes = views,
		.n_probes = p->n_ctrs,
		.pod_ip = p->pod_ip,
		.host_ip = p->a->host_ip,
		.start_time = p->start_time,
		.now = sk_now_ns() / 1000000000LL,
		.waiting_reason = p->have_rt ? NULL : p->waiting_reason,
		.waiting_message = p->have_rt ? NULL : p->waiting_message,
		.sandbox_ready = p->sandbox_ready,
		.terminating = p->stage == STAGE_KILLING,
	};
	json_t *st;

	if (!p->in_api)
		return;
	probe_views(p, views);
	st = agent_pod_status(&in);
	/* a finished pod stays finished */
	const char *old_phase = api_get_str(p->obj, "status.phase");
	if ((sk_streq(old_phase, "Succeeded") || sk_streq(old_phase, "Failed")) &&
	    !sk_streq(old_phase, json_string_value(json_object_get(st, "phase")))) {
		json_decref(st);
		return;
	}
	if (p->status_sent && json_equal(st, p->status_sent)) {
		json_decref(p->status_pending);
		p->status_pending = NULL;
		json_decref(st);
		return;
	}
	json_decref(p->status_pending);
	p->status_pending = st;
	status_send(p);
}

/* ---- runtime status -------------------------------------------------------------- */

static void pod_runtime_changed(pod *p, struct rt_pod_status *st)
{
	if (p->have_rt)
		rt_pod_status_free(&p->rt);
	p->rt = *st;
	p->have_rt = true;
	memset(st, 0, sizeof(*st));
	if (p->rt.phase == RT_PHASE_SUCCEEDED || p->rt.phase == RT_PHASE_FAILED)
		p->terminal = true;
	probes_sync(p);
	pod_update_status(p);
	/* after the status: Events are informative, the status is what
	 * watchers wait for */
	if (p->stage == STAGE_ACTIVE)
		runtime_events(p);
}

static void read_runtime_status(pod *p)
{
	struct rt_pod_status st;
	sk_err err;

	if (rt_pod_status_file(p->a->cfg.state_dir, p->id, &st, &err) < 0) {
		sk_debug("agent: %s", err.msg);
		return;
	}
	if (st.uid && !sk_streq(st.uid, p->uid)) {
		rt_pod_status_free(&st);
		return;
	}
	pod_runtime_changed(p, &st);
}

static int on_inotify(sk_loop *loop SK_UNUSED, int fd, uint32_t events SK_UNUSED, void *data)
{
	agent *a = data;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *ptr = buf; ptr < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)ptr;
			ptr += sizeof(*ev) + ev->len;
			if (!ev->len || strcmp(ev->name, "status"))
				continue;
			for (size_t i = 0; i < a->pods_cap; i++) {
				pod *p = a->pods[i];
				if (p && p->wd == ev->wd && p->stage >= STAGE_ACTIVE &&
				    p->stage != STAGE_DONE) {
					read_runtime_status(p);
					break;
				}
			}
		}
	}
	return 0;
}

static void watch_pod_dir(pod *p)
{
	_cleanup_free_ char *dir = sk_asprintf("%s/%s", p->a->cfg.state_dir, p->id);

	if (p->wd >= 0)
		return;
	p->wd = inotify_add_watch(p->a->inotify_fd, dir, IN_MOVED_TO | IN_ONLYDIR);
	if (p->wd < 0)
		sk_warn("agent: inotify on %s: %s", dir, strerror(errno));
}

static void unwatch_pod_dir(pod *p)
{
	if (p->wd >= 0)
		inotify_rm_watch(p->a->inotify_fd, p->wd);
	p->wd = -1;
}

/* ---- starting --------------------------------------------------------------------- */

struct start_job {
	pod *p;
	json_t *obj; /* a copy: the worker's own */
	char **service_env;
	char *id, *uid;
	bool host_network;
	/* results */
	int result; /* 0 ok, -1 failed */
	bool adopted;
	char *pod_ip;
	char *reason, *message; /* waiting reason; event */
	char *event_reason;
	bool image_error;
	struct rt_pod_status st;
	bool have_st;
};

static void start_fail(struct start_job *j, const char *waiting, const char *event_reason,
		       const char *msg)
{
	j->result = -1;
	j->reason = sk_strdup(waiting);
	j->event_reason = sk_strdup(event_reason);
	j->message = sk_strdup(msg);
}

/* A runtime pod of the same name but another uid is an older pod's. */
static int clear_previous(struct start_job *j, net_node *net, const char *state_dir, bool *adopt)
{
	struct rt_pod_config *old = NULL;
	sk_err err;

	*adopt = false;
	if (rt_pod_config_load(state_dir, j->id, &old, &err) < 0)
		return 0;
	if (sk_streq(old->uid, j->uid)) {
		*adopt = true;
		rt_pod_config_free(old);
		return 0;
	}
	if (rt_pod_remove(state_dir, j->id, 0, &err) < 0 && err.code != ENOENT)
		sk_warn("agent: remove the previous %s: %s", j->id, err.msg);
	if (net && old->uid)
		(void)net_pod_teardown(net, old->uid, &err);
	rt_pod_config_free(old);
	return 0;
}

static void fill_options(struct start_job *j, agent *a, struct agent_pod_options *o,
			 const char *resolv, const char *ip)
{
	memset(o, 0, sizeof(*o));
	o->image_dir = a->cfg.image_dir;
	o->state_dir = a->cfg.state_dir;
	o->log_dir = a->cfg.log_dir;
	o->data_dir = a->cfg.pod_data_dir;
	o->cgroup_root = a->cfg.cgroup_root;
	o->resolv_conf = resolv;
	o->extra_env = (const char *const *)j->service_env;
	o->node_name = a->node_name;
	o->pod_ip = ip;
	o->host_ip = a->host_ip;
	o->node_cpu_milli = a->alloc_cpu_milli;
	o->node_memory = a->alloc_memory;
}

static int start_network(struct start_job *j, net_node *net, struct net_pod *np, sk_err *err)
{
	struct net_host_port hp[64];
	struct net_pod_config pc = {.uid = j->uid, .host_ports = hp};
	json_t *cj, *port;
	size_t i, k;

	json_array_foreach (api_get(j->obj, "spec.containers"), i, cj) {
		json_array_foreach (json_object_get(cj, "ports"), k, port) {
			int64_t host = api_get_int(port, "hostPort", 0);
			const char *proto = api_get_str(port, "protocol");
			if (host <= 0 || pc.n_host_ports >= SK_ARRAY_SIZE(hp))
				continue;
			hp[pc.n_host_ports++] = (struct net_host_port){
				.protocol = sk_streq(proto, "UDP") ? IPPROTO_UDP : IPPROTO_TCP,
				.host_port = (uint16_t)host,
				.container_port = (uint16_t)api_get_int(port, "containerPort", 0),
			};
		}
	}
	return net_pod_setup(net, &pc, np, err);
}

static void start_run(struct agent_worker *w, void *data)
{
	struct start_job *j = data;
	agent *a = w->a;
	struct agent_pod_options opt;
	struct agent_pod ap;
	struct net_pod np;
	net_node *net = NULL;
	_cleanup_free_ char *resolv = NULL;
	const char *ns = api_get_str(j->obj, "metadata.namespace");
	const char *policy = api_get_str(j->obj, "spec.dnsPolicy");
	sk_err err;

	if (!j->host_network && !(net = agent_worker_net(w, &err))) {
		start_fail(j, "ContainerCreating", "FailedCreatePodSandBox", err.msg);
		return;
	}
	clear_previous(j, net, a->cfg.state_dir, &j->adopted);
	if (!j->host_network) {
		if (start_network(j, net, &np, &err) < 0) {
			start_fail(j, "ContainerCreating", "FailedCreatePodSandBox", err.msg);
			return;
		}
		j->pod_ip = sk_strdup(np.ip);
		bool cluster = !policy || !strcmp(policy, "ClusterFirst") ||
			       !strcmp(policy, "ClusterFirstWithHostNet");
		if (cluster && a->cfg.dns_port >= 0 &&
		    net_resolv_conf(net, ns ? ns : "default", NET_DNS_CLUSTER_FIRST, &resolv,
				    &err) < 0)
			sk_warn("agent: resolv.conf: %s", err.msg);
	} else {
		j->pod_ip = sk_strdup(a->host_ip);
	}
	if (j->adopted) {
		j->have_st = rt_pod_status(a->cfg.state_dir, j->id, &j->st, &err) == 0;
		if (j->have_st && j->st.supervisor_alive)
			return;
		/* its supervisor is gone, and its containers with it (they die
		 * with their parent): start the pod again */
		sk_warn("agent: pod %s lost its supervisor; starting it again", j->id);
		if (j->have_st)
			rt_pod_status_free(&j->st);
		j->have_st = false;
		j->adopted = false;
		if (rt_pod_remove(a->cfg.state_dir, j->id, 0, &err) < 0 && err.code != ENOENT)
			sk_warn("agent: %s", err.msg);
	}
	fill_options(j, a, &opt, resolv, j->pod_ip);
	if (agent_pod_from_json(j->obj, &opt, &ap, &err) < 0) {
		j->image_error = err.code == ENOENT;
		start_fail(j, j->image_error ? "ErrImagePull" : "CreateContainerConfigError",
			   j->image_error ? "Failed" : "Failed", err.msg);
		return;
	}
	if (!j->host_network) {
		ap.cfg->netns_path = sk_strdup(np.netns_path);
		ap.cfg->pod_ip = sk_strdup(np.ip);
	}
	if (agent_pod_prepare_volumes(&ap, &err) < 0) {
		start_fail(j, "ContainerCreating", "FailedMount", err.msg);
	} else if (rt_pod_create(ap.cfg, &err) < 0) {
		start_fail(j, "ContainerCreating", "FailedCreatePodSandBox", err.msg);
	} else {
		/* the containers start in a few ms: wait for them (a little),
		 * so the first status written is Running, not ContainerCreating
		 * followed at once by Running (two writes in a row, the second
		 * waiting for the first) */
		j->have_st = rt_pod_wait_started(a->cfg.state_dir, j->id, START_WAIT_MS, &j->st,
						 &err) == 0 ||
			     rt_pod_status_file(a->cfg.state_dir, j->id, &j->st, &err) == 0;
	}
	agent_pod_clear(&ap);
}

static void start_job_free(struct start_job *j)
{
	json_decref(j->obj);
	sk_strv_free(j->service_env);
	free(j->id);
	free(j->uid);
	free(j->pod_ip);
	free(j->reason);
	free(j->message);
	free(j->event_reason);
	if (j->have_st)
		rt_pod_status_free(&j->st);
	free(j);
}

static int retry_fire(sk_loop *loop SK_UNUSED, void *data)
{
	pod *p = data;

	p->retry_timer = 0;
	if (p->stage == STAGE_NEW && !p->job)
		pod_start(p);
	return 0;
}

static void start_failed(pod *p, struct start_job *j)
{
	int min = j->image_error ? IMAGE_RETRY_MIN_MS : RETRY_MIN_MS;
	int max = j->image_error ? IMAGE_RETRY_MAX_MS : RETRY_MAX_MS;
	const char *reason = j->reason;

	if (j->image_error && p->retry_ms)
		reason = "ImagePullBackOff";
	p->retry_ms = p->retry_ms ? p->retry_ms * 2 : min;
	if (p->retry_ms > max)
		p->retry_ms = max;
	free(p->waiting_reason);
	free(p->waiting_message);
	p->waiting_reason = sk_strdup(reason);
	p->waiting_message = sk_strdup(j->message);
	p->stage = STAGE_NEW;
	agent_event(p->a, p->obj, NULL, "Warning", j->event_reason, "%s", j->message);
	if (j->image_error)
		agent_event(p->a, p->obj, NULL, "Normal", "BackOff", "Back-off pulling image");
	pod_update_status(p);
	p->retry_timer = sk_loop_add_timer(p->a->loop, p->retry_ms, retry_fire, p);
}

static void start_done(agent *a SK_UNUSED, void *data)
{
	struct start_job *j = data;
	pod *p = j->p;

	p->job = false;
	if (j->pod_ip && !p->pod_ip)
		p->pod_ip = sk_strdup(j->pod_ip);
	if (p->stage == STAGE_DONE) {
		pod_maybe_forget(p);
	} else if (p->stage == STAGE_KILLING) {
		/* deleted while it started: now stop what was made */
		pod_kill(p, p->grace);
	} else if (j->result < 0) {
		start_failed(p, j);
	} else {
		free(p->waiting_reason);
		free(p->waiting_message);
		p->waiting_reason = p->waiting_message = NULL;
		p->retry_ms = 0;
		p->stage = STAGE_ACTIVE;
		p->sandbox_ready = true;
		p->adopted = j->adopted;
		watch_pod_dir(p);
		if (j->have_st) {
			if (j->adopted) {
				/* what runs was reported by the agent before: no
				 * Events for it, only for what changes from now */
				p->rt = j->st;
				p->have_rt = true;
				memset(&j->st, 0, sizeof(j->st));
				mark_events_seen(p);
				rt_pod_status_free(&p->rt);
				p->have_rt = false;
				struct rt_pod_status again;
				sk_err e;
				if (rt_pod_status_file(p->a->cfg.state_dir, p->id, &again, &e) == 0)
					pod_runtime_changed(p, &again);
			} else {
				pod_runtime_changed(p, &j->st);
			}
			j->have_st = false;
		} else {
			pod_update_status(p);
		}
		/* a change between the job's read and the watch */
		read_runtime_status(p);
	}
	start_job_free(j);
}

static int creating_status(sk_loop *loop SK_UNUSED, void *data)
{
	pod *p = data;

	p->creating_timer = 0;
	if (p->stage == STAGE_STARTING)
		pod_update_status(p);
	return 0;
}

static void pod_start(pod *p)
{
	agent *a = p->a;
	struct start_job *j;

	if (p->job || p->stage != STAGE_NEW || p->terminal || atomic_load(&a->stopping))
		return;
	if (!p->host_network && !a->net_ready) {
		/* agent_pods_network_ready starts it */
		return;
	}
	if (!p->start_time)
		p->start_time = sk_now_ns() / 1000000000LL;
	j = sk_calloc(1, sizeof(*j));
	j->p = p;
	j->obj = json_deep_copy(p->obj);
	j->id = sk_strdup(p->id);
	j->uid = sk_strdup(p->uid);
	j->host_network = p->host_network;
	j->service_env =
		agent_service_env(a, p->ns, api_get_bool(p->obj, "spec.enableServiceLinks", true));
	p->job = true;
	p->stage = STAGE_STARTING;
	agent_pool_submit(a->fast, start_run, start_done, j);
	/* a new pod shows ContainerCreating if its start takes a while (most
	 * start within milliseconds, and write Running first); one that ran
	 * before (an agent restart) keeps its status until the runtime's is
	 * known */
	if (!api_get(p->obj, "status.containerStatuses") && !p->creating_timer)
		p->creating_timer =
			sk_loop_add_timer(a->loop, CREATING_STATUS_MS, creating_status, p);
}

void agent_pods_network_ready(agent *a)
{
	for (size_t i = 0; i < a->pods_cap; i++)
		if (a->pods[i] && a->pods[i]->stage == STAGE_NEW)
			pod_start(a->pods[i]);
}

/* ---- killing --------------------------------------------------------------------- */

struct kill_job {
	pod *p;
	char *id, *uid, *ns, *name;
	int64_t grace;
	bool in_api;
	bool host_network;
	bool confirmed;
	struct rt_pod_status st;
	bool have_st;
	json_t *final_status; /* computed on the loop after the stop */
};

static void kill_job_free(struct kill_job *j)
{
	free(j->id);
	free(j->uid);
	free(j->ns);
	free(j->name);
	if (j->have_st)
		rt_pod_status_free(&j->st);
	json_decref(j->final_status);
	free(j);
}

/* Stop the containers, keep their last status, remove the sandbox and the
 * network. */
static void kill_run(struct agent_worker *w, void *data)
{
	struct kill_job *j = data;
	const char *state_dir = w->a->cfg.state_dir;
	_cleanup_free_ char *dir = sk_asprintf("%s/%s", state_dir, j->id);
	net_node *net;
	sk_err err;

	if (sk_path_exists(dir)) {
		if (rt_pod_stop(state_dir, j->id, j->grace, &err) < 0)
			sk_debug("agent: %s", err.msg);
		j->have_st = rt_pod_status_file(state_dir, j->id, &j->st, &err) == 0;
		if (j->have_st && !sk_streq(j->st.uid, j->uid)) {
			/* another pod of the same name owns the directory now */
			rt_pod_status_free(&j->st);
			j->have_st = false;
		} else if (rt_pod_remove(state_dir, j->id, 0, &err) < 0 && err.code != ENOENT) {
			sk_warn("agent: %s", err.msg);
		}
	}
	if (!j->host_network && (net = agent_worker_net(w, &err)) &&
	    net_pod_teardown(net, j->uid, &err) < 0)
		sk_warn("agent: pod network of %s/%s: %s", j->ns, j->name, err.msg);
}

/* The last status, then the deletion with grace period 0 and the uid as a
 * precondition, as the kubelet finishes a graceful deletion. */
static void confirm_run(struct agent_worker *w, void *data)
{
	struct kill_job *j = data;
	_cleanup_free_ char *path = sk_asprintf("/api/v1/namespaces/%s/pods/%s", j->ns, j->name);
	_cleanup_free_ char *spath = sk_asprintf("%s/status", path);
	json_t *opts;
	sk_http *h;
	sk_err err;

	h = agent_worker_http(w, &err);
	if (!h) {
		sk_warn("agent: %s", err.msg);
		return;
	}
	if (j->final_status) {
		json_t *patch = json_pack("{s:{s:s},s:O}", "metadata", "uid", j->uid, "status",
					  j->final_status);
		(void)agent_api_merge_patch(h, spath, patch, NULL, &err);
		json_decref(patch);
	}
	opts = json_pack("{s:s,s:s,s:i,s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
			 "gracePeriodSeconds", 0, "preconditions", "uid", j->uid);
	if (agent_api(h, "DELETE", path, NULL, opts, NULL, &err) == 0 || err.code == 404 ||
	    err.code == 409)
		j->confirmed = true;
	else
		sk_warn("agent: confirm the deletion of %s/%s: %s", j->ns, j->name, err.msg);
	json_decref(opts);
}

static void confirm_done(agent *a SK_UNUSED, void *data)
{
	struct kill_job *j = data;
	pod *p = j->p;

	p->job = false;
	if (!j->confirmed && p->in_api) {
		/* the server was away: try again later (the housekeeping) */
		kill_job_free(j);
		return;
	}
	kill_job_free(j);
	p->stage = STAGE_DONE;
	pod_maybe_forget(p);
}

static void kill_done(agent *a, void *data)
{
	struct kill_job *j = data;
	pod *p = j->p;

	unwatch_pod_dir(p);
	if (j->have_st) {
		pod_runtime_changed(p, &j->st);
		memset(&j->st, 0, sizeof(j->st));
		j->have_st = false;
	}
	p->sandbox_ready = false;
	if (!p->in_api) {
		p->job = false;
		p->stage = STAGE_DONE;
		kill_job_free(j);
		pod_maybe_forget(p);
		return;
	}
	if (atomic_load(&a->stopping)) {
		p->job = false;
		kill_job_free(j);
		return;
	}
	if (p->status_pending)
		j->final_status = json_incref(p->status_pending);
	agent_pool_submit(a->fast, confirm_run, confirm_done, j);
}

static void kill_submit(pod *p)
{
	if (atomic_load(&p->a->stopping))
		return;
	struct kill_job *j = sk_calloc(1, sizeof(*j));
	int64_t spent = (sk_monotonic_ns() / 1000000 - p->kill_started_ms) / 1000;
	int64_t grace = p->grace - spent;

	if (p->hook_timer)
		sk_loop_cancel_timer(p->a->loop, p->hook_timer);
	p->hook_timer = 0;
	if (p->grace > 0 && grace < MIN_GRACE_AFTER_HOOK_S && spent > 0)
		grace = MIN_GRACE_AFTER_HOOK_S;
	j->p = p;
	j->id = sk_strdup(p->id);
	j->uid = sk_strdup(p->uid);
	j->ns = sk_strdup(p->ns);
	j->name = sk_strdup(p->name);
	j->grace = grace < 0 ? 0 : grace;
	j->host_network = p->host_network;
	p->job = true;
	agent_pool_submit(p->a->slow, kill_run, kill_done, j);
}

static void pre_stop_done(agent *a SK_UNUSED, void *data, bool ok, const char *msg)
{
	struct hook_ctx *h = data;
	pod *p = h->p;
	struct ctr *c = h->c;

	free(h);
	c->hook = NULL;
	if (!ok)
		agent_event(p->a, p->obj, c->field_path, "Warning", "FailedPreStopHook", "%s",
			    msg && *msg ? msg : "PreStopHook failed");
	if (--p->hooks_running == 0 && !p->job)
		kill_submit(p);
}

static int hooks_timeout(sk_loop *loop SK_UNUSED, void *data)
{
	pod *p = data;

	p->hook_timer = 0;
	for (size_t i = 0; i < p->n_ctrs; i++) {
		if (p->ctrs[i].hook) {
			agent_probe_cancel(p->ctrs[i].hook);
			p->ctrs[i].hook = NULL;
		}
	}
	p->hooks_running = 0;
	if (!p->job)
		kill_submit(p);
	return 0;
}

/* preStop hooks of the running containers, bounded by the grace period. */
static void run_pre_stop_hooks(pod *p)
{
	sk_err err;

	for (size_t i = 0; i < p->n_ctrs; i++) {
		struct ctr *c = &p->ctrs[i];
		const struct rt_container_status *rc = rt_ctr(p, c->name);
		if (!rc || rc->state != RT_RUNNING)
			continue;
		agent_event(p->a, p->obj, c->field_path, "Normal", "Killing",
			    "Stopping container %s", c->name);
		if (c->pre_stop.kind == PROBE_NONE || p->grace <= 0)
			continue;
		if (c->hook)
			agent_probe_cancel(c->hook);
		struct hook_ctx *h = sk_calloc(1, sizeof(*h));
		h->p = p;
		h->c = c;
		c->pre_stop.timeout_s = p->grace;
		c->hook = agent_probe_start(p->a, &c->pre_stop, p->id, c->name, p->pod_ip,
					    pre_stop_done, h, &err);
		if (c->hook) {
			p->hooks_running++;
		} else {
			agent_event(p->a, p->obj, c->field_path, "Warning", "FailedPreStopHook",
				    "%s", err.msg);
			free(h);
		}
	}
	if (p->hooks_running)
		p->hook_timer = sk_loop_add_timer(p->a->loop, p->grace * 1000, hooks_timeout, p);
}

static void pod_kill(pod *p, int64_t grace)
{
	if (p->stage == STAGE_DONE)
		return;
	if (p->retry_timer) {
		sk_loop_cancel_timer(p->a->loop, p->retry_timer);
		p->retry_timer = 0;
	}
	if (p->stage == STAGE_KILLING && (p->job || p->hooks_running)) {
		/* already under way; a shorter grace period cannot reach the job */
		return;
	}
	bool was_starting = p->stage == STAGE_STARTING;
	p->stage = STAGE_KILLING;
	p->grace = grace;
	if (was_starting && p->job)
		return; /* start_done comes back here */
	if (p->job)
		return;
	for (size_t i = 0; i < p->n_ctrs; i++) {
		ctr_probes_stop(p->a, &p->ctrs[i]);
		kill_stop(p->a, &p->ctrs[i]);
	}
	p->kill_started_ms = sk_monotonic_ns() / 1000000;
	pod_update_status(p);
	run_pre_stop_hooks(p);
	if (!p->hooks_running)
		kill_submit(p);
}

/* ---- the pod object ------------------------------------------------------------------ */

static void pod_free(pod *p)
{
	agent *a = p->a;

	for (size_t i = 0; i < p->n_ctrs; i++)
		ctr_clear(a, &p->ctrs[i]);
	free(p->ctrs);
	if (p->retry_timer)
		sk_loop_cancel_timer(a->loop, p->retry_timer);
	if (p->hook_timer)
		sk_loop_cancel_timer(a->loop, p->hook_timer);
	if (p->creating_timer)
		sk_loop_cancel_timer(a->loop, p->creating_timer);
	unwatch_pod_dir(p);
	if (p->have_rt)
		rt_pod_status_free(&p->rt);
	json_decref(p->obj);
	json_decref(p->status_sent);
	json_decref(p->status_pending);
	free(p->uid);
	free(p->ns);
	free(p->name);
	free(p->id);
	free(p->pod_ip);
	free(p->waiting_reason);
	free(p->waiting_message);
	free(p);
}

static void pod_forget(pod *p)
{
	table_remove(p->a, p);
	pod_free(p);
}

/* A finished pod goes once nothing in flight refers to it. */
static void pod_maybe_forget(pod *p)
{
	if (p->stage == STAGE_DONE && !p->job && !p->status_inflight)
		pod_forget(p);
}

static int64_t parse_start_time(json_t *obj)
{
	int64_t t = 0;
	const char *s = api_get_str(obj, "status.startTime");

	if (s && sk_parse_rfc3339(s, &t) == 0)
		return t;
	return 0;
}

static pod *pod_new(agent *a, json_t *obj)
{
	pod *p = sk_calloc(1, sizeof(*p));
	const char *phase = api_get_str(obj, "status.phase");

	p->a = a;
	p->uid = sk_strdup(api_get_str(obj, "metadata.uid"));
	p->ns = sk_strdup(api_get_str(obj, "metadata.namespace") ?: "default");
	p->name = sk_strdup(api_get_str(obj, "metadata.name"));
	p->id = rt_pod_id(p->ns, p->name);
	p->obj = json_incref(obj);
	p->wd = -1;
	p->in_api = true;
	p->host_network = api_get_bool(obj, "spec.hostNetwork", false);
	p->start_time = parse_start_time(obj);
	p->terminal = sk_streq(phase, "Succeeded") || sk_streq(phase, "Failed");
	const char *ip = api_get_str(obj, "status.podIP");
	if (ip)
		p->pod_ip = sk_strdup(ip);
	ctrs_init(p);
	table_add(a, p);
	return p;
}

static bool is_deleting(json_t *obj)
{
	return api_get_str(obj, "metadata.deletionTimestamp") != NULL;
}

static void pod_seen(agent *a, json_t *obj)
{
	const char *uid = api_get_str(obj, "metadata.uid");
	const char *node = api_get_str(obj, "spec.nodeName");
	pod *p;

	if (!uid || !api_get_str(obj, "metadata.name") || !sk_streq(node, a->node_name))
		return;
	p = lookup(a, uid);
	if (!p) {
		p = pod_new(a, obj);
	} else if (p->obj != obj) {
		json_decref(p->obj);
		p->obj = json_incref(obj);
	}
	p->seen = true;
	p->in_api = true;
	if (is_deleting(obj)) {
		int64_t grace = api_get_int(obj, "metadata.deletionGracePeriodSeconds",
					    pod_grace_seconds(p));
		if (p->stage == STAGE_NEW && !p->job && !a->pods_synced)
			p->stage = STAGE_NEW; /* maybe in the runtime: the adoption decides */
		pod_kill(p, grace);
		return;
	}
	if (a->pods_synced && p->stage == STAGE_NEW)
		pod_start(p);
	else if (p->stage == STAGE_ACTIVE)
		pod_update_status(p);
}

static void pod_gone(agent *a, json_t *obj)
{
	pod *p = lookup(a, api_get_str(obj, "metadata.uid"));

	if (!p)
		return;
	p->in_api = false;
	if (p->stage == STAGE_NEW && !p->job) {
		/* never started here */
		p->stage = STAGE_DONE;
		pod_maybe_forget(p);
		return;
	}
	pod_kill(p, p->stage == STAGE_KILLING
			    ? p->grace
			    : api_get_int(obj, "metadata.deletionGracePeriodSeconds", 0));
}

/* ---- adoption and orphans --------------------------------------------------------------- */

struct orphan_job {
	char *id;
	char *uid;
};

static void orphan_run(struct agent_worker *w, void *data)
{
	struct orphan_job *j = data;
	net_node *net;
	sk_err err;

	if (rt_pod_remove(w->a->cfg.state_dir, j->id, 0, &err) < 0 && err.code != ENOENT)
		sk_warn("agent: remove orphan pod %s: %s", j->id, err.msg);
	if (j->uid && (net = agent_worker_net(w, &err)))
		(void)net_pod_teardown(net, j->uid, &err);
	free(j->id);
	free(j->uid);
	free(j);
}

/* Runtime pods that no Pod bound here owns: leftovers of pods deleted
 * while the agent was away. */
static void remove_orphans(agent *a)
{
	_cleanup_strv_ char **ids = NULL;
	sk_err err;

	if (rt_pod_list(a->cfg.state_dir, &ids, &err) < 0) {
		sk_warn("agent: %s", err.msg);
		return;
	}
	for (size_t i = 0; ids && ids[i]; i++) {
		struct rt_pod_config *cfg = NULL;
		bool owned = false;
		if (rt_pod_config_load(a->cfg.state_dir, ids[i], &cfg, &err) < 0)
			continue;
		pod *p = lookup(a, cfg->uid);
		owned = p && !strcmp(p->id, ids[i]);
		if (!owned) {
			struct orphan_job *j = sk_calloc(1, sizeof(*j));
			sk_info("agent: removing pod %s (uid %s): no such pod on this node", ids[i],
				cfg->uid ? cfg->uid : "?");
			j->id = sk_strdup(ids[i]);
			j->uid = cfg->uid ? sk_strdup(cfg->uid) : NULL;
			agent_pool_submit(a->slow, orphan_run, NULL, j);
		}
		rt_pod_config_free(cfg);
	}
}

static void pods_sync(agent *a, json_t *items)
{
	json_t *obj;
	size_t i;
	bool first = !a->pods_synced;

	for (size_t k = 0; k < a->pods_cap; k++)
		if (a->pods[k])
			a->pods[k]->seen = false;
	json_array_foreach (items, i, obj)
		pod_seen(a, obj);
	/* pods the server no longer has (collected first: pod_gone may
	 * remove table entries) */
	json_t *gone = json_array();
	for (size_t k = 0; k < a->pods_cap; k++)
		if (a->pods[k] && !a->pods[k]->seen && a->pods[k]->in_api)
			json_array_append(gone, a->pods[k]->obj);
	json_array_foreach (gone, i, obj)
		pod_gone(a, obj);
	json_decref(gone);
	a->pods_synced = true;
	if (first) {
		remove_orphans(a);
		for (size_t k = 0; k < a->pods_cap; k++)
			if (a->pods[k] && a->pods[k]->stage == STAGE_NEW)
				pod_start(a->pods[k]);
	}
}

void agent_pods_on_watch(agent *a, enum agent_watch_type type, json_t *obj, void *data SK_UNUSED)
{
	switch (type) {
	case AGENT_WATCH_SYNC:
		pods_sync(a, obj);
		break;
	case AGENT_WATCH_ADDED:
	case AGENT_WATCH_MODIFIED:
		pod_seen(a, obj);
		break;
	case AGENT_WATCH_DELETED:
		pod_gone(a, obj);
		break;
	}
}

/* ---- housekeeping ----------------------------------------------------------------------- */

/* Every few seconds: deletions that could not be confirmed are tried
 * again, statuses that failed to go out are sent again. */
static int housekeeping(sk_loop *loop SK_UNUSED, void *data)
{
	agent *a = data;

	for (size_t i = 0; i < a->pods_cap; i++) {
		pod *p = a->pods[i];
		if (!p)
			continue;
		if (p->stage == STAGE_KILLING && !p->job && !p->hooks_running && p->in_api) {
			struct kill_job *j = sk_calloc(1, sizeof(*j));
			j->p = p;
			j->id = sk_strdup(p->id);
			j->uid = sk_strdup(p->uid);
			j->ns = sk_strdup(p->ns);
			j->name = sk_strdup(p->name);
			p->job = true;
			agent_pool_submit(a->fast, confirm_run, confirm_done, j);
		} else if (p->stage == STAGE_ACTIVE && p->status_pending && !p->status_inflight) {
			status_send(p);
		}
	}
	a->housekeeping_timer = sk_loop_add_timer(a->loop, HOUSEKEEPING_MS, housekeeping, a);
	return 0;
}

int agent_pods_init(agent *a, sk_err *err)
{
	a->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (a->inotify_fd < 0)
		return sk_err_sys(err, errno, "inotify_init1");
	if (sk_loop_add_fd(a->loop, a->inotify_fd, EPOLLIN, on_inotify, a, err) < 0)
		return -1;
	table_grow(a);
	a->housekeeping_timer = sk_loop_add_timer(a->loop, HOUSEKEEPING_MS, housekeeping, a);
	return 0;
}

void agent_pods_free(agent *a)
{
	for (size_t i = 0; i < a->pods_cap; i++)
		if (a->pods[i])
			pod_free(a->pods[i]);
	free(a->pods);
	a->pods = NULL;
	a->pods_cap = a->pods_n = 0;
	if (a->inotify_fd >= 0)
		close(a->inotify_fd);
	a->inotify_fd = -1;
}
