/* Server-side printing: meta.k8s.io/v1 Tables with the columns and cells
 * of the apiserver's printers (pkg/printers/internalversion/printers.go,
 * always "wide", as the server renders them), the pod STATUS column, and
 * kubectl's human durations. */
#include "api_internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define DESC_NAME                                                                                \
	"Name must be unique within a namespace. Is required when creating resources, although " \
	"some resources may allow a client to request the generation of an appropriate name "    \
	"automatically. Name is primarily intended for creation idempotence and configuration "  \
	"definition. Cannot be updated. More info: "                                             \
	"https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define DESC_AGE                                                                                   \
	"CreationTimestamp is a timestamp representing the server time when this object was "      \
	"created. It is not guaranteed to be set in happens-before order across separate "         \
	"operations. Clients may not set this value. It is represented in RFC3339 form and is in " \
	"UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "                  \
	"https://git.k8s.io/community/contributors/devel/sig-architecture/"                        \
	"api-conventions.md#metadata"

struct column {
	const char *name;
	const char *type;
	int priority;
	const char *desc;
};

#define NAME_COL                               \
	{                                      \
		"Name", "string", 0, DESC_NAME \
	}
#define AGE_COL                              \
	{                                    \
		"Age", "string", 0, DESC_AGE \
	}
#define END_COL                     \
	{                           \
		NULL, NULL, 0, NULL \
	}

static const struct column POD_COLS[] = {
	NAME_COL,
	{"Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."},
	{"Status", "string", 0, "The aggregate status of the containers in this pod."},
	{"Restarts", "string", 0,
	 "The number of times the containers in this pod have been restarted and when the last "
	 "container in this pod has restarted."},
	AGE_COL,
	{"IP", "string", 1,
	 "podIP address allocated to the pod. Routable at least within the cluster."},
	{"Node", "string", 1, "NodeName indicates in which node this pod is scheduled."},
	{"Nominated Node", "string", 1,
	 "nominatedNodeName is set only when this pod preempts other pods on the node."},
	{"Readiness Gates", "string", 1,
	 "If specified, all readiness gates will be evaluated for pod readiness."},
	END_COL};
static const struct column SVC_COLS[] = {
	NAME_COL,
	{"Type", "string", 0, "type determines how the Service is exposed."},
	{"Cluster-IP", "string", 0, "clusterIP is the IP address of the service."},
	{"External-IP", "string", 0,
	 "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
	 "traffic for this service."},
	{"Port(s)", "string", 0, "The list of ports that are exposed by this service."},
	AGE_COL,
	{"Selector", "string", 1,
	 "Route service traffic to pods with label keys and values matching this selector."},
	END_COL};
static const struct column DEPLOY_COLS[] = {
	NAME_COL,
	{"Ready", "string", 0, "Number of the pod with ready state"},
	{"Up-to-date", "string", 0,
	 "Total number of non-terminated pods targeted by this deployment that have the desired "
	 "template spec."},
	{"Available", "string", 0,
	 "Total number of available pods (ready for at least minReadySeconds) targeted by this "
	 "deployment."},
	AGE_COL,
	{"Containers", "string", 1, "Names of each container in the template."},
	{"Images", "string", 1, "Images referenced by each container in the template."},
	{"Selector", "string", 1, "Label selector for pods."},
	END_COL};
static const struct column RS_COLS[] = {
	NAME_COL,
	{"Desired", "integer", 0, "Replicas is the number of desired replicas."},
	{"Current", "integer", 0, "Replicas is the most recently observed number of replicas."},
	{"Ready", "integer", 0,
	 "readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition."},
	AGE_COL,
	{"Containers", "string", 1, "Names of each container in the template."},
	{"Images", "string", 1, "Images referenced by each container in the template."},
	{"Selector", "string", 1,
	 "Selector is a label query over pods that should match the replica count."},
	END_COL};
static const struct column NODE_COLS[] = {
	NAME_COL,
	{"Status", "string", 0, "The status of the node"},
	{"Roles", "string", 0, "The roles of the node"},
	AGE_COL,
	{"Version", "string", 0, "Kubelet Version reported by the node."},
	{"Internal-IP", "string", 1, "List of addresses reachable to the node."},
	{"External-IP", "string", 1, "List of addresses reachable to the node."},
	{"OS-Image", "string", 1,
	 "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."},
	{"Kernel-Version", "string", 1,
	 "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."},
	{"Container-Runtime", "string", 1,
	 "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
	 "containerd://1.4.2)."},
	END_COL};
static const struct column NS_COLS[] = {
	NAME_COL, {"Status", "string", 0, "The status of the namespace"}, AGE_COL, END_COL};
static const struct column EP_COLS[] = {
	NAME_COL,
	{"Endpoints", "string", 0, "The set of all endpoints is the union of all subsets."},
	AGE_COL,
	END_COL};
static const struct column CM_COLS[] = {
	NAME_COL, {"Data", "string", 0, "Data contains the configuration data."}, AGE_COL, END_COL};
