/* The agent's Node: registration (capacity from the machine, allocatable
 * minus a reserve, addresses, the agent's endpoint, nodeInfo), its
 * conditions (Ready, MemoryPressure, DiskPressure, PIDPressure), the
 * heartbeat through a Lease in kube-node-lease every 10 seconds, and the
 * pod CIDR the server hands out (spec.podCIDR), which brings the node's
 * network up. */
#include "agent_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#define AGENT_VERSION "v1.33.0+skiff"
#define LEASE_RENEW_MS 10000
#define LEASE_DURATION_S 40
#define STATUS_CHECK_MS 10000
#define STATUS_REPORT_S 60
/* kube-reserved + system-reserved and the hard eviction threshold, as a
 * small kubelet would run with them */
#define RESERVED_CPU_MILLI 100
#define RESERVED_MEMORY (256LL << 20)
#define EVICTION_MEMORY (100LL << 20)
#define DISK_PRESSURE_PERCENT 10

/* ---- the machine ------------------------------------------------------------- */

static int64_t meminfo(const char *key)
{
	_cleanup_free_ char *text = NULL;
	size_t klen = strlen(key);
	sk_err e;

	if (sk_read_file("/proc/meminfo", 1 << 16, &text, NULL, &e) < 0)
		return 0;
	for (char *line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, key, klen) && line[klen] == ':')
			return strtoll(line + klen + 1, NULL, 10) * 1024;
	return 0;
}

static char *read_line(const char *path)
{
	char *text = NULL;
	sk_err e;

	if (sk_read_file(path, 1 << 16, &text, NULL, &e) < 0)
		return sk_strdup("");
	text[strcspn(text, "\n")] = '\0';
	return text;
}

static char *os_image(void)
{
	_cleanup_free_ char *text = NULL;
	sk_err e;

	if (sk_read_file("/etc/os-release", 1 << 16, &text, NULL, &e) == 0) {
		char *p = strstr(text, "PRETTY_NAME=");
		if (p) {
			p += strlen("PRETTY_NAME=");
			if (*p == '"')
				p++;
			p[strcspn(p, "\"\n")] = '\0';
			return sk_strdup(p);
		}
	}
	return sk_strdup("Linux");
}

static const char *data_path(agent *a)
{
	return a->cfg.pod_data_dir ? a->cfg.pod_data_dir : "/";
}

static int64_t disk_capacity(agent *a, int64_t *avail)
{
	struct statvfs sv;

	*avail = 0;
	if (statvfs(data_path(a), &sv) < 0 && statvfs("/", &sv) < 0)
		return 0;
	*avail = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
	return (int64_t)sv.f_blocks * (int64_t)sv.f_frsize;
}

static json_t *ki(int64_t bytes)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lldKi", (long long)(bytes / 1024));
	return json_string(buf);
}

static void resources(agent *a, json_t **capacity, json_t **allocatable)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int64_t mem = meminfo("MemTotal"), avail;
	int64_t disk = disk_capacity(a, &avail);
	char buf[32];

	cpus = cpus > 0 ? cpus : 1;
	a->alloc_cpu_milli = cpus * 1000 - RESERVED_CPU_MILLI;
	a->alloc_memory = mem - RESERVED_MEMORY - EVICTION_MEMORY;
	if (a->alloc_memory < mem / 2)
		a->alloc_memory = mem / 2;
	*capacity = json_object();
	snprintf(buf, sizeof(buf), "%ld", cpus);
	json_object_set_new(*capacity, "cpu", json_string(buf));
	json_object_set_new(*capacity, "memory", ki(mem));
	json_object_set_new(*capacity, "pods", json_sprintf("%d", a->cfg.max_pods));
	json_object_set_new(*capacity, "ephemeral-storage", ki(disk));
	json_object_set_new(*capacity, "hugepages-2Mi", json_string("0"));
	*allocatable = json_object();
	snprintf(buf, sizeof(buf), "%lldm", (long long)a->alloc_cpu_milli);
	json_object_set_new(*allocatable, "cpu", json_string(buf));
	json_object_set_new(*allocatable, "memory", ki(a->alloc_memory));
	json_object_set_new(*allocatable, "pods", json_sprintf("%d", a->cfg.max_pods));
	json_object_set_new(*allocatable, "ephemeral-storage", ki(disk / 10 * 9));
	json_object_set_new(*allocatable, "hugepages-2Mi", json_string("0"));
}

