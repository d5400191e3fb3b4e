/* A pod's status as the kubelet writes it (pkg/kubelet/status and
 * kubelet_pods.go's generateAPIPodStatus), computed from the runtime's
 * status and the probes' results: phase, the kubelet's conditions,
 * addresses, startTime and the container statuses. Pure: no I/O. */
#include "agent_internal.h"

#include <string.h>

char *agent_container_id(const char *pod_uid, const char *container, int restart_count)
{
	return sk_asprintf("skiff://%s/%s/%d", pod_uid ? pod_uid : "", container, restart_count);
}

static json_t *time_json(int64_t unix_sec)
{
	char buf[32];

	sk_rfc3339(unix_sec, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *ns_time_json(int64_t unix_ns)
{
	return time_json(unix_ns / 1000000000LL);
}

static const struct agent_ctr_probe_view *probe_view(const struct agent_status_input *in,
						     const char *name)
{
	for (size_t i = 0; i < in->n_probes; i++)
		if (!strcmp(in->probes[i].name, name))
			return &in->probes[i];
	return NULL;
}

/* ---- container statuses ------------------------------------------------------- */

static json_t *terminated_json(const char *pod_uid, const char *name, int restart, int exit_code,
			       int signal, const char *reason, const char *message, int64_t started,
			       int64_t finished)
{
	json_t *t = json_object();
	_cleanup_free_ char *id = agent_container_id(pod_uid, name, restart);

	json_object_set_new(t, "exitCode", json_integer(exit_code));
	if (signal)
		json_object_set_new(t, "signal", json_integer(signal));
	json_object_set_new(t, "reason", json_string(reason ? reason : "Error"));
	if (message && *message)
		json_object_set_new(t, "message", json_string(message));
	json_object_set_new(t, "startedAt", started ? ns_time_json(started) : json_null());
	json_object_set_new(t, "finishedAt", finished ? ns_time_json(finished) : json_null());
	json_object_set_new(t, "containerID", json_string(id));
	return t;
}

static json_t *waiting_json(const char *reason, const char *message)
{
	json_t *w = json_object();

	json_object_set_new(w, "reason", json_string(reason));
	if (message && *message)
		json_object_set_new(w, "message", json_string(message));
	return w;
}

static json_t *state_json(const char *uid, const struct rt_container_status *c, bool init)
{
	json_t *st = json_object();

	switch (c->state) {
	case RT_RUNNING:
		json_object_set_new(st, "running",
				    json_pack("{s:o}", "startedAt", ns_time_json(c->started_at)));
		break;
	case RT_TERMINATED:
		json_object_set_new(st, "terminated",
				    terminated_json(uid, c->name, c->restart_count, c->exit_code,
						    c->signal, c->reason, c->message, c->started_at,
						    c->finished_at));
		break;
	default:
		json_object_set_new(st, "waiting",
				    waiting_json(c->reason ? c->reason
						 : init	   ? "PodInitializing"
							   : "ContainerCreating",
						 c->message));
	}
	return st;
}

/* The last termination: lastState.terminated, with the id of that run. */
static json_t *last_state_json(const char *uid, const struct rt_container_status *c)
{
	const struct rt_terminated *t = &c->last_state;
	int run = c->state == RT_WAITING ? c->restart_count : c->restart_count - 1;

	if (!c->has_last_state)
		return json_object();
	return json_pack("{s:o}", "terminated",
			 terminated_json(uid, c->name, run < 0 ? 0 : run, t->exit_code, t->signal,
					 t->reason, t->message, t->started_at, t->finished_at));
}

static bool container_ready(const struct agent_status_input *in,
			    const struct rt_container_status *c)
{
	const struct agent_ctr_probe_view *pv = probe_view(in, c->name);

	if (c->state != RT_RUNNING || in->terminating)
		return false;
	return !pv || (pv->ready && pv->started);
}

static json_t *container_status(const struct agent_status_input *in, const char *uid,
				const struct rt_container_status *c, bool init)
{
	const struct agent_ctr_probe_view *pv = probe_view(in, c->name);
	json_t *s = json_object();
	bool ready = container_ready(in, c);
	bool started = c->state == RT_RUNNING && (!pv || pv->started);

	json_object_set_new(s, "name", json_string(c->name));
	json_object_set_new(s, "state", state_json(uid, c, init));
	json_object_set_new(s, "lastState", last_state_json(uid, c));
	json_object_set_new(s, "ready", json_boolean(ready));
	json_object_set_new(s, "restartCount", json_integer(c->restart_count));
	json_object_set_new(s, "image", json_string(c->image ? c->image : ""));
	json_object_set_new(s, "imageID", json_string(""));
	if (c->state != RT_WAITING || c->has_last_state) {
		/* waiting after a run: the id of the run that ended */
		_cleanup_free_ char *id = agent_container_id(uid, c->name, c->restart_count);
		json_object_set_new(s, "containerID", json_string(id));
	}
	json_object_set_new(s, "started", json_boolean(started));
	return s;
}

/* Before the sandbox exists, every container of the spec waits. */
static json_t *waiting_statuses(const struct agent_status_input *in, const char *key, bool init)
{
	json_t *list = json_array(), *cj;
	size_t i;
	const char *reason = in->waiting_reason ? in->waiting_reason
			     : init		? "PodInitializing"
						: "ContainerCreating";

	json_array_foreach (api_get(in->pod, key), i, cj) {
		const char *name = json_string_value(json_object_get(cj, "name"));
		const char *image = json_string_value(json_object_get(cj, "image"));
		json_t *s = json_object();
		json_object_set_new(s, "name", json_string(name ? name : ""));
		json_object_set_new(
			s, "state",
			json_pack("{s:o}", "waiting", waiting_json(reason, in->waiting_message)));
		json_object_set_new(s, "lastState", json_object());
		json_object_set_new(s, "ready", json_false());
		json_object_set_new(s, "restartCount", json_integer(0));
		json_object_set_new(s, "image", json_string(image ? image : ""));
		json_object_set_new(s, "imageID", json_string(""));
		json_object_set_new(s, "started", json_false());
		json_array_append_new(list, s);
	}
	return list;
}

/* ---- conditions ---------------------------------------------------------------- */

static json_t *old_condition(json_t *pod, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach (api_get(pod, "status.conditions"), i, c)
		if (sk_streq(json_string_value(json_object_get(c, "type")), type))
			return c;
	return NULL;
}

/* A condition; the transition time stays when the status did not change. */
static json_t *condition(const struct agent_status_input *in, const char *type, bool status,
			 const char *reason, const char *message)
{
	json_t *old = old_condition(in->pod, type);
	const char *val = status ? "True" : "False";
	json_t *c = json_object();
	json_t *ltt = old ? json_object_get(old, "lastTransitionTime") : NULL;

	json_object_set_new(c, "type", json_string(type));
	json_object_set_new(c, "status", json_string(val));
	json_object_set_new(c, "lastProbeTime", json_null());
	if (old && sk_streq(json_string_value(json_object_get(old, "status")), val) &&
	    json_is_string(ltt))
		json_object_set(c, "lastTransitionTime", ltt);
	else
		json_object_set_new(c, "lastTransitionTime", time_json(in->now));
	if (reason)
		json_object_set_new(c, "reason", json_string(reason));
	if (message)
		json_object_set_new(c, "message", json_string(message));
	return c;
}

/* "[a b]" as Go prints a []string */
static char *names_list(char **names)
{
	sk_buf b;

	sk_buf_init(&b);
	sk_buf_putc(&b, '[');
	for (size_t i = 0; names && names[i]; i++)
		sk_buf_printf(&b, "%s%s", i ? " " : "", names[i]);
	sk_buf_putc(&b, ']');
	return sk_buf_steal(&b);
}

/* Init containers that have not completed (in spec order). */
static char **uninitialized(const struct agent_status_input *in)
{
	char **names = NULL;
	json_t *cj;
	size_t i;

	json_array_foreach (api_get(in->pod, "spec.initContainers"), i, cj) {
		const char *name = json_string_value(json_object_get(cj, "name"));
		bool done = false;
		for (size_t k = 0; in->rt && k < in->rt->n_init_containers; k++) {
			const struct rt_container_status *c = &in->rt->init_containers[k];
			if (sk_streq(c->name, name))
				done = c->state == RT_TERMINATED && c->exit_code == 0;
		}
		if (!done && name)
			names = sk_strv_push(names, name);
	}
	return names;
}

static char **unready(const struct agent_status_input *in)
{
	char **names = NULL;
	json_t *cj;
	size_t i;

	json_array_foreach (api_get(in->pod, "spec.containers"), i, cj) {
		const char *name = json_string_value(json_object_get(cj, "name"));
		bool ready = false;
		for (size_t k = 0; in->rt && k < in->rt->n_containers; k++)
			if (sk_streq(in->rt->containers[k].name, name))
				ready = container_ready(in, &in->rt->containers[k]);
		if (!ready && name)
			names = sk_strv_push(names, name);
	}
	return names;
}

/* readinessGates: each condition must be True in the current status. */
static char *gates_not_ready(const struct agent_status_input *in)
{
	char **missing = NULL;
	json_t *g;
	size_t i;

	json_array_foreach (api_get(in->pod, "spec.readinessGates"), i, g) {
		const char *type = json_string_value(json_object_get(g, "conditionType"));
		json_t *c = type ? old_condition(in->pod, type) : NULL;
		if (type && !sk_streq(json_string_value(json_object_get(c, "status")), "True"))
			missing = sk_strv_push(missing, type);
	}
	if (!missing)
		return NULL;
	_cleanup_free_ char *list = names_list(missing);
	sk_strv_free(missing);
	return sk_asprintf("corresponding condition of pod readiness gate %s does not exist, "
			   "or is not True",
			   list);
}

static const char *const kubelet_conditions[] = {"PodReadyToStartContainers", "Initialized",
						 "Ready", "ContainersReady", "PodScheduled"};

static bool kubelet_owned(const char *type)
{
	for (size_t i = 0; i < SK_ARRAY_SIZE(kubelet_conditions); i++)
		if (sk_streq(type, kubelet_conditions[i]))
			return true;
	return false;
}

static json_t *conditions(const struct agent_status_input *in, const char *phase)
{
	json_t *list = json_array(), *c;
	bool completed = !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed");
	_cleanup_strv_ char **init = uninitialized(in);
	_cleanup_strv_ char **notready = unready(in);
	_cleanup_free_ char *init_msg = NULL, *ready_msg = NULL;
	_cleanup_free_ char *gates = gates_not_ready(in);
	size_t i;

	json_array_append_new(
		list, condition(in, "PodReadyToStartContainers", in->sandbox_ready, NULL, NULL));
	if (init && !completed) {
		_cleanup_free_ char *l = names_list(init);
		init_msg = sk_asprintf("containers with incomplete status: %s", l);
	}
	json_array_append_new(list,
			      condition(in, "Initialized", !init_msg,
					init_msg ? "ContainersNotInitialized" : NULL, init_msg));
	if (notready && !completed) {
		_cleanup_free_ char *l = names_list(notready);
		ready_msg = sk_asprintf("containers with unready status: %s", l);
	}
	const char *reason = completed ? "PodCompleted" : ready_msg ? "ContainersNotReady" : NULL;
	bool cready = !completed && !ready_msg;
	json_array_append_new(list, condition(in, "Ready", cready && !gates,
					      cready && gates ? "ReadinessGatesNotReady" : reason,
					      cready ? gates : ready_msg));
	json_array_append_new(list, condition(in, "ContainersReady", cready, reason, ready_msg));
	c = old_condition(in->pod, "PodScheduled");
	json_array_append_new(list, c ? json_deep_copy(c)
				      : condition(in, "PodScheduled", true, NULL, NULL));
	/* conditions others own (readiness gates, DisruptionTarget) stay */
	json_array_foreach (api_get(in->pod, "status.conditions"), i, c)
		if (!kubelet_owned(json_string_value(json_object_get(c, "type"))))
			json_array_append(list, c);
	return list;
}

/* ---- the whole status ------------------------------------------------------------ */

static const char *phase_name(const struct agent_status_input *in)
{
	if (!in->rt)
		return "Pending";
	switch (in->rt->phase) {
	case RT_PHASE_RUNNING:
		return "Running";
	case RT_PHASE_SUCCEEDED:
		return "Succeeded";
	case RT_PHASE_FAILED:
		return "Failed";
	case RT_PHASE_UNKNOWN:
		return "Unknown";
	default:
		return "Pending";
	}
}

static json_t *ip_list(const char *ip)
{
	return json_pack("[{s:s}]", "ip", ip);
}

static json_t *rt_statuses(const struct agent_status_input *in, bool init)
{
	json_t *list = json_array();
	const char *uid = api_get_str(in->pod, "metadata.uid");
	size_t n = init ? in->rt->n_init_containers : in->rt->n_containers;

	for (size_t i = 0; i < n; i++) {
		const struct rt_container_status *c =
			init ? &in->rt->init_containers[i] : &in->rt->containers[i];
		json_array_append_new(list, container_status(in, uid, c, init));
	}
	return list;
}

json_t *agent_pod_status(const struct agent_status_input *in)
{
	json_t *st = json_object();
	const char *phase = phase_name(in);
	bool has_init = json_array_size(api_get(in->pod, "spec.initContainers")) > 0;

	json_object_set_new(st, "phase", json_string(phase));
	json_object_set_new(st, "conditions", conditions(in, phase));
	if (in->host_ip) {
		json_object_set_new(st, "hostIP", json_string(in->host_ip));
		json_object_set_new(st, "hostIPs", ip_list(in->host_ip));
	}
	if (in->pod_ip) {
		json_object_set_new(st, "podIP", json_string(in->pod_ip));
		json_object_set_new(st, "podIPs", ip_list(in->pod_ip));
	}
	if (in->start_time)
		json_object_set_new(st, "startTime", time_json(in->start_time));
	if (in->rt && !in->waiting_reason) {
		if (has_init)
			json_object_set_new(st, "initContainerStatuses", rt_statuses(in, true));
		json_object_set_new(st, "containerStatuses", rt_statuses(in, false));
	} else {
		if (has_init)
			json_object_set_new(st, "initContainerStatuses",
					    waiting_statuses(in, "spec.initContainers", true));
		json_object_set_new(st, "containerStatuses",
				    waiting_statuses(in, "spec.containers", false));
	}
	json_t *qos = api_get(in->pod, "status.qosClass");
	if (json_is_string(qos))
		json_object_set(st, "qosClass", qos);
	return st;
}