static const struct column SECRET_COLS[] = {
	NAME_COL,
	{"Type", "string", 0, "Used to facilitate programmatic handling of secret data."},
	{"Data", "string", 0, "Data contains the secret data."},
	AGE_COL,
	END_COL};
static const struct column EVENT_COLS[] = {
	{"Last Seen", "string", 0,
	 "The time at which the most recent occurrence of this event was recorded."},
	{"Type", "string", 0,
	 "Type of this event (Normal, Warning), new types could be added in the future"},
	{"Reason", "string", 0,
	 "This should be a short, machine understandable string that gives the reason for the "
	 "transition into the object's current status."},
	{"Object", "string", 0, "The object that this event is about."},
	{"Subobject", "string", 1,
	 "If referring to a piece of an object instead of an entire object, this string should "
	 "contain a valid JSON/Go field access statement, such as "
	 "desiredState.manifest.containers[2]."},
	{"Source", "string", 1,
	 "The component reporting this event. Should be a short machine understandable string."},
	{"Message", "string", 0, "A human-readable description of the status of this operation."},
	{"First Seen", "string", 1,
	 "The time at which the event was first recorded. (Time of server receipt is in "
	 "TypeMeta.)"},
	{"Count", "string", 1, "The number of times this event has occurred."},
	{"Name", "string", 1, DESC_NAME},
	END_COL};
static const struct column PV_COLS[] = {
	NAME_COL,
	{"Capacity", "string", 0,
	 "capacity is the description of the persistent volume's resources and capacity."},
	{"Access Modes", "string", 0, "accessModes contains all ways the volume can be mounted."},
	{"Reclaim Policy", "string", 0,
	 "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released "
	 "from its claim."},
	{"Status", "string", 0,
	 "phase indicates if a volume is available, bound to a claim, or released by a claim."},
	{"Claim", "string", 0,
	 "claimRef is part of a bi-directional binding between PersistentVolume and "
	 "PersistentVolumeClaim."},
	{"StorageClass", "string", 0, "StorageClass of the pv"},
	{"VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pv"},
	{"Reason", "string", 0,
	 "reason is a brief CamelCase string that describes any failure and is meant for machine "
	 "parsing and tidy display in the CLI."},
	AGE_COL,
	{"VolumeMode", "string", 1,
	 "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
	 "remain in raw block state."},
	END_COL};
static const struct column PVC_COLS[] = {
	NAME_COL,
	{"Status", "string", 0, "phase represents the current phase of PersistentVolumeClaim."},
	{"Volume", "string", 0,
	 "volumeName is the binding reference to the PersistentVolume backing this claim."},
	{"Capacity", "string", 0,
	 "capacity represents the actual resources of the underlying volume."},
	{"Access Modes", "string", 0,
	 "accessModes contains the actual access modes the volume backing the PVC has."},
	{"StorageClass", "string", 0, "StorageClass of the pvc"},
	{"VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pvc"},
	AGE_COL,
	{"VolumeMode", "string", 1,
	 "volumeMode defines what type of volume is required by the claim."},
	END_COL};
static const struct column LEASE_COLS[] = {
	NAME_COL,
	{"Holder", "string", 0,
	 "holderIdentity contains the identity of the holder of a current lease."},
	AGE_COL,
	END_COL};
static const struct column DEFAULT_COLS[] = {NAME_COL, AGE_COL, END_COL};

static const struct column *columns_of(const api_kind *k)
{
	static const struct {
		const char *kind;
		const struct column *cols;
	} table[] = {
		{"Pod", POD_COLS},
		{"Service", SVC_COLS},
		{"Deployment", DEPLOY_COLS},
		{"ReplicaSet", RS_COLS},
		{"Node", NODE_COLS},
		{"Namespace", NS_COLS},
		{"Endpoints", EP_COLS},
		{"ConfigMap", CM_COLS},
		{"Secret", SECRET_COLS},
		{"Event", EVENT_COLS},
		{"PersistentVolume", PV_COLS},
		{"PersistentVolumeClaim", PVC_COLS},
		{"Lease", LEASE_COLS},
	};

	for (size_t i = 0; k && i < SK_ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].kind, k->kind))
			return table[i].cols;
	return DEFAULT_COLS;
}

json_t *api_table_columns(const api_kind *k)
{
	json_t *out = json_array();

	for (const struct column *c = columns_of(k); c->name; c++) {
		bool is_name = !strcmp(c->name, "Name");
		json_array_append_new(out,
				      json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name,
						"type", c->type, "format", is_name ? "name" : "",
						"description", c->desc, "priority", c->priority));
	}
	return out;
}

/* ---- durations --------------------------------------------------------------- */

