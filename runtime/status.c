/* Pod and container status: the kubelet's phase rules, kubectl's STATUS
 * word, and the text form the supervisor writes to its state file and
 * answers on its socket. */
#include "runtime_internal.h"

#include <errno.h>
#include <string.h>

static const char *const phase_names[] = {"Pending", "Running", "Succeeded", "Failed", "Unknown"};
static const char *const state_names[] = {"waiting", "running", "terminated"};

const char *rt_phase_name(enum rt_pod_phase phase)
{
	return phase_names[phase];
}

const char *rt_state_name(enum rt_container_state state)
{
	return state_names[state];
}

void rt_terminated_clear(struct rt_terminated *t)
{
	free(t->reason);
	free(t->message);
	memset(t, 0, sizeof(*t));
}

static void container_status_clear(struct rt_container_status *c)
{
	free(c->name);
	free(c->image);
	free(c->reason);
	free(c->message);
	rt_terminated_clear(&c->last_state);
	memset(c, 0, sizeof(*c));
}

void rt_pod_status_free(struct rt_pod_status *st)
{
	if (!st)
		return;
	free(st->id);
	free(st->name);
	free(st->namespace);
	free(st->uid);
	free(st->pod_ip);
	for (size_t i = 0; i < st->n_init_containers; i++)
		container_status_clear(&st->init_containers[i]);
	free(st->init_containers);
	for (size_t i = 0; i < st->n_containers; i++)
		container_status_clear(&st->containers[i]);
	free(st->containers);
	memset(st, 0, sizeof(*st));
}

/* The kubelet's getPhase(): init containers first; a container waiting
 * after a termination (back-off) counts as stopped, not waiting. */
enum rt_pod_phase rt_pod_phase_compute(const struct rt_pod_status *st, enum rt_restart_policy p)
{
	size_t running = 0, waiting = 0, stopped = 0, succeeded = 0;

	for (size_t i = 0; i < st->n_init_containers; i++) {
		const struct rt_container_status *c = &st->init_containers[i];
		if (c->state == RT_TERMINATED && c->exit_code == 0)
			continue;
		if (c->state == RT_TERMINATED && p == RT_RESTART_NEVER)
			return RT_PHASE_FAILED;
		return RT_PHASE_PENDING;
	}
	for (size_t i = 0; i < st->n_containers; i++) {
		const struct rt_container_status *c = &st->containers[i];
		if (c->state == RT_RUNNING) {
			running++;
		} else if (c->state == RT_TERMINATED) {
			stopped++;
			if (c->exit_code == 0)
				succeeded++;
		} else if (c->has_last_state) {
			stopped++;
		} else {
			waiting++;
		}
	}
	if (waiting)
		return RT_PHASE_PENDING;
	if (running)
		return RT_PHASE_RUNNING;
	if (!stopped)
		return RT_PHASE_PENDING;
	if (st->stopping)
		return stopped == succeeded ? RT_PHASE_SUCCEEDED : RT_PHASE_FAILED;
	if (p == RT_RESTART_ALWAYS)
		return RT_PHASE_RUNNING;
	if (stopped == succeeded)
		return RT_PHASE_SUCCEEDED;
	if (p == RT_RESTART_NEVER)
		return RT_PHASE_FAILED;
	return RT_PHASE_RUNNING;
}