static json_t *node_info(void)
{
	struct utsname u;
	_cleanup_free_ char *machine = read_line("/etc/machine-id");
	_cleanup_free_ char *boot = read_line("/proc/sys/kernel/random/boot_id");
	_cleanup_free_ char *uuid = read_line("/sys/class/dmi/id/product_uuid");
	_cleanup_free_ char *os = os_image();

	uname(&u);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "machineID", machine,
			 "systemUUID", *uuid ? uuid : machine, "bootID", boot, "kernelVersion",
			 u.release, "osImage", os, "containerRuntimeVersion", "skiff://0.1",
			 "kubeletVersion", AGENT_VERSION, "kubeProxyVersion", AGENT_VERSION,
			 "operatingSystem", "linux", "architecture",
			 !strcmp(u.machine, "x86_64")	 ? "amd64"
			 : !strcmp(u.machine, "aarch64") ? "arm64"
							 : u.machine);
}

/* ---- conditions ---------------------------------------------------------------- */

static json_t *old_condition(agent *a, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach (api_get(a->node, "status.conditions"), i, c)
		if (sk_streq(json_string_value(json_object_get(c, "type")), type))
			return c;
	return NULL;
}

static json_t *condition(agent *a, const char *type, bool status, const char *reason,
			 const char *message, const char *now)
{
	json_t *old = old_condition(a, type);
	const char *val = status ? "True" : "False";
	json_t *ltt = old ? json_object_get(old, "lastTransitionTime") : NULL;
	bool same = old && sk_streq(json_string_value(json_object_get(old, "status")), val) &&
		    json_is_string(ltt);

	return json_pack("{s:s,s:s,s:s,s:o,s:s,s:s}", "type", type, "status", val,
			 "lastHeartbeatTime", now, "lastTransitionTime",
			 same ? json_incref(ltt) : json_string(now), "reason", reason, "message",
			 message);
}

static bool pid_pressure(void)
{
	_cleanup_free_ char *load = read_line("/proc/loadavg");
	_cleanup_free_ char *max = read_line("/proc/sys/kernel/pid_max");
	char *slash = strchr(load, '/');
	long long total = slash ? strtoll(slash + 1, NULL, 10) : 0;
	long long limit = strtoll(max, NULL, 10);

	return limit > 0 && total > limit / 10 * 9;
}

static json_t *conditions(agent *a, const char *now)
{
	json_t *list = json_array();
	int64_t avail_disk, disk = disk_capacity(a, &avail_disk);
	bool mem = meminfo("MemAvailable") < EVICTION_MEMORY;
	bool dsk = disk > 0 && avail_disk * 100 / disk < DISK_PRESSURE_PERCENT;
	bool pid = pid_pressure();

	json_array_append_new(
		list, condition(a, "MemoryPressure", mem,
				mem ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
				mem ? "kubelet has insufficient memory available"
				    : "kubelet has sufficient memory available",
				now));
	json_array_append_new(
		list,
		condition(a, "DiskPressure", dsk,
			  dsk ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
			  dsk ? "kubelet has disk pressure" : "kubelet has no disk pressure", now));
	json_array_append_new(
		list, condition(a, "PIDPressure", pid,
				pid ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
				pid ? "kubelet has insufficient PID available"
				    : "kubelet has sufficient PID available",
				now));
	if (a->net_ready)
		json_array_append_new(list, condition(a, "Ready", true, "KubeletReady",
						      "kubelet is posting ready status", now));
	else
		json_array_append_new(
			list, condition(a, "Ready", false, "KubeletNotReady",
					"container runtime network not ready: NetworkReady=false "
					"reason:NetworkPluginNotReady message:the node has no pod "
					"CIDR yet",
					now));
	return list;
}

static json_t *node_status(agent *a)
{
	char now[32];
	json_t *capacity, *allocatable;
	json_t *st = json_object();

	sk_rfc3339(sk_now_ns() / 1000000000LL, now, sizeof(now));
	resources(a, &capacity, &allocatable);
	json_object_set_new(st, "capacity", capacity);
	json_object_set_new(st, "allocatable", allocatable);
	json_object_set_new(st, "conditions", conditions(a, now));
	json_object_set_new(st, "addresses",
			    json_pack("[{s:s,s:s},{s:s,s:s}]", "type", "InternalIP", "address",
				      a->host_ip, "type", "Hostname", "address", a->node_name));
	json_object_set_new(st, "daemonEndpoints",
			    json_pack("{s:{s:i}}", "kubeletEndpoint", "Port", a->port));
	json_object_set_new(st, "nodeInfo", node_info());
	return st;
}