const char *api_human_duration(int64_t s, char *buf, size_t n)
{
	int64_t m, h;

	/* Up to a second in the future is clock skew, shown as now. */
	if (s < -1)
		snprintf(buf, n, "<invalid>");
	else if (s < 0)
		snprintf(buf, n, "0s");
	else if (s < 120)
		snprintf(buf, n, "%llds", (long long)s);
	else if ((m = s / 60) < 10)
		snprintf(buf, n, s % 60 ? "%lldm%llds" : "%lldm", (long long)m,
			 (long long)(s % 60));
	else if (m < 180)
		snprintf(buf, n, "%lldm", (long long)m);
	else if ((h = s / 3600) < 8)
		snprintf(buf, n, m % 60 ? "%lldh%lldm" : "%lldh", (long long)h,
			 (long long)(m % 60));
	else if (h < 48)
		snprintf(buf, n, "%lldh", (long long)h);
	else if (h < 24 * 8)
		snprintf(buf, n, h % 24 ? "%lldd%lldh" : "%lldd", (long long)(h / 24),
			 (long long)(h % 24));
	else if (h < 24 * 365 * 2)
		snprintf(buf, n, "%lldd", (long long)(h / 24));
	else if (h < 24 * 365 * 8)
		snprintf(buf, n, (h / 24) % 365 ? "%lldy%lldd" : "%lldy", (long long)(h / 24 / 365),
			 (long long)((h / 24) % 365));
	else
		snprintf(buf, n, "%lldy", (long long)(h / 24 / 365));
	return buf;
}

/* translateTimestampSince: "<unknown>" for a missing time. */
static const char *since(const char *ts, int64_t now, char *buf, size_t n)
{
	int64_t t;

	if (!ts || !*ts || sk_parse_rfc3339(ts, &t) < 0) {
		snprintf(buf, n, "<unknown>");
		return buf;
	}
	return api_human_duration(now - t, buf, n);
}

const char *api_age(json_t *obj, int64_t now, char *buf, size_t n)
{
	return since(api_meta_creation_timestamp(obj), now, buf, n);
}

/* ---- pods -------------------------------------------------------------------- */

static bool restartable_init(json_t *pod, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach (api_get(pod, "spec.initContainers"), i, c)
		if (sk_streq(api_get_str(c, "name"), name))
			return sk_streq(api_get_str(c, "restartPolicy"), "Always");
	return false;
}

static bool condition_true(json_t *status, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach (json_object_get(status, "conditions"), i, c)
		if (sk_streq(api_get_str(c, "type"), type))
			return sk_streq(api_get_str(c, "status"), "True");
	return false;
}

struct pod_summary {
	char reason[64];
	int ready, total, restarts;
	int64_t last_restart; /* unix seconds, 0 = never */
};

static void later(int64_t *acc, json_t *cs)
{
	const char *fin = api_get_str(cs, "lastState.terminated.finishedAt");
	int64_t t;

	if (fin && sk_parse_rfc3339(fin, &t) == 0 && t > *acc)
		*acc = t;
}

/* The init containers' part of printPod; returns whether the pod is
 * still initializing. */
static bool summarize_init(json_t *pod, struct pod_summary *s, int *init_restarts,
			   int64_t *init_last)
{
	json_t *st = api_get(pod, "status.initContainerStatuses"), *cs;
	size_t i, ninit = json_array_size(api_get(pod, "spec.initContainers"));

	json_array_foreach (st, i, cs) {
		const char *name = api_get_str(cs, "name");
		json_t *term = api_get(cs, "state.terminated");
		const char *wr = api_get_str(cs, "state.waiting.reason");
		bool restartable = restartable_init(pod, name);

		s->restarts += (int)api_get_int(cs, "restartCount", 0);
		later(&s->last_restart, cs);
		if (restartable) {
			*init_restarts += (int)api_get_int(cs, "restartCount", 0);
			later(init_last, cs);
		}
		if (term && api_get_int(term, "exitCode", 0) == 0)
			continue;
		if (restartable && api_get_bool(cs, "started", false)) {
			if (api_get_bool(cs, "ready", false))
				s->ready++;
			continue;
		}
		if (term) {
			const char *r = api_get_str(term, "reason");
			if (r && *r)
				snprintf(s->reason, sizeof(s->reason), "Init:%s", r);
			else if (api_get_int(term, "signal", 0))
				snprintf(s->reason, sizeof(s->reason), "Init:Signal:%lld",
					 (long long)api_get_int(term, "signal", 0));
			else
				snprintf(s->reason, sizeof(s->reason), "Init:ExitCode:%lld",
					 (long long)api_get_int(term, "exitCode", 0));
		} else if (wr && *wr && strcmp(wr, "PodInitializing")) {
			snprintf(s->reason, sizeof(s->reason), "Init:%s", wr);
		} else {
			snprintf(s->reason, sizeof(s->reason), "Init:%zu/%zu", i, ninit);
		}
		return true;
	}
	return false;
}