/* kubectl get pods' STATUS column, in short. */
const char *rt_pod_status_summary(const struct rt_pod_status *st)
{
	if (!st->supervisor_alive &&
	    (st->phase == RT_PHASE_PENDING || st->phase == RT_PHASE_RUNNING))
		return "Unknown";
	if (st->stopping && st->supervisor_alive &&
	    (st->phase == RT_PHASE_RUNNING || st->phase == RT_PHASE_PENDING))
		return "Terminating";
	for (size_t i = 0; i < st->n_init_containers; i++) {
		const struct rt_container_status *c = &st->init_containers[i];
		if (c->state == RT_TERMINATED && c->exit_code == 0)
			continue;
		if (c->state == RT_WAITING && c->reason && strcmp(c->reason, "PodInitializing") &&
		    strcmp(c->reason, "ContainerCreating"))
			return "Init:CrashLoopBackOff";
		if (c->state == RT_TERMINATED)
			return "Init:Error";
		return "Init";
	}
	const char *reason = NULL;
	for (size_t i = 0; i < st->n_containers; i++) {
		const struct rt_container_status *c = &st->containers[i];
		if (c->state == RT_WAITING && c->reason)
			reason = c->reason;
		else if (c->state == RT_TERMINATED && c->reason && !reason)
			reason = c->reason;
	}
	if (st->phase == RT_PHASE_RUNNING || st->phase == RT_PHASE_PENDING)
		return reason && st->phase == RT_PHASE_PENDING	       ? reason
		       : reason && !strcmp(reason, "CrashLoopBackOff") ? reason
								       : rt_phase_name(st->phase);
	if (st->phase == RT_PHASE_SUCCEEDED)
		return "Completed";
	return reason ? reason : rt_phase_name(st->phase);
}

/* ---- text form ----------------------------------------------------------------- */

static void write_terminated(sk_buf *b, const char *key, const struct rt_terminated *t)
{
	char code[16], sig[16], started[24], finished[24];
	char *tok[6] = {code,
			sig,
			started,
			finished,
			t->reason ? t->reason : "",
			t->message ? t->message : ""};

	snprintf(code, sizeof(code), "%d", t->exit_code);
	snprintf(sig, sizeof(sig), "%d", t->signal);
	snprintf(started, sizeof(started), "%lld", (long long)t->started_at);
	snprintf(finished, sizeof(finished), "%lld", (long long)t->finished_at);
	rt_rec_line(b, key, tok, 6);
}

static void write_container(sk_buf *b, const struct rt_container_status *c)
{
	struct rt_terminated now = {c->exit_code, c->signal,	 c->reason,
				    c->message,	  c->started_at, c->finished_at};

	rt_rec_str(b, c->init ? "init_container" : "container", c->name);
	rt_rec_str(b, "image", c->image);
	rt_rec_str(b, "state", rt_state_name(c->state));
	write_terminated(b, "detail", &now);
	rt_rec_int(b, "restart_count", c->restart_count);
	rt_rec_int(b, "pid", c->pid);
	if (c->has_last_state)
		write_terminated(b, "last_state", &c->last_state);
}

char *rt_pod_status_serialize(const struct rt_pod_status *st)
{
	sk_buf b;

	sk_buf_init(&b);
	rt_rec_str(&b, "skiff-status", "1");
	rt_rec_str(&b, "id", st->id);
	rt_rec_str(&b, "name", st->name);
	rt_rec_str(&b, "namespace", st->namespace);
	rt_rec_str(&b, "uid", st->uid);
	rt_rec_str(&b, "pod_ip", st->pod_ip);
	rt_rec_str(&b, "phase", rt_phase_name(st->phase));
	rt_rec_int(&b, "stopping", st->stopping);
	rt_rec_int(&b, "supervisor_pid", st->supervisor_pid);
	rt_rec_int(&b, "created_at", st->created_at);
	for (size_t i = 0; i < st->n_init_containers; i++)
		write_container(&b, &st->init_containers[i]);
	for (size_t i = 0; i < st->n_containers; i++)
		write_container(&b, &st->containers[i]);
	sk_buf_puts(&b, "end\n");
	return sk_buf_steal(&b);
}

static int parse_terminated(const struct rt_rec_reader *r, struct rt_terminated *t, sk_err *err)
{
	int64_t v[4];

	if (r->n < 7)
		return sk_err_set(err, EINVAL, "line %d: short %s line", r->lineno, r->tok[0]);
	for (int i = 0; i < 4; i++)
		if (rt_rec_int_arg(r, (size_t)i + 1, &v[i], err) < 0)
			return -1;
	rt_terminated_clear(t);
	t->exit_code = (int)v[0];
	t->signal = (int)v[1];
	t->started_at = v[2];
	t->finished_at = v[3];
	t->reason = r->tok[5][0] ? sk_strdup(r->tok[5]) : NULL;
	t->message = r->tok[6][0] ? sk_strdup(r->tok[6]) : NULL;
	return 0;
}