/* Equal but for the heartbeat times. */
static bool status_same(json_t *a, json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b), *c;
	size_t i;
	bool same;

	json_array_foreach (json_object_get(x, "conditions"), i, c)
		json_object_del(c, "lastHeartbeatTime");
	json_array_foreach (json_object_get(y, "conditions"), i, c)
		json_object_del(c, "lastHeartbeatTime");
	same = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}

/* ---- registration ----------------------------------------------------------------- */

static json_t *node_labels(agent *a)
{
	json_t *l = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kubernetes.io/hostname", a->node_name,
			      "kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64",
			      "beta.kubernetes.io/os", "linux", "beta.kubernetes.io/arch", "amd64");

	for (size_t i = 0; a->cfg.labels && a->cfg.labels[i]; i++) {
		const char *eq = strchr(a->cfg.labels[i], '=');
		_cleanup_free_ char *k =
			eq ? sk_strndup(a->cfg.labels[i], (size_t)(eq - a->cfg.labels[i]))
			   : sk_strdup(a->cfg.labels[i]);
		json_object_set_new(l, k, json_string(eq ? eq + 1 : ""));
	}
	return l;
}

static void take_node(agent *a, json_t *node)
{
	json_decref(a->node);
	a->node = node;
	if (!a->pod_cidr) {
		const char *cidr = api_get_str(node, "spec.podCIDR");
		if (cidr && *cidr)
			a->pod_cidr = sk_strdup(cidr);
	}
}

/* The Node as the agent registers it (status comes separately). */
static json_t *node_object(agent *a)
{
	json_t *node =
		json_pack("{s:s,s:s,s:{s:s,s:o},s:{}}", "apiVersion", "v1", "kind", "Node",
			  "metadata", "name", a->node_name, "labels", node_labels(a), "spec");

	if (a->cfg.pod_cidr) {
		api_set_str(node, "spec.podCIDR", a->cfg.pod_cidr);
		api_set(node, "spec.podCIDRs", json_pack("[s]", a->cfg.pod_cidr));
	}
	return node;
}

int agent_node_register(agent *a, sk_err *err)
{
	_cleanup_free_ char *path = sk_asprintf("/api/v1/nodes/%s", a->node_name);
	_cleanup_free_ char *spath = sk_asprintf("%s/status", path);
	json_t *node = node_object(a);
	json_t *out = NULL, *st;
	int r;

	r = agent_api(a->http, "POST", "/api/v1/nodes", NULL, node, &out, err);
	if (r < 0 && err->code == 409) {
		/* registered before: keep what the server set, refresh labels */
		json_t *patch =
			json_pack("{s:{s:O}}", "metadata", "labels",
				  json_object_get(json_object_get(node, "metadata"), "labels"));
		if (a->cfg.pod_cidr)
			json_object_set(patch, "spec", json_object_get(node, "spec"));
		r = agent_api_merge_patch(a->http, path, patch, &out, err);
		json_decref(patch);
	}
	json_decref(node);
	if (r < 0)
		return sk_err_wrap(err, "register node %s", a->node_name);
	take_node(a, out);
	st = node_status(a);
	json_t *patch = json_pack("{s:o}", "status", st);
	r = agent_api_merge_patch(a->http, spath, patch, &out, err);
	if (r == 0) {
		take_node(a, out);
		a->node_status_sent = json_incref(st);
		a->node_status_sent_ns = sk_monotonic_ns();
	}
	json_decref(patch);
	return r < 0 ? sk_err_wrap(err, "status of node %s", a->node_name) : 0;
}

void agent_node_on_watch(agent *a, enum agent_watch_type type, json_t *obj, void *data SK_UNUSED)
{
	json_t *node = NULL;
	bool had_cidr = a->pod_cidr != NULL;

	if (type == AGENT_WATCH_DELETED &&
	    sk_streq(api_get_str(obj, "metadata.name"), a->node_name)) {
		/* the next heartbeat registers it again */
		json_decref(a->node_status_sent);
		a->node_status_sent = NULL;
		agent_node_status_kick(a);
		return;
	}
	if (type == AGENT_WATCH_SYNC)
		node = json_array_get(obj, 0);
	else if (type != AGENT_WATCH_DELETED)
		node = obj;
	if (!node || !sk_streq(api_get_str(node, "metadata.name"), a->node_name))
		return;
	take_node(a, json_incref(node));
	if (!had_cidr && a->pod_cidr)
		agent_network_up(a);
}

/* ---- heartbeat ---------------------------------------------------------------------- */