static void summarize_pod(json_t *pod, struct pod_summary *s)
{
	json_t *status = api_get(pod, "status"), *c, *cs;
	const char *phase = api_get_str(status, "phase"), *reason = api_get_str(status, "reason");
	int init_restarts = 0;
	int64_t init_last = 0;
	bool initializing;
	size_t i, n;

	memset(s, 0, sizeof(*s));
	snprintf(s->reason, sizeof(s->reason), "%s",
		 reason && *reason ? reason
		 : phase	   ? phase
				   : "");
	json_array_foreach (json_object_get(status, "conditions"), i, c)
		if (sk_streq(api_get_str(c, "type"), "PodScheduled") &&
		    sk_streq(api_get_str(c, "reason"), "SchedulingGated"))
			snprintf(s->reason, sizeof(s->reason), "SchedulingGated");
	s->total = (int)json_array_size(api_get(pod, "spec.containers"));
	json_array_foreach (api_get(pod, "spec.initContainers"), i, c)
		if (sk_streq(api_get_str(c, "restartPolicy"), "Always"))
			s->total++;
	initializing = summarize_init(pod, s, &init_restarts, &init_last);
	if (!initializing || condition_true(status, "Initialized")) {
		bool running = false;
		json_t *list = json_object_get(status, "containerStatuses");
		s->restarts = init_restarts;
		s->last_restart = init_last;
		n = json_array_size(list);
		for (i = n; i-- > 0;) {
			const char *wr, *tr;
			json_t *term;
			cs = json_array_get(list, i);
			s->restarts += (int)api_get_int(cs, "restartCount", 0);
			later(&s->last_restart, cs);
			wr = api_get_str(cs, "state.waiting.reason");
			term = api_get(cs, "state.terminated");
			tr = api_get_str(term, "reason");
			if (wr && *wr)
				snprintf(s->reason, sizeof(s->reason), "%s", wr);
			else if (tr && *tr)
				snprintf(s->reason, sizeof(s->reason), "%s", tr);
			else if (term && api_get_int(term, "signal", 0))
				snprintf(s->reason, sizeof(s->reason), "Signal:%lld",
					 (long long)api_get_int(term, "signal", 0));
			else if (term)
				snprintf(s->reason, sizeof(s->reason), "ExitCode:%lld",
					 (long long)api_get_int(term, "exitCode", 0));
			else if (api_get_bool(cs, "ready", false) && api_get(cs, "state.running")) {
				running = true;
				s->ready++;
			}
		}
		if (!strcmp(s->reason, "Completed") && running)
			snprintf(s->reason, sizeof(s->reason), "%s",
				 condition_true(status, "Ready") ? "Running" : "NotReady");
	}
	if (api_meta_deletion_timestamp(pod) && sk_streq(reason, "NodeLost"))
		snprintf(s->reason, sizeof(s->reason), "Unknown");
	else if (api_meta_deletion_timestamp(pod) && !sk_streq(phase, "Succeeded") &&
		 !sk_streq(phase, "Failed"))
		snprintf(s->reason, sizeof(s->reason), "Terminating");
}

const char *api_pod_status_text(json_t *pod, char *buf, size_t n)
{
	struct pod_summary s;

	summarize_pod(pod, &s);
	snprintf(buf, n, "%s", s.reason);
	return buf;
}

static const char *or_none(const char *s)
{
	return s && *s ? s : "<none>";
}

static void pod_cells(json_t *pod, int64_t now, json_t *cells, json_t *row)
{
	struct pod_summary s;
	char age[32], ago[32], buf[64];
	json_t *gates = api_get(pod, "spec.readinessGates"), *g;
	const char *ip = api_get_str(json_array_get(api_get(pod, "status.podIPs"), 0), "ip");
	const char *phase = api_get_str(pod, "status.phase");
	size_t i;

	summarize_pod(pod, &s);
	json_array_append_new(cells, json_string(api_meta_name(pod) ? api_meta_name(pod) : ""));
	snprintf(buf, sizeof(buf), "%d/%d", s.ready, s.total);
	json_array_append_new(cells, json_string(buf));
	json_array_append_new(cells, json_string(s.reason));
	if (s.restarts && s.last_restart)
		snprintf(buf, sizeof(buf), "%d (%s ago)", s.restarts,
			 api_human_duration(now - s.last_restart, ago, sizeof(ago)));
	else
		snprintf(buf, sizeof(buf), "%d", s.restarts);
	json_array_append_new(cells, json_string(buf));
	json_array_append_new(cells, json_string(api_age(pod, now, age, sizeof(age))));
	if (!ip || !*ip)
		ip = api_get_str(pod, "status.podIP");
	json_array_append_new(cells, json_string(or_none(ip)));
	json_array_append_new(cells, json_string(or_none(api_get_str(pod, "spec.nodeName"))));
	json_array_append_new(cells,
			      json_string(or_none(api_get_str(pod, "status.nominatedNodeName"))));
	if (json_array_size(gates)) {
		int ok = 0;
		json_array_foreach (gates, i, g) {
			json_t *c;
			size_t j;
			json_array_foreach (api_get(pod, "status.conditions"), j, c) {
				if (sk_streq(api_get_str(c, "type"),
					     api_get_str(g, "conditionType"))) {
					ok += sk_streq(api_get_str(c, "status"), "True");
					break;
				}
			}
		}
		snprintf(buf, sizeof(buf), "%d/%zu", ok, json_array_size(gates));
		json_array_append_new(cells, json_string(buf));
	} else {
		json_array_append_new(cells, json_string("<none>"));
	}
	if (sk_streq(phase, "Succeeded") || sk_streq(phase, "Failed"))
		json_object_set_new(row, "conditions",
				    json_pack("[{s:s, s:s, s:s, s:s}]", "type", "Completed",
					      "status", "True", "reason", phase, "message",
					      !strcmp(phase, "Succeeded")
						      ? "The pod has completed successfully."
						      : "The pod failed."));
}