static struct rt_container_status *add_status(struct rt_pod_status *st, bool init)
{
	struct rt_container_status **arr = init ? &st->init_containers : &st->containers;
	size_t *n = init ? &st->n_init_containers : &st->n_containers;

	*arr = sk_realloc(*arr, (*n + 1) * sizeof(**arr));
	memset(&(*arr)[*n], 0, sizeof(**arr));
	(*arr)[*n].init = init;
	return &(*arr)[(*n)++];
}

static int parse_container_key(const struct rt_rec_reader *r, struct rt_container_status *c,
			       sk_err *err)
{
	const char *k = r->tok[0];
	int64_t v;

	if (!strcmp(k, "image")) {
		c->image = rt_rec_dup_arg(r, 1);
	} else if (!strcmp(k, "state")) {
		for (int i = 0; i < 3; i++)
			if (r->n > 1 && !strcmp(r->tok[1], state_names[i]))
				c->state = (enum rt_container_state)i;
	} else if (!strcmp(k, "detail")) {
		struct rt_terminated t = {0};
		if (parse_terminated(r, &t, err) < 0)
			return -1;
		c->exit_code = t.exit_code;
		c->signal = t.signal;
		c->started_at = t.started_at;
		c->finished_at = t.finished_at;
		c->reason = t.reason;
		c->message = t.message;
	} else if (!strcmp(k, "last_state")) {
		if (parse_terminated(r, &c->last_state, err) < 0)
			return -1;
		c->has_last_state = true;
	} else if (!strcmp(k, "restart_count") || !strcmp(k, "pid")) {
		if (rt_rec_int_arg(r, 1, &v, err) < 0)
			return -1;
		if (k[0] == 'r')
			c->restart_count = (int)v;
		else
			c->pid = (pid_t)v;
	}
	return 0; /* unknown keys are skipped: newer supervisors may add some */
}

static int parse_pod_key(const struct rt_rec_reader *r, struct rt_pod_status *st, sk_err *err)
{
	const char *k = r->tok[0];
	char **strs[] = {&st->id, &st->name, &st->namespace, &st->uid, &st->pod_ip};
	static const char *const keys[] = {"id", "name", "namespace", "uid", "pod_ip"};
	int64_t v;

	for (size_t i = 0; i < SK_ARRAY_SIZE(keys); i++) {
		if (!strcmp(k, keys[i])) {
			free(*strs[i]);
			*strs[i] = rt_rec_dup_arg(r, 1);
			return 0;
		}
	}
	if (!strcmp(k, "phase")) {
		st->phase = RT_PHASE_UNKNOWN;
		for (int i = 0; i < 5; i++)
			if (r->n > 1 && !strcmp(r->tok[1], phase_names[i]))
				st->phase = (enum rt_pod_phase)i;
	} else if (!strcmp(k, "stopping") || !strcmp(k, "supervisor_pid") ||
		   !strcmp(k, "created_at")) {
		if (rt_rec_int_arg(r, 1, &v, err) < 0)
			return -1;
		if (k[0] == 's' && k[1] == 't')
			st->stopping = v != 0;
		else if (k[0] == 's')
			st->supervisor_pid = (pid_t)v;
		else
			st->created_at = v;
	}
	return 0;
}

int rt_pod_status_parse(char *text, struct rt_pod_status *st, sk_err *err)
{
	struct rt_container_status *cur = NULL;
	struct rt_rec_reader r;
	bool ended = false;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	rt_rec_reader_init(&r, text);
	while (ret == 0 && rt_rec_next(&r)) {
		const char *k = r.tok[0];
		if (!strcmp(k, "end")) {
			ended = true;
			break;
		}
		if (!strcmp(k, "container") || !strcmp(k, "init_container")) {
			cur = add_status(st, k[0] == 'i');
			cur->name = rt_rec_dup_arg(&r, 1);
			continue;
		}
		ret = cur ? parse_container_key(&r, cur, err) : parse_pod_key(&r, st, err);
	}
	rt_rec_reader_free(&r);
	if (ret == 0 && !ended)
		ret = sk_err_set(err, EINVAL, "truncated status (no \"end\" line)");
	if (ret < 0)
		rt_pod_status_free(st);
	return ret;
}