struct beat_job {
	char *name;
	json_t *node;	/* the Node to register again if it was deleted */
	json_t *status; /* node status patch, or NULL */
	bool lease_ok, status_ok;
	json_t *node_out;
};

static char *micro_time(void)
{
	char buf[40];

	sk_rfc3339_nano(sk_now_ns(), buf, sizeof(buf));
	/* MicroTime: six digits of fraction */
	char *dot = strchr(buf, '.');
	if (dot && strlen(dot) > 7)
		strcpy(dot + 7, "Z");
	return sk_strdup(buf);
}

static void renew_lease(sk_http *h, const char *name, bool *ok)
{
	_cleanup_free_ char *path = sk_asprintf(
		"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", name);
	_cleanup_free_ char *now = micro_time();
	json_t *spec = json_pack("{s:s,s:i,s:s}", "holderIdentity", name, "leaseDurationSeconds",
				 LEASE_DURATION_S, "renewTime", now);
	json_t *patch = json_pack("{s:O}", "spec", spec);
	sk_err err;

	*ok = agent_api_merge_patch(h, path, patch, NULL, &err) == 0;
	if (!*ok && err.code == 404) {
		json_t *lease =
			json_pack("{s:s,s:s,s:{s:s,s:s},s:O}", "apiVersion",
				  "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name",
				  name, "namespace", "kube-node-lease", "spec", spec);
		*ok = agent_api(h, "POST",
				"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
				NULL, lease, NULL, &err) == 0;
		json_decref(lease);
	}
	if (!*ok)
		sk_warn("agent: renew the lease of node %s: %s", name, err.msg);
	json_decref(spec);
	json_decref(patch);
}

static void beat_run(struct agent_worker *w, void *data)
{
	struct beat_job *j = data;
	sk_http *h;
	sk_err err;

	if (!(h = agent_worker_http(w, &err))) {
		sk_warn("agent: %s", err.msg);
		return;
	}
	renew_lease(h, j->name, &j->lease_ok);
	if (j->status) {
		_cleanup_free_ char *path = sk_asprintf("/api/v1/nodes/%s/status", j->name);
		json_t *patch = json_pack("{s:O}", "status", j->status);
		j->status_ok = agent_api_merge_patch(h, path, patch, &j->node_out, &err) == 0;
		if (!j->status_ok && err.code == 404) {
			/* someone deleted our Node: register again, as the kubelet */
			sk_warn("agent: node %s was deleted; registering it again", j->name);
			if (agent_api(h, "POST", "/api/v1/nodes", NULL, j->node, NULL, &err) == 0)
				j->status_ok = agent_api_merge_patch(h, path, patch, &j->node_out,
								     &err) == 0;
		}
		if (!j->status_ok)
			sk_warn("agent: status of node %s: %s", j->name, err.msg);
		json_decref(patch);
	}
}

static void beat_done(agent *a, void *data)
{
	struct beat_job *j = data;

	a->lease_inflight = false;
	if (j->status_ok) {
		json_decref(a->node_status_sent);
		a->node_status_sent = json_incref(j->status);
		a->node_status_sent_ns = sk_monotonic_ns();
		if (j->node_out)
			take_node(a, json_incref(j->node_out));
	}
	json_decref(j->node_out);
	json_decref(j->status);
	json_decref(j->node);
	free(j->name);
	free(j);
}

static void beat(agent *a)
{
	struct beat_job *j;
	json_t *st;

	if (a->lease_inflight || atomic_load(&a->stopping))
		return;
	j = sk_calloc(1, sizeof(*j));
	j->name = sk_strdup(a->node_name);
	j->node = node_object(a);
	st = node_status(a);
	if (!a->node_status_sent || !status_same(st, a->node_status_sent) ||
	    sk_monotonic_ns() - a->node_status_sent_ns > STATUS_REPORT_S * 1000000000LL)
		j->status = st;
	else
		json_decref(st);
	a->lease_inflight = true;
	agent_pool_submit(a->fast, beat_run, beat_done, j);
}

static int on_beat(sk_loop *loop SK_UNUSED, void *data)
{
	agent *a = data;

	beat(a);
	a->lease_timer = sk_loop_add_timer(a->loop, LEASE_RENEW_MS, on_beat, a);
	return 0;
}

void agent_node_start_heartbeat(agent *a)
{
	beat(a);
	a->lease_timer = sk_loop_add_timer(a->loop, LEASE_RENEW_MS, on_beat, a);
}

void agent_node_status_kick(agent *a)
{
	beat(a);
}