/* ---- the other kinds ------------------------------------------------------------ */

/* labels.FormatLabels: sorted "k=v,..." or "<none>". */
static char *format_labels(json_t *map)
{
	_cleanup_selector_ api_selector *sel = NULL;
	char *s;

	if (!json_object_size(map) || api_label_selector_from_map(map, &sel, NULL) < 0)
		return sk_strdup("<none>");
	s = api_selector_string(sel, NULL);
	return s;
}

static char *port_string(json_t *ports)
{
	sk_buf b = {0};
	json_t *p;
	size_t i;

	json_array_foreach (ports, i, p) {
		int64_t np = api_get_int(p, "nodePort", 0);
		const char *proto = api_get_str(p, "protocol");
		if (i)
			sk_buf_putc(&b, ',');
		if (np > 0)
			sk_buf_printf(&b, "%lld:%lld/%s", (long long)api_get_int(p, "port", 0),
				      (long long)np, proto ? proto : "");
		else
			sk_buf_printf(&b, "%lld/%s", (long long)api_get_int(p, "port", 0),
				      proto ? proto : "");
	}
	if (!b.len)
		sk_buf_puts(&b, "<none>");
	return sk_buf_steal(&b);
}

static char *join_strings(json_t *list, const char *key)
{
	sk_buf b = {0};
	json_t *v;
	size_t i;

	json_array_foreach (list, i, v) {
		const char *s = key ? api_get_str(v, key) : json_string_value(v);
		if (i)
			sk_buf_putc(&b, ',');
		sk_buf_puts(&b, s ? s : "");
	}
	return sk_buf_steal(&b);
}

static char *service_external_ip(json_t *spec, json_t *status)
{
	const char *type = api_get_str(spec, "type");
	json_t *ext = json_object_get(spec, "externalIPs");

	if (sk_streq(type, "ClusterIP") || sk_streq(type, "NodePort"))
		return json_array_size(ext) ? join_strings(ext, NULL) : sk_strdup("<none>");
	if (sk_streq(type, "ExternalName"))
		return sk_strdup(
			api_get_str(spec, "externalName") ? api_get_str(spec, "externalName") : "");
	if (sk_streq(type, "LoadBalancer")) {
		json_t *ing = api_get(status, "loadBalancer.ingress"), *x;
		sk_buf b = {0};
		size_t i;
		json_array_foreach (ing, i, x) {
			const char *v = api_get_str(x, "ip");
			if (!v || !*v)
				v = api_get_str(x, "hostname");
			if (v && *v)
				sk_buf_printf(&b, "%s%s", b.len ? "," : "", v);
		}
		json_array_foreach (ext, i, x)
			sk_buf_printf(&b, "%s%s", b.len ? "," : "",
				      json_string_value(x) ? json_string_value(x) : "");
		if (!b.len)
			sk_buf_puts(&b, "<pending>");
		return sk_buf_steal(&b);
	}
	return sk_strdup("<unknown>");
}

static void add_str(json_t *cells, const char *s)
{
	json_array_append_new(cells, json_string(s ? s : ""));
}

static void add_own(json_t *cells, char *s)
{
	json_array_append_new(cells, json_string(s ? s : ""));
	free(s);
}

static void service_cells(json_t *svc, const char *age, json_t *cells)
{
	json_t *spec = api_get(svc, "spec");
	json_t *ips = json_object_get(spec, "clusterIPs");
	const char *ip = json_array_size(ips) ? json_string_value(json_array_get(ips, 0)) : NULL;

	add_str(cells, api_meta_name(svc));
	add_str(cells, api_get_str(spec, "type"));
	add_str(cells, or_none(ip));
	add_own(cells, service_external_ip(spec, api_get(svc, "status")));
	add_own(cells, port_string(json_object_get(spec, "ports")));
	add_str(cells, age);
	add_own(cells, format_labels(json_object_get(spec, "selector")));
}

static char *selector_of(json_t *obj)
{
	_cleanup_selector_ api_selector *sel = NULL;

	if (api_label_selector_from_json(api_get(obj, "spec.selector"), &sel, NULL) < 0)
		return sk_strdup("<invalid>");
	return api_selector_string(sel, NULL);
}

static void template_cells(json_t *obj, json_t *cells)
{
	json_t *cs = api_get(obj, "spec.template.spec.containers");

	add_own(cells, join_strings(cs, "name"));
	add_own(cells, join_strings(cs, "image"));
	add_own(cells, selector_of(obj));
}

static void deployment_cells(json_t *d, const char *age, json_t *cells)
{
	char buf[64];

	add_str(cells, api_meta_name(d));
	snprintf(buf, sizeof(buf), "%lld/%lld",
		 (long long)api_get_int(d, "status.readyReplicas", 0),
		 (long long)api_get_int(d, "spec.replicas", 0));
	add_str(cells, buf);
	json_array_append_new(cells, json_integer(api_get_int(d, "status.updatedReplicas", 0)));
	json_array_append_new(cells, json_integer(api_get_int(d, "status.availableReplicas", 0)));
	add_str(cells, age);
	template_cells(d, cells);
}

static void replicaset_cells(json_t *rs, const char *age, json_t *cells)
{
	add_str(cells, api_meta_name(rs));
	json_array_append_new(cells, json_integer(api_get_int(rs, "spec.replicas", 0)));
	json_array_append_new(cells, json_integer(api_get_int(rs, "status.replicas", 0)));
	json_array_append_new(cells, json_integer(api_get_int(rs, "status.readyReplicas", 0)));
	add_str(cells, age);
	template_cells(rs, cells);
}

static char *node_roles(json_t *node)
{
	json_t *labels = api_meta_labels(node), *roles = json_array(), *v;
	const char *key;
	char *out;

	json_object_foreach (labels, key, v) {
		if (sk_startswith(key, "node-role.kubernetes.io/") && key[24])
			json_array_append_new(roles, json_string(key + 24));
		else if (!strcmp(key, "kubernetes.io/role") && json_string_length(v))
			json_array_append(roles, v);
	}
	/* sorted and unique, as sets.List */
	for (size_t i = 1; i < json_array_size(roles); i++)
		for (size_t j = i;
		     j > 0 && strcmp(json_string_value(json_array_get(roles, j)),
				     json_string_value(json_array_get(roles, j - 1))) < 0;
		     j--) {
			json_t *t = json_incref(json_array_get(roles, j));
			json_array_set(roles, j, json_array_get(roles, j - 1));
			json_array_set_new(roles, j - 1, t);
		}
	for (size_t i = 1; i < json_array_size(roles);)
		if (json_equal(json_array_get(roles, i), json_array_get(roles, i - 1)))
			json_array_remove(roles, i);
		else
			i++;
	out = json_array_size(roles) ? join_strings(roles, NULL) : sk_strdup("<none>");
	json_decref(roles);
	return out;
}

static const char *node_address(json_t *node, const char *type)
{
	json_t *a;
	size_t i;

	json_array_foreach (api_get(node, "status.addresses"), i, a)
		if (sk_streq(api_get_str(a, "type"), type))
			return api_get_str(a, "address");
	return "<none>";
}

static const char *or_unknown(const char *s)
{
	return s && *s ? s : "<unknown>";
}

static void node_cells(json_t *node, const char *age, json_t *cells)
{
	sk_buf st = {0};
	json_t *c;
	size_t i;
	bool have = false;

	json_array_foreach (api_get(node, "status.conditions"), i, c) {
		if (!sk_streq(api_get_str(c, "type"), "Ready"))
			continue;
		have = true;
		sk_buf_puts(&st, sk_streq(api_get_str(c, "status"), "True") ? "Ready" : "NotReady");
	}
	if (!have)
		sk_buf_puts(&st, "Unknown");
	if (api_get_bool(node, "spec.unschedulable", false))
		sk_buf_puts(&st, ",SchedulingDisabled");
	add_str(cells, api_meta_name(node));
	add_own(cells, sk_buf_steal(&st));
	add_own(cells, node_roles(node));
	add_str(cells, age);
	add_str(cells, api_get_str(node, "status.nodeInfo.kubeletVersion"));
	add_str(cells, node_address(node, "InternalIP"));
	add_str(cells, node_address(node, "ExternalIP"));
	add_str(cells, or_unknown(api_get_str(node, "status.nodeInfo.osImage")));
	add_str(cells, or_unknown(api_get_str(node, "status.nodeInfo.kernelVersion")));
	add_str(cells, or_unknown(api_get_str(node, "status.nodeInfo.containerRuntimeVersion")));
}

/* formatEndpoints: up to three addresses, then "+ N more...". */
static char *endpoints_text(json_t *ep)
{
	json_t *subsets = json_object_get(ep, "subsets"), *ss, *p, *a;
	sk_buf b = {0};
	int listed = 0, count = 0;
	bool more = false;
	size_t i, j, k;

	if (!json_array_size(subsets))
		return sk_strdup("<none>");
	json_array_foreach (subsets, i, ss) {
		json_t *addrs = json_object_get(ss, "addresses");
		json_t *ports = json_object_get(ss, "ports");
		if (!json_array_size(ports)) {
			count += (int)json_array_size(addrs);
			json_array_foreach (addrs, k, a) {
				if (listed == 3) {
					more = true;
					break;
				}
				sk_buf_printf(&b, "%s%s", listed++ ? "," : "",
					      api_get_str(a, "ip") ? api_get_str(a, "ip") : "");
			}
			continue;
		}
		json_array_foreach (ports, j, p) {
			count += (int)json_array_size(addrs);
			json_array_foreach (addrs, k, a) {
				const char *ip = api_get_str(a, "ip");
				if (listed == 3) {
					more = true;
					break;
				}
				if (ip && strchr(ip, ':'))
					sk_buf_printf(&b, "%s[%s]:%lld", listed++ ? "," : "", ip,
						      (long long)api_get_int(p, "port", 0));
				else
					sk_buf_printf(&b, "%s%s:%lld", listed++ ? "," : "",
						      ip ? ip : "",
						      (long long)api_get_int(p, "port", 0));
			}
		}
	}
	if (more)
		sk_buf_printf(&b, " + %d more...", count - 3);
	return sk_buf_steal(&b);
}

static void event_cells(json_t *ev, int64_t now, json_t *cells)
{
	char first[32], last[32], target[512], src[512];
	const char *ft = api_get_str(ev, "firstTimestamp"), *lt = api_get_str(ev, "lastTimestamp");
	const char *kind = api_get_str(ev, "involvedObject.kind");
	const char *name = api_get_str(ev, "involvedObject.name");
	const char *comp = api_get_str(ev, "source.component"),
		   *host = api_get_str(ev, "source.host");
	const char *msg = api_get_str(ev, "message");
	int64_t count = api_get_int(ev, "count", 0);
	_cleanup_free_ char *lkind = sk_strdup(kind ? kind : "");
	_cleanup_free_ char *tmsg = NULL;

	since(ft && *ft ? ft : api_get_str(ev, "eventTime"), now, first, sizeof(first));
	if (lt && *lt)
		since(lt, now, last, sizeof(last));
	else
		snprintf(last, sizeof(last), "%s", first);
	if (api_get(ev, "series")) {
		since(api_get_str(ev, "series.lastObservedTime"), now, last, sizeof(last));
		count = api_get_int(ev, "series.count", 0);
	} else if (!count) {
		count = 1;
	}
	for (char *p = lkind; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (name && *name)
		snprintf(target, sizeof(target), "%s/%s", lkind, name);
	else
		snprintf(target, sizeof(target), "%s", lkind);
	if (!comp || !*comp)
		comp = api_get_str(ev, "reportingComponent");
	if (!host || !*host)
		host = api_get_str(ev, "reportingInstance");
	if (host && *host)
		snprintf(src, sizeof(src), "%s, %s", comp ? comp : "", host);
	else
		snprintf(src, sizeof(src), "%s", comp ? comp : "");
	/* strings.TrimSpace */
	tmsg = sk_strdup(msg ? msg : "");
	{
		char *s = tmsg, *e;
		while (*s && isspace((unsigned char)*s))
			s++;
		memmove(tmsg, s, strlen(s) + 1);
		e = tmsg + strlen(tmsg);
		while (e > tmsg && isspace((unsigned char)e[-1]))
			*--e = 0;
	}
	add_str(cells, last);
	add_str(cells, api_get_str(ev, "type"));
	add_str(cells, api_get_str(ev, "reason"));
	add_str(cells, target);
	add_str(cells, api_get_str(ev, "involvedObject.fieldPath"));
	add_str(cells, src);
	add_str(cells, tmsg);
	add_str(cells, first);
	json_array_append_new(cells, json_integer(count));
	add_str(cells, api_meta_name(ev));
}

/* helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order. */
static char *access_modes(json_t *modes)
{
	static const char *const names[][2] = {{"ReadWriteOnce", "RWO"},
					       {"ReadOnlyMany", "ROX"},
					       {"ReadWriteMany", "RWX"},
					       {"ReadWriteOncePod", "RWOP"}};
	sk_buf b = {0};

	for (size_t i = 0; i < SK_ARRAY_SIZE(names); i++) {
		json_t *m;
		size_t j;
		bool has = false;
		json_array_foreach (modes, j, m)
			has = has || sk_streq(json_string_value(m), names[i][0]);
		if (has)
			sk_buf_printf(&b, "%s%s", b.len ? "," : "", names[i][1]);
	}
	return sk_buf_steal(&b);
}

static const char *storage_class(json_t *obj)
{
	const char *a = api_meta_annotation(obj, "volume.beta.kubernetes.io/storage-class");

	return a ? a : api_get_str(obj, "spec.storageClassName");
}

static const char *or_unset(const char *s)
{
	return s ? s : "<unset>";
}

static char *quantity_cell(json_t *q)
{
	if (json_is_string(q))
		return sk_strdup(json_string_value(q));
	if (json_is_number(q))
		return api_json_go_string(q);
	return sk_strdup("0");
}

static void pv_cells(json_t *pv, const char *age, json_t *cells)
{
	const char *ns = api_get_str(pv, "spec.claimRef.namespace");
	const char *cn = api_get_str(pv, "spec.claimRef.name");
	const char *phase = api_get_str(pv, "status.phase");
	_cleanup_free_ char *claim = NULL;

	if (api_get(pv, "spec.claimRef"))
		claim = sk_asprintf("%s/%s", ns ? ns : "", cn ? cn : "");
	add_str(cells, api_meta_name(pv));
	add_own(cells, quantity_cell(api_get(pv, "spec.capacity.storage")));
	add_own(cells, access_modes(api_get(pv, "spec.accessModes")));
	add_str(cells, api_get_str(pv, "spec.persistentVolumeReclaimPolicy"));
	add_str(cells, api_meta_deletion_timestamp(pv) ? "Terminating" : phase);
	add_str(cells, claim);
	add_str(cells, storage_class(pv));
	add_str(cells, or_unset(api_get_str(pv, "spec.volumeAttributesClassName")));
	add_str(cells, api_get_str(pv, "status.reason"));
	add_str(cells, age);
	add_str(cells, or_unset(api_get_str(pv, "spec.volumeMode")));
}

static void pvc_cells(json_t *pvc, const char *age, json_t *cells)
{
	const char *vol = api_get_str(pvc, "spec.volumeName");
	const char *phase = api_get_str(pvc, "status.phase");
	bool bound = vol && *vol;

	add_str(cells, api_meta_name(pvc));
	add_str(cells, api_meta_deletion_timestamp(pvc) ? "Terminating" : phase);
	add_str(cells, vol);
	add_own(cells, bound ? quantity_cell(api_get(pvc, "status.capacity.storage")) : NULL);
	add_own(cells, bound ? access_modes(api_get(pvc, "status.accessModes")) : NULL);
	add_str(cells, storage_class(pvc));
	add_str(cells, or_unset(api_get_str(pvc, "spec.volumeAttributesClassName")));
	add_str(cells, age);
	add_str(cells, or_unset(api_get_str(pvc, "spec.volumeMode")));
}

/* ---- rows and tables ----------------------------------------------------------- */

json_t *api_table_row(const api_kind *k, json_t *obj, int64_t now, enum api_table_include inc)
{
	json_t *row = json_object(), *cells = json_array();
	const char *kind = k ? k->kind : "";
	char age[32];

	api_age(obj, now, age, sizeof(age));
	if (!strcmp(kind, "Pod")) {
		pod_cells(obj, now, cells, row);
	} else if (!strcmp(kind, "Service")) {
		service_cells(obj, age, cells);
	} else if (!strcmp(kind, "Deployment")) {
		deployment_cells(obj, age, cells);
	} else if (!strcmp(kind, "ReplicaSet")) {
		replicaset_cells(obj, age, cells);
	} else if (!strcmp(kind, "Node")) {
		node_cells(obj, age, cells);
	} else if (!strcmp(kind, "Namespace")) {
		add_str(cells, api_meta_name(obj));
		add_str(cells, api_get_str(obj, "status.phase"));
		add_str(cells, age);
	} else if (!strcmp(kind, "Endpoints")) {
		add_str(cells, api_meta_name(obj));
		add_own(cells, endpoints_text(obj));
		add_str(cells, age);
	} else if (!strcmp(kind, "ConfigMap")) {
		add_str(cells, api_meta_name(obj));
		json_array_append_new(
			cells,
			json_integer((json_int_t)(json_object_size(api_get(obj, "data")) +
						  json_object_size(api_get(obj, "binaryData")))));
		add_str(cells, age);
	} else if (!strcmp(kind, "Secret")) {
		add_str(cells, api_meta_name(obj));
		add_str(cells, api_get_str(obj, "type"));
		json_array_append_new(
			cells, json_integer((json_int_t)json_object_size(api_get(obj, "data"))));
		add_str(cells, age);
	} else if (!strcmp(kind, "Event")) {
		event_cells(obj, now, cells);
	} else if (!strcmp(kind, "PersistentVolume")) {
		pv_cells(obj, age, cells);
	} else if (!strcmp(kind, "PersistentVolumeClaim")) {
		pvc_cells(obj, age, cells);
	} else if (!strcmp(kind, "Lease")) {
		add_str(cells, api_meta_name(obj));
		add_str(cells, api_get_str(obj, "spec.holderIdentity"));
		add_str(cells, age);
	} else {
		add_str(cells, api_meta_name(obj));
		add_str(cells, age);
	}
	json_object_set_new(row, "cells", cells);
	if (inc == API_TABLE_METADATA)
		json_object_set_new(row, "object", api_partial_metadata(obj));
	else if (inc == API_TABLE_OBJECT)
		json_object_set(row, "object", obj);
	return row;
}

json_t *api_table(const api_kind *k, json_t *items, const char *rv, int64_t now,
		  enum api_table_include inc)
{
	json_t *t = json_object(), *meta = json_object(), *rows = json_array(), *it;
	size_t i;

	json_object_set_new(t, "kind", json_string("Table"));
	json_object_set_new(t, "apiVersion", json_string("meta.k8s.io/v1"));
	if (rv)
		json_object_set_new(meta, "resourceVersion", json_string(rv));
	json_object_set_new(t, "metadata", meta);
	json_object_set_new(t, "columnDefinitions", api_table_columns(k));
	json_array_foreach (items, i, it)
		json_array_append_new(rows, api_table_row(k, it, now, inc));
	json_object_set_new(t, "rows", rows);
	return t;
}
