/* skiff describe: kubectl describe's layouts for pods, services,
 * deployments, replicasets, nodes, namespaces, configmaps, endpoints and
 * secrets, and kubectl's generic describer for every other kind. Each
 * section is written as kubectl's describers write it (a prefix writer
 * with two spaces per level over Go's text/tabwriter, minwidth 0, padding
 * 2), events come from the events list filtered by involvedObject, and a
 * name that matches nothing falls back to kubectl's prefix match. */
#include "kube_internal.h"

#include <errno.h>

#define USAGE                                                                       \
	"usage: skiff describe (TYPE [NAME...] | TYPE/NAME... | -f FILE) [-l SEL] " \
	"[--show-events=false]\n"                                                   \
	"Show the details of objects, with their events, as kubectl describe does.\n"
#include <inttypes.h>
#include <strings.h>
#include <time.h>

struct dw {
	sk_tabwriter tw;
	int64_t now;
};

static void dw_write(struct dw *w, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void dw_write(struct dw *w, int level, const char *fmt, ...)
{
	va_list ap;
	char *s;

	for (int i = 0; i < level; i++)
		sk_tabwriter_puts(&w->tw, "  ");
	va_start(ap, fmt);
	s = sk_vasprintf(fmt, ap);
	va_end(ap);
	sk_tabwriter_puts(&w->tw, s);
	free(s);
}

/* ---- small readers ---------------------------------------------------- */

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static const char *path_str(json_t *obj, const char *path)
{
	const char *s = api_get_str(obj, path);

	return s ? s : "";
}

static const char *or_none(const char *s)
{
	return s && *s ? s : "<none>";
}

/* Go's %v of a JSON value as a typed field would print it. */
static char *value_text(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return sk_strdup(json_string_value(v));
	case JSON_INTEGER:
		return sk_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return sk_asprintf("%g", json_real_value(v));
	case JSON_TRUE:
		return sk_strdup("true");
	case JSON_FALSE:
		return sk_strdup("false");
	case JSON_NULL:
		return sk_strdup("<nil>");
	default:
		return json_dumps(v, JSON_COMPACT);
	}
}

/* "Mon, 02 Jan 2006 15:04:05 -0700" in local time, as time.RFC1123Z. */
static char *rfc1123z(const char *rfc3339)
{
	int64_t t;
	time_t tt;
	struct tm tm;
	char buf[64];

	if (!rfc3339 || sk_parse_rfc3339(rfc3339, &t) < 0)
		t = -62135596800LL; /* Go's zero time */
	tt = (time_t)t;
	localtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S %z", &tm);
	return sk_strdup(buf);
}

/* translateTimestampSince: "5m", or "<unknown>" without a time. */
static const char *since(struct dw *w, const char *rfc3339, char *buf, size_t n)
{
	int64_t t;

	if (!rfc3339 || !*rfc3339 || sk_parse_rfc3339(rfc3339, &t) < 0)
		return "<unknown>";
	return api_human_duration(w->now - t, buf, n);
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char **sorted_keys(json_t *map, size_t *n)
{
	const char **keys = sk_calloc(json_object_size(map) + 1, sizeof(*keys));
	const char *k;
	json_t *v;

	*n = 0;
	json_object_foreach (map, k, v)
		keys[(*n)++] = k;
	qsort(keys, *n, sizeof(*keys), key_cmp);
	return keys;
}

/* ---- shared sections ---------------------------------------------------- */

static void print_labels_multiline(struct dw *w, const char *title, json_t *labels)
{
	size_t n;
	_cleanup_free_ const char **keys = sorted_keys(labels, &n);

	dw_write(w, 0, "%s:\t", title);
	if (n == 0) {
		dw_write(w, 0, "<none>\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			dw_write(w, 0, "\t");
		dw_write(w, 0, "%s=%s\n", keys[i], str(labels, keys[i]));
	}
}

#define MAX_ANNOTATION_LEN 140

static void print_annotations_multiline(struct dw *w, const char *title, json_t *annotations)
{
	size_t n, shown = 0;
	_cleanup_free_ const char **keys = sorted_keys(annotations, &n);

	dw_write(w, 0, "%s:\t", title);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *value = NULL;
		size_t len;

		if (!strcmp(keys[i], API_LAST_APPLIED))
			continue;
		if (shown++)
			dw_write(w, 0, "\t");
		value = sk_strdup(str(annotations, keys[i]));
		len = strlen(value);
		if (len > 0 && value[len - 1] == '\n')
			value[--len] = '\0';
		if (len + strlen(keys[i]) + 2 <= MAX_ANNOTATION_LEN && !strchr(value, '\n')) {
			dw_write(w, 0, "%s: %s\n", keys[i], value);
			continue;
		}
		dw_write(w, 0, "%s:\n", keys[i]);
		for (char *line = value, *next; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (strlen(line) > MAX_ANNOTATION_LEN - 2)
				dw_write(w, 0, "\t  %.*s...\n", MAX_ANNOTATION_LEN - 2, line);
			else
				dw_write(w, 0, "\t  %s\n", line);
		}
	}
	if (shown == 0)
		dw_write(w, 0, "<none>\n");
}

static void print_tolerations(struct dw *w, const char *title, json_t *tols)
{
	size_t i;
	json_t *t;

	dw_write(w, 0, "%s:\t", title);
	if (json_array_size(tols) == 0) {
		dw_write(w, 0, "<none>\n");
		return;
	}
	json_array_foreach (tols, i, t) {
		const char *key = str(t, "key"), *value = str(t, "value"),
			   *effect = str(t, "effect");
		json_t *secs = json_object_get(t, "tolerationSeconds");

		if (i)
			dw_write(w, 0, "\t");
		dw_write(w, 0, "%s", key);
		if (*value)
			dw_write(w, 0, "=%s", value);
		if (*effect)
			dw_write(w, 0, ":%s", effect);
		if (!strcmp(str(t, "operator"), "Exists") && !*value)
			dw_write(w, 0, *key || *effect ? " op=Exists" : "op=Exists");
		if (json_is_integer(secs))
			dw_write(w, 0, " for %" JSON_INTEGER_FORMAT "s", json_integer_value(secs));
		dw_write(w, 0, "\n");
	}
}

static int64_t event_time(json_t *e)
{
	const char *t = api_get_str(e, "series.lastObservedTime");
	int64_t v = 0;

	if (!t || !*t)
		t = str(e, "lastTimestamp");
	if (!*t)
		t = str(e, "eventTime");
	sk_parse_rfc3339(t, &v);
	return v;
}

static int event_cmp(const void *a, const void *b)
{
	int64_t x = event_time(*(json_t *const *)a), y = event_time(*(json_t *const *)b);

	return x < y ? -1 : x > y;
}

static void describe_events(struct dw *w, json_t *events)
{
	size_t n = json_array_size(events);

	if (!events) /* --show-events=false */
		return;
	_cleanup_free_ json_t **sorted = sk_calloc(n + 1, sizeof(*sorted));
	char b1[32], b2[32];

	if (n == 0) {
		dw_write(w, 0, "Events:\t<none>\n");
		return;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = json_array_get(events, i);
	qsort(sorted, n, sizeof(*sorted), event_cmp);
	dw_write(w, 0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
	dw_write(w, 1, "----\t------\t----\t----\t-------\n");
	for (size_t i = 0; i < n; i++) {
		json_t *e = sorted[i];
		const char *first = *str(e, "eventTime")
					    ? since(w, str(e, "eventTime"), b1, sizeof(b1))
					    : since(w, str(e, "firstTimestamp"), b1, sizeof(b1));
		const char *source = path_str(e, "source.component");
		int64_t count = json_integer_value(json_object_get(e, "count"));
		_cleanup_free_ char *interval = NULL;
		_cleanup_free_ char *msg = sk_strdup(str(e, "message"));
		char *m = msg;
		size_t len;

		if (json_object_get(e, "series"))
			interval = sk_asprintf(
				"%s (x%" PRId64 " over %s)",
				since(w, api_get_str(e, "series.lastObservedTime"), b2, sizeof(b2)),
				api_get_int(e, "series.count", 0), first);
		else if (count > 1)
			interval = sk_asprintf("%s (x%" PRId64 " over %s)",
					       since(w, str(e, "lastTimestamp"), b2, sizeof(b2)),
					       count, first);
		else
			interval = sk_strdup(first);
		if (!*source)
			source = str(e, "reportingComponent");
		while (*m == ' ' || *m == '\n' || *m == '\t')
			m++;
		len = strlen(m);
		while (len > 0 && (m[len - 1] == ' ' || m[len - 1] == '\n' || m[len - 1] == '\t'))
			m[--len] = '\0';
		dw_write(w, 1, "%s\t%s\t%s\t%s\t%s\n", str(e, "type"), str(e, "reason"), interval,
			 source, m);
	}
}

/* ---- containers ------------------------------------------------------------ */

static char *ports_text(json_t *ports, bool host)
{
	sk_buf b;
	size_t i;
	json_t *p;

	sk_buf_init(&b);
	sk_buf_puts(&b, "");
	json_array_foreach (ports, i, p) {
		sk_buf_printf(
			&b, "%s%" JSON_INTEGER_FORMAT "/%s", i ? ", " : "",
			json_integer_value(json_object_get(p, host ? "hostPort" : "containerPort")),
			str(p, "protocol"));
	}
	return sk_buf_steal(&b);
}

static void describe_state(struct dw *w, const char *name, json_t *state)
{
	json_t *run = json_object_get(state, "running"), *wait = json_object_get(state, "waiting");
	json_t *term = json_object_get(state, "terminated");

	if (run) {
		_cleanup_free_ char *t = rfc1123z(str(run, "startedAt"));

		dw_write(w, 2, "%s:\tRunning\n", name);
		dw_write(w, 3, "Started:\t%s\n", t);
	} else if (wait) {
		dw_write(w, 2, "%s:\tWaiting\n", name);
		if (*str(wait, "reason"))
			dw_write(w, 3, "Reason:\t%s\n", str(wait, "reason"));
	} else if (term) {
		_cleanup_free_ char *started = rfc1123z(str(term, "startedAt"));
		_cleanup_free_ char *finished = rfc1123z(str(term, "finishedAt"));

		dw_write(w, 2, "%s:\tTerminated\n", name);
		if (*str(term, "reason"))
			dw_write(w, 3, "Reason:\t%s\n", str(term, "reason"));
		if (*str(term, "message"))
			dw_write(w, 3, "Message:\t%s\n", str(term, "message"));
		dw_write(w, 3, "Exit Code:\t%" JSON_INTEGER_FORMAT "\n",
			 json_integer_value(json_object_get(term, "exitCode")));
		if (json_integer_value(json_object_get(term, "signal")) > 0)
			dw_write(w, 3, "Signal:\t%" JSON_INTEGER_FORMAT "\n",
				 json_integer_value(json_object_get(term, "signal")));
		dw_write(w, 3, "Started:\t%s\n", started);
		dw_write(w, 3, "Finished:\t%s\n", finished);
	} else {
		dw_write(w, 2, "%s:\tWaiting\n", name);
	}
}

static void describe_resources(struct dw *w, json_t *res, int level)
{
	static const char *const kinds[] = {"limits", "Limits", "requests", "Requests"};

	for (size_t k = 0; k < SK_ARRAY_SIZE(kinds); k += 2) {
		json_t *list = json_object_get(res, kinds[k]);
		size_t n;
		_cleanup_free_ const char **keys = sorted_keys(list, &n);

		if (n)
			dw_write(w, level, "%s:\n", kinds[k + 1]);
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *q =
				api_quantity_string(json_object_get(list, keys[i]));

			dw_write(w, level + 1, "%s:\t%s\n", keys[i], q);
		}
	}
}

static char *int_or_string(json_t *v)
{
	return json_is_integer(v) ? sk_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v))
				  : sk_strdup(json_string_value(v) ? json_string_value(v) : "");
}

static char *probe_text(json_t *p)
{
	_cleanup_free_ char *attrs = sk_asprintf(
		"delay=%" PRId64 "s timeout=%" PRId64 "s period=%" PRId64 "s #success=%" PRId64
		" #failure=%" PRId64,
		api_get_int(p, "initialDelaySeconds", 0), api_get_int(p, "timeoutSeconds", 0),
		api_get_int(p, "periodSeconds", 0), api_get_int(p, "successThreshold", 0),
		api_get_int(p, "failureThreshold", 0));
	json_t *exec = json_object_get(p, "exec"), *http = json_object_get(p, "httpGet");
	json_t *tcp = json_object_get(p, "tcpSocket"), *grpc = json_object_get(p, "grpc");

	if (exec) {
		sk_buf b;
		size_t i;
		json_t *c;

		sk_buf_init(&b);
		json_array_foreach (json_object_get(exec, "command"), i, c)
			sk_buf_printf(&b, "%s%s", i ? " " : "", json_string_value(c) ?: "");
		char *r = sk_asprintf("exec [%s] %s", b.data ? b.data : "", attrs);
		sk_buf_free(&b);
		return r;
	}
	if (http) {
		_cleanup_free_ char *port = int_or_string(json_object_get(http, "port"));
		_cleanup_free_ char *scheme =
			sk_strdup(*str(http, "scheme") ? str(http, "scheme") : "");

		for (char *s = scheme; *s; s++)
			if (*s >= 'A' && *s <= 'Z')
				*s = (char)(*s - 'A' + 'a');
		return sk_asprintf("http-get %s%s%s:%s%s %s", scheme, *scheme ? "://" : "//",
				   str(http, "host"), port, str(http, "path"), attrs);
	}
	if (tcp) {
		_cleanup_free_ char *port = int_or_string(json_object_get(tcp, "port"));

		return sk_asprintf("tcp-socket %s:%s %s", str(tcp, "host"), port, attrs);
	}
	if (grpc)
		return sk_asprintf("grpc <pod>:%" PRId64 " %s %s", api_get_int(grpc, "port", 0),
				   str(grpc, "service"), attrs);
	return sk_asprintf("unknown %s", attrs);
}

/* The value of a downward-API fieldRef, as kubectl resolves it from the
 * pod (metadata.labels['k'] and annotations too). */
static char *field_ref_value(json_t *pod, const char *field)
{
	static const char *const simple[] = {
		"metadata.name",	   "metadata.namespace", "metadata.uid", "spec.nodeName",
		"spec.serviceAccountName", "status.hostIP",	 "status.podIP"};
	const char *open;

	for (size_t i = 0; i < SK_ARRAY_SIZE(simple); i++)
		if (!strcmp(field, simple[i]))
			return sk_strdup(path_str(pod, field));
	open = strstr(field, "['");
	if (open && sk_endswith(field, "']")) {
		_cleanup_free_ char *map = sk_strndup(field, (size_t)(open - field));
		_cleanup_free_ char *key = sk_strndup(open + 2, strlen(open) - 4);

		return sk_strdup(str(api_get(pod, map), key));
	}
	return sk_strdup("");
}

static void describe_env(struct dw *w, json_t *c, json_t *pod)
{
	json_t *env = json_object_get(c, "env"), *e;
	size_t i;

	dw_write(w, 2, "Environment:%s\n", json_array_size(env) ? "" : "\t<none>");
	json_array_foreach (env, i, e) {
		json_t *from = json_object_get(e, "valueFrom");
		const char *name = str(e, "name");

		if (!from) {
			_cleanup_free_ char *value = sk_strdup(str(e, "value"));
			char *line = value, *next;
			bool first = true;

			for (; line; line = next, first = false) {
				next = strchr(line, '\n');
				if (next)
					*next++ = '\0';
				if (first)
					dw_write(w, 3, "%s:\t%s\n", name, line);
				else
					dw_write(w, 3, "\t%s\n", line);
			}
		} else if (json_object_get(from, "fieldRef")) {
			_cleanup_free_ char *value =
				pod ? field_ref_value(pod, path_str(from, "fieldRef.fieldPath"))
				    : sk_strdup("");

			dw_write(w, 3, "%s:\t%s (%s:%s)\n", name, value,
				 path_str(from, "fieldRef.apiVersion"),
				 path_str(from, "fieldRef.fieldPath"));
		} else if (json_object_get(from, "resourceFieldRef")) {
			dw_write(w, 3, "%s:\t (%s)\n", name,
				 path_str(from, "resourceFieldRef.resource"));
		} else if (json_object_get(from, "secretKeyRef")) {
			dw_write(w, 3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %s\n",
				 name, path_str(from, "secretKeyRef.key"),
				 path_str(from, "secretKeyRef.name"),
				 api_get_bool(from, "secretKeyRef.optional", false) ? "true"
										    : "false");
		} else if (json_object_get(from, "configMapKeyRef")) {
			dw_write(w, 3,
				 "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %s\n",
				 name, path_str(from, "configMapKeyRef.key"),
				 path_str(from, "configMapKeyRef.name"),
				 api_get_bool(from, "configMapKeyRef.optional", false) ? "true"
										       : "false");
		}
	}
}

static void describe_env_from(struct dw *w, json_t *c)
{
	json_t *list = json_object_get(c, "envFrom"), *e;
	size_t i;

	if (json_array_size(list) == 0)
		return;
	dw_write(w, 2, "Environment Variables from:\n");
	json_array_foreach (list, i, e) {
		json_t *cm = json_object_get(e, "configMapRef"),
		       *sec = json_object_get(e, "secretRef");
		json_t *ref = cm ? cm : sec;
		const char *from = cm ? "ConfigMap" : sec ? "Secret" : "";
		const char *prefix = str(e, "prefix");
		bool optional = json_is_true(json_object_get(ref, "optional"));

		if (*prefix)
			dw_write(w, 3, "%s\t%s with prefix '%s'\tOptional: %s\n", str(ref, "name"),
				 from, prefix, optional ? "true" : "false");
		else
			dw_write(w, 3, "%s\t%s\tOptional: %s\n", str(ref, "name"), from,
				 optional ? "true" : "false");
	}
}

static int mount_cmp(const void *a, const void *b)
{
	return strcmp(str(*(json_t *const *)a, "mountPath"), str(*(json_t *const *)b, "mountPath"));
}

static void describe_mounts(struct dw *w, json_t *c)
{
	json_t *mounts = json_object_get(c, "volumeMounts");
	size_t n = json_array_size(mounts);
	_cleanup_free_ json_t **sorted = sk_calloc(n + 1, sizeof(*sorted));

	dw_write(w, 2, "Mounts:%s\n", n ? "" : "\t<none>");
	for (size_t i = 0; i < n; i++)
		sorted[i] = json_array_get(mounts, i);
	qsort(sorted, n, sizeof(*sorted), mount_cmp);
	for (size_t i = 0; i < n; i++) {
		json_t *m = sorted[i];
		bool ro = json_is_true(json_object_get(m, "readOnly"));
		const char *sub = str(m, "subPath");

		if (*sub)
			dw_write(w, 3, "%s from %s (%s,path=\"%s\")\n", str(m, "mountPath"),
				 str(m, "name"), ro ? "ro" : "rw", sub);
		else
			dw_write(w, 3, "%s from %s (%s)\n", str(m, "mountPath"), str(m, "name"),
				 ro ? "ro" : "rw");
	}
}

static json_t *status_for(json_t *statuses, const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach (statuses, i, s)
		if (!strcmp(str(s, "name"), name))
			return s;
	return NULL;
}

static void describe_container(struct dw *w, json_t *c, json_t *st, json_t *pod, const char *space)
{
	_cleanup_free_ char *ports = ports_text(json_object_get(c, "ports"), false);
	_cleanup_free_ char *hports = ports_text(json_object_get(c, "ports"), true);
	static const char *const probes[][2] = {{"livenessProbe", "Liveness"},
						{"readinessProbe", "Readiness"},
						{"startupProbe", "Startup"}};
	size_t i;
	json_t *v;

	dw_write(w, 1, "%s%s:\n", *space ? " " : "", str(c, "name"));
	if (st)
		dw_write(w, 2, "Container ID:\t%s\n", str(st, "containerID"));
	dw_write(w, 2, "Image:\t%s\n", str(c, "image"));
	if (st)
		dw_write(w, 2, "Image ID:\t%s\n", str(st, "imageID"));
	if (strchr(ports, ','))
		dw_write(w, 2, "Ports:\t%s\n", ports);
	else
		dw_write(w, 2, "Port:\t%s\n", or_none(ports));
	if (strchr(hports, ','))
		dw_write(w, 2, "Host Ports:\t%s\n", hports);
	else
		dw_write(w, 2, "Host Port:\t%s\n", or_none(hports));
	if (json_array_size(json_object_get(c, "command"))) {
		dw_write(w, 2, "Command:\n");
		json_array_foreach (json_object_get(c, "command"), i, v)
			dw_write(w, 3, "%s\n", json_string_value(v) ?: "");
	}
	if (json_array_size(json_object_get(c, "args"))) {
		dw_write(w, 2, "Args:\n");
		json_array_foreach (json_object_get(c, "args"), i, v)
			dw_write(w, 3, "%s\n", json_string_value(v) ?: "");
	}
	if (st) {
		describe_state(w, "State", json_object_get(st, "state"));
		if (api_get(st, "lastState.terminated"))
			describe_state(w, "Last State", json_object_get(st, "lastState"));
		dw_write(w, 2, "Ready:\t%s\n",
			 json_is_true(json_object_get(st, "ready")) ? "True" : "False");
		dw_write(w, 2, "Restart Count:\t%" PRId64 "\n", api_get_int(st, "restartCount", 0));
	}
	describe_resources(w, json_object_get(c, "resources"), 2);
	for (size_t k = 0; k < SK_ARRAY_SIZE(probes); k++) {
		json_t *p = json_object_get(c, probes[k][0]);

		if (p) {
			_cleanup_free_ char *t = probe_text(p);

			dw_write(w, 2, "%s:\t%s\n", probes[k][1], t);
		}
	}
	describe_env_from(w, c);
	describe_env(w, c, pod);
	describe_mounts(w, c);
}

static void describe_containers(struct dw *w, const char *label, json_t *containers,
				json_t *statuses, json_t *pod, const char *space)
{
	size_t i;
	json_t *c;

	dw_write(w, 0, "%s%s:%s\n", space, label, json_array_size(containers) ? "" : " <none>");
	json_array_foreach (containers, i, c)
		describe_container(w, c, status_for(statuses, str(c, "name")), pod, space);
}

static void describe_volume(struct dw *w, json_t *v)
{
	json_t *s;

	if ((s = json_object_get(v, "hostPath"))) {
		dw_write(w, 2,
			 "Type:\tHostPath (bare host directory volume)\n    Path:\t%s\n    "
			 "HostPathType:\t%s\n",
			 str(s, "path"), *str(s, "type") ? str(s, "type") : "<none>");
	} else if ((s = json_object_get(v, "emptyDir"))) {
		json_t *limit = json_object_get(s, "sizeLimit");
		_cleanup_free_ char *l = limit ? value_text(limit) : sk_strdup("<unset>");

		dw_write(
			w, 2,
			"Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    "
			"Medium:\t%s\n    SizeLimit:\t%s\n",
			str(s, "medium"), l);
	} else if ((s = json_object_get(v, "gitRepo"))) {
		dw_write(w, 2,
			 "Type:\tGitRepo (a volume that is pulled from git when the pod is "
			 "created)\n    Repository:\t%s\n    Revision:\t%s\n",
			 str(s, "repository"), str(s, "revision"));
	} else if ((s = json_object_get(v, "secret"))) {
		dw_write(w, 2,
			 "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t%s\n    "
			 "Optional:\t%s\n",
			 str(s, "secretName"),
			 json_is_true(json_object_get(s, "optional")) ? "true" : "false");
	} else if ((s = json_object_get(v, "configMap"))) {
		dw_write(w, 2,
			 "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t%s\n    "
			 "Optional:\t%s\n",
			 str(s, "name"),
			 json_is_true(json_object_get(s, "optional")) ? "true" : "false");
	} else if ((s = json_object_get(v, "persistentVolumeClaim"))) {
		dw_write(w, 2,
			 "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in "
			 "the same namespace)\n    ClaimName:\t%s\n    ReadOnly:\t%s\n",
			 str(s, "claimName"),
			 json_is_true(json_object_get(s, "readOnly")) ? "true" : "false");
	} else {
		dw_write(w, 1, "<unknown>\n");
	}
}

static void describe_volumes(struct dw *w, json_t *volumes, const char *space)
{
	size_t i;
	json_t *v;

	if (json_array_size(volumes) == 0) {
		dw_write(w, 0, "%sVolumes:\t<none>\n", space);
		return;
	}
	dw_write(w, 0, "%sVolumes:\n", space);
	json_array_foreach (volumes, i, v) {
		dw_write(w, 1, "%s%s:\n", *space ? " " : "", str(v, "name"));
		describe_volume(w, v);
	}
}

static void describe_pod_template(struct dw *w, json_t *tpl)
{
	json_t *spec = json_object_get(tpl, "spec");

	dw_write(w, 0, "Pod Template:\n");
	print_labels_multiline(w, "  Labels", api_get(tpl, "metadata.labels"));
	if (json_object_size(api_get(tpl, "metadata.annotations")))
		print_annotations_multiline(w, "  Annotations",
					    api_get(tpl, "metadata.annotations"));
	if (*str(spec, "serviceAccountName"))
		dw_write(w, 1, "Service Account:\t%s\n", str(spec, "serviceAccountName"));
	if (json_array_size(json_object_get(spec, "initContainers")))
		describe_containers(w, "Init Containers", json_object_get(spec, "initContainers"),
				    NULL, NULL, "  ");
	describe_containers(w, "Containers", json_object_get(spec, "containers"), NULL, NULL, "  ");
	describe_volumes(w, json_object_get(spec, "volumes"), "  ");
	if (*str(spec, "priorityClassName"))
		dw_write(w, 1, "Priority Class Name:\t%s\n", str(spec, "priorityClassName"));
	print_labels_multiline(w, "  Node-Selectors", json_object_get(spec, "nodeSelector"));
	print_tolerations(w, "  Tolerations", json_object_get(spec, "tolerations"));
}

static char *controller_of(json_t *obj)
{
	json_t *refs = api_get(obj, "metadata.ownerReferences"), *r;
	size_t i;

	json_array_foreach (refs, i, r)
		if (json_is_true(json_object_get(r, "controller")))
			return sk_asprintf("%s/%s", str(r, "kind"), str(r, "name"));
	return NULL;
}

/* qos.GetPodQOS: status.qosClass, else computed from requests and limits. */
static const char *pod_qos(json_t *pod)
{
	const char *q = api_get_str(pod, "status.qosClass");
	json_t *c;
	size_t i;
	bool any = false, guaranteed = true;

	if (q && *q)
		return q;
	json_array_foreach (api_get(pod, "spec.containers"), i, c) {
		json_t *req = api_get(c, "resources.requests"),
		       *lim = api_get(c, "resources.limits");

		any |= json_object_size(req) || json_object_size(lim);
		if (!json_object_get(lim, "cpu") || !json_object_get(lim, "memory"))
			guaranteed = false;
		if (json_object_get(req, "cpu") &&
		    !json_equal(json_object_get(req, "cpu"), json_object_get(lim, "cpu")))
			guaranteed = false;
		if (json_object_get(req, "memory") &&
		    !json_equal(json_object_get(req, "memory"), json_object_get(lim, "memory")))
			guaranteed = false;
	}
	return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

/* ---- fetching related objects ------------------------------------------------ */

struct describe_ctx {
	struct cli_client *c;
	struct dw w;
	bool show_events;
	bool printed; /* objects so far, for kubectl's blank lines between them */
};

static json_t *get_list(struct describe_ctx *d, const char *path)
{
	json_t *list = NULL;
	sk_err err = {0};

	if (cli_request(d->c, "GET", path, NULL, NULL, NULL, &list, NULL, &err) < 0) {
		json_decref(list);
		return NULL;
	}
	return list;
}

/* searchEvents: the events whose involvedObject is obj (kind omitted for
 * pods, as kubectl's describer does). Errors give an empty list. */
static json_t *search_events_list(struct describe_ctx *d, json_t *obj, bool with_kind)
{
	const char *ns = api_get_str(obj, "metadata.namespace");
	_cleanup_free_ char *sel = NULL;
	_cleanup_free_ char *esc = NULL;
	_cleanup_free_ char *path = NULL;
	json_t *list, *items;

	sel = sk_asprintf(
		"involvedObject.name=%s,involvedObject.namespace=%s%s%s,involvedObject.uid=%s",
		path_str(obj, "metadata.name"), ns ? ns : "",
		with_kind ? ",involvedObject.kind=" : "", with_kind ? str(obj, "kind") : "",
		path_str(obj, "metadata.uid"));
	esc = sk_url_escape(sel);
	if (ns && *ns) {
		_cleanup_free_ char *ens = sk_url_escape(ns);

		path = sk_asprintf("/api/v1/namespaces/%s/events?fieldSelector=%s", ens, esc);
	} else {
		path = sk_asprintf("/api/v1/events?fieldSelector=%s", esc);
	}
	list = get_list(d, path);
	items = json_incref(json_object_get(list, "items"));
	json_decref(list);
	return items ? items : json_array();
}

static json_t *search_events(struct describe_ctx *d, json_t *obj, bool with_kind)
{
	if (!d->show_events)
		return NULL;
	return search_events_list(d, obj, with_kind);
}

/* Pods of a controller by phase, as getPodStatusForController counts. */
static void pod_phases(struct describe_ctx *d, json_t *owner, const char *selector, int counts[4])
{
	_cleanup_free_ char *sel = sk_url_escape(selector ? selector : "");
	_cleanup_free_ char *ns = sk_url_escape(path_str(owner, "metadata.namespace"));
	_cleanup_free_ char *path =
		sk_asprintf("/api/v1/namespaces/%s/pods?labelSelector=%s", ns, sel);
	json_t *list = get_list(d, path), *pod;
	size_t i;

	memset(counts, 0, 4 * sizeof(int));
	json_array_foreach (json_object_get(list, "items"), i, pod) {
		const char *phase = path_str(pod, "status.phase");
		json_t *refs = api_get(pod, "metadata.ownerReferences"), *r;
		size_t j;
		bool mine = false;

		json_array_foreach (refs, j, r)
			mine |= json_is_true(json_object_get(r, "controller")) &&
				!strcmp(str(r, "uid"), path_str(owner, "metadata.uid"));
		if (!mine)
			continue;
		counts[0] += !strcmp(phase, "Running");
		counts[1] += !strcmp(phase, "Pending");
		counts[2] += !strcmp(phase, "Succeeded");
		counts[3] += !strcmp(phase, "Failed");
	}
	json_decref(list);
}

/* metav1.LabelSelectorAsSelector(...).String(); "" for an empty one. */
static char *selector_text(json_t *ls)
{
	api_selector *sel = NULL;
	sk_err err = {0};
	bool nothing;
	char *s;

	if (api_label_selector_from_json(ls, &sel, &err) < 0)
		return sk_strdup("");
	s = api_selector_string(sel, &nothing);
	api_selector_free(sel);
	return s;
}

/* ---- the describers ------------------------------------------------------------ */

static void describe_pod(struct describe_ctx *d, json_t *pod)
{
	struct dw *w = &d->w;
	json_t *spec = json_object_get(pod, "spec"), *status = json_object_get(pod, "status");
	const char *phase = str(status, "phase");
	const char *deleted = path_str(pod, "metadata.deletionTimestamp");
	_cleanup_free_ char *ctrl = controller_of(pod);
	json_t *events = search_events(d, pod, false), *c, *ip;
	char b[32];
	size_t i;

	dw_write(w, 0, "Name:\t%s\n", path_str(pod, "metadata.name"));
	dw_write(w, 0, "Namespace:\t%s\n", path_str(pod, "metadata.namespace"));
	if (json_is_integer(json_object_get(spec, "priority")))
		dw_write(w, 0, "Priority:\t%" PRId64 "\n", api_get_int(spec, "priority", 0));
	if (*str(spec, "priorityClassName"))
		dw_write(w, 0, "Priority Class Name:\t%s\n", str(spec, "priorityClassName"));
	if (*str(spec, "runtimeClassName"))
		dw_write(w, 0, "Runtime Class Name:\t%s\n", str(spec, "runtimeClassName"));
	if (*str(spec, "serviceAccountName"))
		dw_write(w, 0, "Service Account:\t%s\n", str(spec, "serviceAccountName"));
	if (*str(spec, "nodeName"))
		dw_write(w, 0, "Node:\t%s/%s\n", str(spec, "nodeName"), str(status, "hostIP"));
	else
		dw_write(w, 0, "Node:\t<none>\n");
	if (*str(status, "startTime")) {
		_cleanup_free_ char *t = rfc1123z(str(status, "startTime"));

		dw_write(w, 0, "Start Time:\t%s\n", t);
	}
	print_labels_multiline(w, "Labels", api_get(pod, "metadata.labels"));
	print_annotations_multiline(w, "Annotations", api_get(pod, "metadata.annotations"));
	if (*deleted && strcmp(phase, "Failed") && strcmp(phase, "Succeeded")) {
		dw_write(w, 0, "Status:\tTerminating (lasts %s)\n",
			 since(w, deleted, b, sizeof(b)));
		dw_write(w, 0, "Termination Grace Period:\t%" PRId64 "s\n",
			 api_get_int(pod, "metadata.deletionGracePeriodSeconds", 0));
	} else {
		dw_write(w, 0, "Status:\t%s\n", phase);
	}
	if (*str(status, "reason"))
		dw_write(w, 0, "Reason:\t%s\n", str(status, "reason"));
	if (*str(status, "message"))
		dw_write(w, 0, "Message:\t%s\n", str(status, "message"));
	if (api_get(spec, "securityContext.seccompProfile"))
		dw_write(w, 0, "SeccompProfile:\t%s\n",
			 path_str(spec, "securityContext.seccompProfile.type"));
	dw_write(w, 0, "IP:\t%s\n", str(status, "podIP"));
	if (json_array_size(json_object_get(status, "podIPs")) == 0) {
		dw_write(w, 0, "IPs:\t<none>\n");
	} else {
		dw_write(w, 0, "IPs:\n");
		json_array_foreach (json_object_get(status, "podIPs"), i, ip)
			dw_write(w, 1, "IP:\t%s\n", str(ip, "ip"));
	}
	if (ctrl)
		dw_write(w, 0, "Controlled By:\t%s\n", ctrl);
	if (*str(status, "nominatedNodeName"))
		dw_write(w, 0, "NominatedNodeName:\t%s\n", str(status, "nominatedNodeName"));
	if (json_array_size(json_object_get(spec, "initContainers")))
		describe_containers(w, "Init Containers", json_object_get(spec, "initContainers"),
				    json_object_get(status, "initContainerStatuses"), pod, "");
	describe_containers(w, "Containers", json_object_get(spec, "containers"),
			    json_object_get(status, "containerStatuses"), pod, "");
	if (json_array_size(json_object_get(status, "conditions"))) {
		dw_write(w, 0, "Conditions:\n  Type\tStatus\n");
		json_array_foreach (json_object_get(status, "conditions"), i, c)
			dw_write(w, 1, "%s \t%s \n", str(c, "type"), str(c, "status"));
	}
	describe_volumes(w, json_object_get(spec, "volumes"), "");
	dw_write(w, 0, "QoS Class:\t%s\n", pod_qos(pod));
	print_labels_multiline(w, "Node-Selectors", json_object_get(spec, "nodeSelector"));
	print_tolerations(w, "Tolerations", json_object_get(spec, "tolerations"));
	describe_events(w, events);
	json_decref(events);
}

/* formatEndpoints over the core Endpoints of a Service, for one port name:
 * at most three "ip:port", then " + N more...". */
static char *endpoints_text(json_t *ep, const char *port_name)
{
	sk_buf b;
	size_t i, j, k, count = 0;
	json_t *subset, *port, *addr;

	sk_buf_init(&b);
	json_array_foreach (json_object_get(ep, "subsets"), i, subset) {
		json_array_foreach (json_object_get(subset, "ports"), j, port) {
			if (strcmp(str(port, "name"), port_name) != 0)
				continue;
			json_array_foreach (json_object_get(subset, "addresses"), k, addr) {
				if (count++ < 3)
					sk_buf_printf(
						&b, "%s%s:%" JSON_INTEGER_FORMAT, b.len ? "," : "",
						str(addr, "ip"),
						json_integer_value(json_object_get(port, "port")));
			}
		}
	}
	if (count == 0) {
		sk_buf_free(&b);
		return sk_strdup("<none>");
	}
	if (count > 3)
		sk_buf_printf(&b, " + %zu more...", count - 3);
	return sk_buf_steal(&b);
}

static char *joined(json_t *arr, const char *sep)
{
	sk_buf b;
	size_t i;
	json_t *v;

	sk_buf_init(&b);
	sk_buf_puts(&b, "");
	json_array_foreach (arr, i, v)
		sk_buf_printf(&b, "%s%s", i ? sep : "", json_string_value(v) ?: "");
	return sk_buf_steal(&b);
}

static char *format_labels(json_t *map)
{
	size_t n;
	_cleanup_free_ const char **keys = sorted_keys(map, &n);
	sk_buf b;

	if (n == 0)
		return sk_strdup("<none>");
	sk_buf_init(&b);
	for (size_t i = 0; i < n; i++)
		sk_buf_printf(&b, "%s%s=%s", i ? "," : "", keys[i], str(map, keys[i]));
	return sk_buf_steal(&b);
}

static void describe_service(struct describe_ctx *d, json_t *svc)
{
	struct dw *w = &d->w;
	json_t *spec = json_object_get(svc, "spec"), *p;
	_cleanup_free_ char *sel = format_labels(json_object_get(spec, "selector"));
	_cleanup_free_ char *fams = joined(json_object_get(spec, "ipFamilies"), ",");
	_cleanup_free_ char *ips = joined(json_object_get(spec, "clusterIPs"), ",");
	_cleanup_free_ char *ns = sk_url_escape(path_str(svc, "metadata.namespace"));
	_cleanup_free_ char *name = sk_url_escape(path_str(svc, "metadata.name"));
	_cleanup_free_ char *ep_path = sk_asprintf("/api/v1/namespaces/%s/endpoints/%s", ns, name);
	json_t *ep = get_list(d, ep_path);
	json_t *events = search_events(d, svc, true);
	size_t i;

	dw_write(w, 0, "Name:\t%s\n", path_str(svc, "metadata.name"));
	dw_write(w, 0, "Namespace:\t%s\n", path_str(svc, "metadata.namespace"));
	print_labels_multiline(w, "Labels", api_get(svc, "metadata.labels"));
	print_annotations_multiline(w, "Annotations", api_get(svc, "metadata.annotations"));
	dw_write(w, 0, "Selector:\t%s\n", sel);
	dw_write(w, 0, "Type:\t%s\n", str(spec, "type"));
	if (*str(spec, "ipFamilyPolicy"))
		dw_write(w, 0, "IP Family Policy:\t%s\n", str(spec, "ipFamilyPolicy"));
	dw_write(w, 0, "IP Families:\t%s\n", or_none(fams));
	dw_write(w, 0, "IP:\t%s\n", str(spec, "clusterIP"));
	dw_write(w, 0, "IPs:\t%s\n", or_none(ips));
	if (json_array_size(json_object_get(spec, "externalIPs"))) {
		_cleanup_free_ char *ext = joined(json_object_get(spec, "externalIPs"), ",");

		dw_write(w, 0, "External IPs:\t%s\n", ext);
	}
	if (*str(spec, "externalName"))
		dw_write(w, 0, "External Name:\t%s\n", str(spec, "externalName"));
	json_array_foreach (json_object_get(spec, "ports"), i, p) {
		const char *pname = *str(p, "name") ? str(p, "name") : "<unset>";
		_cleanup_free_ char *target = int_or_string(json_object_get(p, "targetPort"));
		_cleanup_free_ char *eps = endpoints_text(ep, str(p, "name"));

		dw_write(w, 0, "Port:\t%s\t%" PRId64 "/%s\n", pname, api_get_int(p, "port", 0),
			 str(p, "protocol"));
		dw_write(w, 0, "TargetPort:\t%s/%s\n", target, str(p, "protocol"));
		if (*str(p, "appProtocol"))
			dw_write(w, 0, "AppProtocol:\t%s\n", str(p, "appProtocol"));
		if (api_get_int(p, "nodePort", 0))
			dw_write(w, 0, "NodePort:\t%s\t%" PRId64 "/%s\n", pname,
				 api_get_int(p, "nodePort", 0), str(p, "protocol"));
		dw_write(w, 0, "Endpoints:\t%s\n", eps);
	}
	dw_write(w, 0, "Session Affinity:\t%s\n", str(spec, "sessionAffinity"));
	if (*str(spec, "externalTrafficPolicy"))
		dw_write(w, 0, "External Traffic Policy:\t%s\n",
			 str(spec, "externalTrafficPolicy"));
	if (*str(spec, "internalTrafficPolicy"))
		dw_write(w, 0, "Internal Traffic Policy:\t%s\n",
			 str(spec, "internalTrafficPolicy"));
	describe_events(w, events);
	json_decref(events);
	json_decref(ep);
}

/* equalIgnoreHash: templates equal once pod-template-hash is dropped. */
static bool same_template(json_t *a, json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
	bool eq;

	json_object_del(api_get(x, "metadata.labels") ?: json_object(), "pod-template-hash");
	json_object_del(api_get(y, "metadata.labels") ?: json_object(), "pod-template-hash");
	eq = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return eq;
}

static char *rs_text(json_t **rss, size_t n)
{
	sk_buf b;

	if (n == 0)
		return sk_strdup("<none>");
	sk_buf_init(&b);
	for (size_t i = 0; i < n; i++)
		sk_buf_printf(&b, "%s%s (%" PRId64 "/%" PRId64 " replicas created)", i ? ", " : "",
			      path_str(rss[i], "metadata.name"),
			      api_get_int(rss[i], "status.replicas", 0),
			      api_get_int(rss[i], "spec.replicas", 1));
	return sk_buf_steal(&b);
}

static void describe_deployment(struct describe_ctx *d, json_t *dep)
{
	struct dw *w = &d->w;
	json_t *spec = json_object_get(dep, "spec"), *status = json_object_get(dep, "status"), *c;
	_cleanup_free_ char *sel = selector_text(json_object_get(spec, "selector"));
	_cleanup_free_ char *created = rfc1123z(path_str(dep, "metadata.creationTimestamp"));
	_cleanup_free_ char *esel = sk_url_escape(sel);
	_cleanup_free_ char *ns = sk_url_escape(path_str(dep, "metadata.namespace"));
	_cleanup_free_ char *path =
		sk_asprintf("/apis/apps/v1/namespaces/%s/replicasets?labelSelector=%s", ns, esel);
	json_t *rslist = get_list(d, path), *rs;
	json_t *events = search_events(d, dep, true);
	size_t n = json_array_size(json_object_get(rslist, "items")), nold = 0, nnew = 0, i;
	_cleanup_free_ json_t **old = sk_calloc(n + 1, sizeof(*old));
	_cleanup_free_ json_t **new_rs = sk_calloc(2, sizeof(*new_rs));

	json_array_foreach (json_object_get(rslist, "items"), i, rs) {
		if (!api_meta_is_owned_by(rs, path_str(dep, "metadata.uid")) ||
		    !api_meta_controller_ref(rs))
			continue;
		if (!nnew && same_template(json_object_get(json_object_get(rs, "spec"), "template"),
					   json_object_get(spec, "template")))
			new_rs[nnew++] = rs;
		else
			old[nold++] = rs;
	}
	dw_write(w, 0, "Name:\t%s\n", path_str(dep, "metadata.name"));
	dw_write(w, 0, "Namespace:\t%s\n", path_str(dep, "metadata.namespace"));
	dw_write(w, 0, "CreationTimestamp:\t%s\n", created);
	print_labels_multiline(w, "Labels", api_get(dep, "metadata.labels"));
	print_annotations_multiline(w, "Annotations", api_get(dep, "metadata.annotations"));
	dw_write(w, 0, "Selector:\t%s\n", sel);
	dw_write(w, 0,
		 "Replicas:\t%" PRId64 " desired | %" PRId64 " updated | %" PRId64
		 " total | %" PRId64 " available | %" PRId64 " unavailable\n",
		 api_get_int(spec, "replicas", 1), api_get_int(status, "updatedReplicas", 0),
		 api_get_int(status, "replicas", 0), api_get_int(status, "availableReplicas", 0),
		 api_get_int(status, "unavailableReplicas", 0));
	dw_write(w, 0, "StrategyType:\t%s\n", path_str(spec, "strategy.type"));
	dw_write(w, 0, "MinReadySeconds:\t%" PRId64 "\n", api_get_int(spec, "minReadySeconds", 0));
	if (api_get(spec, "strategy.rollingUpdate")) {
		_cleanup_free_ char *mu =
			int_or_string(api_get(spec, "strategy.rollingUpdate.maxUnavailable"));
		_cleanup_free_ char *ms =
			int_or_string(api_get(spec, "strategy.rollingUpdate.maxSurge"));

		dw_write(w, 0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n", mu,
			 ms);
	}
	describe_pod_template(w, json_object_get(spec, "template"));
	if (json_array_size(json_object_get(status, "conditions"))) {
		dw_write(w, 0, "Conditions:\n  Type\tStatus\tReason\n");
		dw_write(w, 1, "----\t------\t------\n");
		json_array_foreach (json_object_get(status, "conditions"), i, c)
			dw_write(w, 1, "%s \t%s\t%s\n", str(c, "type"), str(c, "status"),
				 str(c, "reason"));
	}
	if (nold || nnew) {
		_cleanup_free_ char *o = rs_text(old, nold);
		_cleanup_free_ char *nw = rs_text(new_rs, nnew);

		dw_write(w, 0, "OldReplicaSets:\t%s\n", o);
		dw_write(w, 0, "NewReplicaSet:\t%s\n", nw);
	}
	describe_events(w, events);
	json_decref(events);
	json_decref(rslist);
}

static void describe_replicaset(struct describe_ctx *d, json_t *rs)
{
	struct dw *w = &d->w;
	json_t *spec = json_object_get(rs, "spec"), *status = json_object_get(rs, "status"), *c;
	_cleanup_free_ char *sel = selector_text(json_object_get(spec, "selector"));
	_cleanup_free_ char *ctrl = controller_of(rs);
	json_t *events = search_events(d, rs, true);
	int counts[4];
	size_t i;

	pod_phases(d, rs, sel, counts);
	dw_write(w, 0, "Name:\t%s\n", path_str(rs, "metadata.name"));
	dw_write(w, 0, "Namespace:\t%s\n", path_str(rs, "metadata.namespace"));
	dw_write(w, 0, "Selector:\t%s\n", or_none(sel));
	print_labels_multiline(w, "Labels", api_get(rs, "metadata.labels"));
	print_annotations_multiline(w, "Annotations", api_get(rs, "metadata.annotations"));
	if (ctrl)
		dw_write(w, 0, "Controlled By:\t%s\n", ctrl);
	dw_write(w, 0, "Replicas:\t%" PRId64 " current / %" PRId64 " desired\n",
		 api_get_int(status, "replicas", 0), api_get_int(spec, "replicas", 1));
	dw_write(w, 0, "Pods Status:\t%d Running / %d Waiting / %d Succeeded / %d Failed\n",
		 counts[0], counts[1], counts[2], counts[3]);
	describe_pod_template(w, json_object_get(spec, "template"));
	if (json_array_size(json_object_get(status, "conditions"))) {
		dw_write(w, 0, "Conditions:\n  Type\tStatus\tReason\n");
		dw_write(w, 1, "----\t------\t------\n");
		json_array_foreach (json_object_get(status, "conditions"), i, c)
			dw_write(w, 1, "%s \t%s\t%s\n", str(c, "type"), str(c, "status"),
				 str(c, "reason"));
	}
	describe_events(w, events);
	json_decref(events);
}

static void describe_namespace(struct describe_ctx *d, json_t *ns)
{
	struct dw *w = &d->w;
	_cleanup_free_ char *name = sk_url_escape(path_str(ns, "metadata.name"));
	_cleanup_free_ char *qpath = sk_asprintf("/api/v1/namespaces/%s/resourcequotas", name);
	_cleanup_free_ char *lpath = sk_asprintf("/api/v1/namespaces/%s/limitranges", name);
	json_t *quotas = get_list(d, qpath), *limits = get_list(d, lpath), *c;
	size_t i;

	dw_write(w, 0, "Name:\t%s\n", path_str(ns, "metadata.name"));
	print_labels_multiline(w, "Labels", api_get(ns, "metadata.labels"));
	print_annotations_multiline(w, "Annotations", api_get(ns, "metadata.annotations"));
	dw_write(w, 0, "Status:\t%s\n", path_str(ns, "status.phase"));
	if (json_array_size(api_get(ns, "status.conditions"))) {
		dw_write(w, 0, "Conditions:\n");
		dw_write(w, 1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n");
		dw_write(w, 1, "----\t------\t------------------\t------\t-------\n");
		json_array_foreach (api_get(ns, "status.conditions"), i, c) {
			_cleanup_free_ char *t = rfc1123z(str(c, "lastTransitionTime"));

			dw_write(w, 1, "%s\t%s\t%s\t%s\t%s\n", str(c, "type"), str(c, "status"), t,
				 str(c, "reason"), str(c, "message"));
		}
	}
	/* a server without quotas or limit ranges (404) shows neither */
	if (quotas && json_array_size(json_object_get(quotas, "items")) == 0)
		dw_write(w, 0, "\nNo resource quota.\n");
	if (limits && json_array_size(json_object_get(limits, "items")) == 0)
		dw_write(w, 0, "\nNo LimitRange resource.\n");
	json_decref(quotas);
	json_decref(limits);
}

/* ---- nodes --------------------------------------------------------------------- */

static int64_t quantity_milli(json_t *q)
{
	int64_t v = 0;
	sk_err err = {0};

	if (q && api_quantity_json_milli(q, &v, &err) < 0)
		v = 0;
	return v;
}

/* A sum of quantities as resource.Quantity.String() prints it: cpu in
 * cores or millicores, memory with a binary suffix when exact. */
static char *quantity_text_raw(int64_t milli, bool cpu)
{
	static const char *const bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	int64_t v = milli / 1000;
	int idx = -1;

	if (milli == 0)
		return sk_strdup("0");
	if (cpu || milli % 1000)
		return milli % 1000 ? sk_asprintf("%" PRId64 "m", milli)
				    : sk_asprintf("%" PRId64, v);
	while (v % 1024 == 0 && idx < 5) {
		v /= 1024;
		idx++;
	}
	return idx >= 0 ? sk_asprintf("%" PRId64 "%s", v, bin[idx])
			: sk_asprintf("%" PRId64, milli / 1000);
}

static char *quantity_text(int64_t milli, bool cpu)
{
	_cleanup_free_ char *raw = quantity_text_raw(milli, cpu);
	json_t *q = json_string(raw);
	char *s = api_quantity_string(q);

	json_decref(q);
	return s;
}

static void pod_totals(json_t *pod, const char *which, int64_t *cpu, int64_t *mem)
{
	json_t *c;
	size_t i;

	*cpu = *mem = 0;
	json_array_foreach (api_get(pod, "spec.containers"), i, c) {
		json_t *list = api_get(c, which);

		*cpu += quantity_milli(json_object_get(list, "cpu"));
		*mem += quantity_milli(json_object_get(list, "memory"));
	}
}

static int64_t percent(int64_t part, int64_t whole)
{
	return whole ? (int64_t)((double)part / (double)whole * 100) : 0;
}

/* The per-pod lines divide without a zero check in kubectl: on a node with
 * no capacity Go's int64(+Inf or NaN) is the smallest int64 on amd64, and
 * that is what kubectl prints. */
static int64_t percent_unguarded(int64_t part, int64_t whole)
{
	return whole ? percent(part, whole) : INT64_MIN;
}

static void describe_node_pods(struct describe_ctx *d, json_t *node)
{
	struct dw *w = &d->w;
	_cleanup_free_ char *raw =
		sk_asprintf("spec.nodeName=%s,status.phase!=Succeeded,status.phase!=Failed",
			    path_str(node, "metadata.name"));
	_cleanup_free_ char *sel = sk_url_escape(raw);
	_cleanup_free_ char *path = sk_asprintf("/api/v1/pods?fieldSelector=%s", sel);
	json_t *list = get_list(d, path), *pod;
	json_t *alloc = api_get(node, "status.allocatable");
	int64_t acpu, amem, tr_cpu = 0, tr_mem = 0, tl_cpu = 0, tl_mem = 0;
	char b[32];
	size_t i;

	if (!json_object_size(alloc))
		alloc = api_get(node, "status.capacity");
	acpu = quantity_milli(json_object_get(alloc, "cpu"));
	amem = quantity_milli(json_object_get(alloc, "memory"));
	if (!list) {
		dw_write(w, 0, "Pods:\tnot authorized\n");
		return;
	}
	dw_write(w, 0, "Non-terminated Pods:\t(%zu in total)\n",
		 json_array_size(json_object_get(list, "items")));
	dw_write(w, 1,
		 "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory "
		 "Limits\tAge\n");
	dw_write(w, 1,
		 "---------\t----\t\t------------\t----------\t---------------\t-------------"
		 "\t---\n");
	json_array_foreach (json_object_get(list, "items"), i, pod) {
		int64_t rc, rm, lc, lm;

		pod_totals(pod, "resources.requests", &rc, &rm);
		pod_totals(pod, "resources.limits", &lc, &lm);
		tr_cpu += rc, tr_mem += rm, tl_cpu += lc, tl_mem += lm;
		_cleanup_free_ char *q1 = quantity_text(rc, true);
		_cleanup_free_ char *q2 = quantity_text(lc, true);
		_cleanup_free_ char *q3 = quantity_text(rm, false);
		_cleanup_free_ char *q4 = quantity_text(lm, false);

		dw_write(w, 1,
			 "%s\t%s\t\t%s (%" PRId64 "%%)\t%s (%" PRId64 "%%)\t%s (%" PRId64
			 "%%)\t%s (%" PRId64 "%%)\t%s\n",
			 path_str(pod, "metadata.namespace"), path_str(pod, "metadata.name"), q1,
			 percent_unguarded(rc, acpu), q2, percent_unguarded(lc, acpu), q3,
			 percent_unguarded(rm, amem), q4, percent_unguarded(lm, amem),
			 since(w, path_str(pod, "metadata.creationTimestamp"), b, sizeof(b)));
	}
	_cleanup_free_ char *t1 = quantity_text(tr_cpu, true);
	_cleanup_free_ char *t2 = quantity_text(tl_cpu, true);
	_cleanup_free_ char *t3 = quantity_text(tr_mem, false);
	_cleanup_free_ char *t4 = quantity_text(tl_mem, false);

	dw_write(w, 0,
		 "Allocated resources:\n  (Total limits may be over 100 percent, i.e., "
		 "overcommitted.)\n");
	dw_write(w, 1, "Resource\tRequests\tLimits\n");
	dw_write(w, 1, "--------\t--------\t------\n");
	dw_write(w, 1, "cpu\t%s (%" PRId64 "%%)\t%s (%" PRId64 "%%)\n", t1, percent(tr_cpu, acpu),
		 t2, percent(tl_cpu, acpu));
	dw_write(w, 1, "memory\t%s (%" PRId64 "%%)\t%s (%" PRId64 "%%)\n", t3,
		 percent(tr_mem, amem), t4, percent(tl_mem, amem));
	dw_write(w, 1, "ephemeral-storage\t0 (0%%)\t0 (0%%)\n");
	json_decref(list);
}

static void print_resource_list(struct dw *w, json_t *list)
{
	size_t n;
	_cleanup_free_ const char **keys = sorted_keys(list, &n);

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *v = api_quantity_string(json_object_get(list, keys[i]));

		dw_write(w, 0, "  %s:\t%s\n", keys[i], v);
	}
}

static void describe_node_lease(struct describe_ctx *d, json_t *node)
{
	struct dw *w = &d->w;
	_cleanup_free_ char *name = sk_url_escape(path_str(node, "metadata.name"));
	_cleanup_free_ char *path = sk_asprintf(
		"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", name);
	json_t *lease = NULL;
	sk_err err = {0};

	if (cli_request(d->c, "GET", path, NULL, NULL, NULL, &lease, NULL, &err) < 0) {
		dw_write(w, 0, "Lease:\tFailed to get lease: %s\n",
			 strncmp(err.msg, "Error from server ", 18) == 0 && strchr(err.msg, ':')
				 ? strchr(err.msg, ':') + 2
				 : err.msg);
		json_decref(lease);
		return;
	}
	const char *holder = api_get_str(lease, "spec.holderIdentity");
	const char *acq = api_get_str(lease, "spec.acquireTime");
	const char *renew = api_get_str(lease, "spec.renewTime");
	_cleanup_free_ char *a = acq ? rfc1123z(acq) : sk_strdup("<unset>");
	_cleanup_free_ char *r = renew ? rfc1123z(renew) : sk_strdup("<unset>");

	dw_write(w, 0, "Lease:\n");
	dw_write(w, 1, "HolderIdentity:\t%s\n", holder ? holder : "<unset>");
	dw_write(w, 1, "AcquireTime:\t%s\n", a);
	dw_write(w, 1, "RenewTime:\t%s\n", r);
	json_decref(lease);
}

static void describe_node(struct describe_ctx *d, json_t *node)
{
	struct dw *w = &d->w;
	json_t *status = json_object_get(node, "status"), *spec = json_object_get(node, "spec");
	json_t *labels = api_get(node, "metadata.labels"), *c, *t;
	_cleanup_free_ char *created = rfc1123z(path_str(node, "metadata.creationTimestamp"));
	_cleanup_strv_ char **roles = sk_calloc(1, sizeof(char *));
	json_t *events = search_events(d, node, true);
	const char *k;

	/* node events carry the node's uid or, from the kubelet, its name */
	if (events) {
		json_t *byname = json_deep_copy(node), *more;

		json_object_set_new(json_object_get(byname, "metadata"), "uid",
				    json_string(path_str(node, "metadata.name")));
		more = search_events(d, byname, true);
		json_array_extend(events, more);
		json_decref(more);
		json_decref(byname);
	}
	json_t *v;
	size_t i;

	json_object_foreach (labels, k, v) {
		if (sk_startswith(k, "node-role.kubernetes.io/") && k[24])
			roles = sk_strv_push(roles, k + 24);
		else if (!strcmp(k, "kubernetes.io/role") && *json_string_value(v))
			roles = sk_strv_push(roles, json_string_value(v));
	}
	qsort(roles, sk_strv_len(roles), sizeof(char *), key_cmp);
	dw_write(w, 0, "Name:\t%s\n", path_str(node, "metadata.name"));
	if (roles[0]) {
		dw_write(w, 0, "Roles:\t");
		for (i = 0; roles[i]; i++)
			dw_write(w, 0, "%s%s", i ? "," : "", roles[i]);
		dw_write(w, 0, "\n");
	} else {
		dw_write(w, 0, "Roles:\t<none>\n");
	}
	print_labels_multiline(w, "Labels", labels);
	print_annotations_multiline(w, "Annotations", api_get(node, "metadata.annotations"));
	dw_write(w, 0, "CreationTimestamp:\t%s\n", created);
	dw_write(w, 0, "Taints:\t");
	if (json_array_size(json_object_get(spec, "taints")) == 0)
		dw_write(w, 0, "<none>\n");
	json_array_foreach (json_object_get(spec, "taints"), i, t) {
		if (i)
			dw_write(w, 0, "\t");
		dw_write(w, 0, "%s%s%s:%s\n", str(t, "key"), *str(t, "value") ? "=" : "",
			 str(t, "value"), str(t, "effect"));
	}
	dw_write(w, 0, "Unschedulable:\t%s\n",
		 json_is_true(json_object_get(spec, "unschedulable")) ? "true" : "false");
	describe_node_lease(d, node);
	if (json_array_size(json_object_get(status, "conditions"))) {
		dw_write(w, 0,
			 "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\t"
			 "Reason\tMessage\n");
		dw_write(w, 1,
			 "----\t------\t-----------------\t------------------\t------\t-------\n");
		json_array_foreach (json_object_get(status, "conditions"), i, c) {
			_cleanup_free_ char *hb = rfc1123z(str(c, "lastHeartbeatTime"));
			_cleanup_free_ char *tr = rfc1123z(str(c, "lastTransitionTime"));

			dw_write(w, 1, "%s \t%s \t%s \t%s \t%s \t%s\n", str(c, "type"),
				 str(c, "status"), hb, tr, str(c, "reason"), str(c, "message"));
		}
	}
	dw_write(w, 0, "Addresses:\n");
	json_array_foreach (json_object_get(status, "addresses"), i, c)
		dw_write(w, 1, "%s:\t%s\n", str(c, "type"), str(c, "address"));
	if (json_object_size(json_object_get(status, "capacity"))) {
		dw_write(w, 0, "Capacity:\n");
		print_resource_list(w, json_object_get(status, "capacity"));
	}
	if (json_object_size(json_object_get(status, "allocatable"))) {
		dw_write(w, 0, "Allocatable:\n");
		print_resource_list(w, json_object_get(status, "allocatable"));
	}
	dw_write(w, 0, "System Info:\n");
	{
		static const char *const info[][2] = {
			{"Machine ID", "machineID"},
			{"System UUID", "systemUUID"},
			{"Boot ID", "bootID"},
			{"Kernel Version", "kernelVersion"},
			{"OS Image", "osImage"},
			{"Operating System", "operatingSystem"},
			{"Architecture", "architecture"},
			{"Container Runtime Version", "containerRuntimeVersion"},
			{"Kubelet Version", "kubeletVersion"},
			{"Kube-Proxy Version", "kubeProxyVersion"},
		};
		json_t *ni = json_object_get(status, "nodeInfo");

		for (size_t j = 0; j < SK_ARRAY_SIZE(info); j++)
			dw_write(w, 0, "  %s:\t%s\n", info[j][0], str(ni, info[j][1]));
	}
	if (*str(spec, "podCIDR"))
		dw_write(w, 0, "PodCIDR:\t%s\n", str(spec, "podCIDR"));
	if (json_array_size(json_object_get(spec, "podCIDRs"))) {
		_cleanup_free_ char *cidrs = joined(json_object_get(spec, "podCIDRs"), ",");

		dw_write(w, 0, "PodCIDRs:\t%s\n", cidrs);
	}
	if (*str(spec, "providerID"))
		dw_write(w, 0, "ProviderID:\t%s\n", str(spec, "providerID"));
	describe_node_pods(d, node);
	describe_events(w, events);
	json_decref(events);
}

static void describe_configmap(struct describe_ctx *d, json_t *cm)
{
	struct dw *w = &d->w;
	json_t *data = json_object_get(cm, "data"), *bin = json_object_get(cm, "binaryData");
	size_t n, nb;
	_cleanup_free_ const char **keys = sorted_keys(data, &n);
	_cleanup_free_ const char **bkeys = sorted_keys(bin, &nb);
	json_t *events = search_events(d, cm, true);

	dw_write(w, 0, "Name:\t%s\n", path_str(cm, "metadata.name"));
	dw_write(w, 0, "Namespace:\t%s\n", path_str(cm, "metadata.namespace"));
	print_labels_multiline(w, "Labels", api_get(cm, "metadata.labels"));
	print_annotations_multiline(w, "Annotations", api_get(cm, "metadata.annotations"));
	dw_write(w, 0, "\nData\n====\n");
	for (size_t i = 0; i < n; i++) {
		dw_write(w, 0, "%s:\n----\n", keys[i]);
		dw_write(w, 0, "%s\n", str(data, keys[i]));
		dw_write(w, 0, "\n");
	}
	dw_write(w, 0, "\nBinaryData\n====\n");
	for (size_t i = 0; i < nb; i++) {
		size_t len = strlen(str(bin, bkeys[i]));

		dw_write(w, 0, "%s: %zu bytes\n", bkeys[i], len / 4 * 3);
	}
	dw_write(w, 0, "\n");
	describe_events(w, events);
	json_decref(events);
}

static char *ips_of(json_t *addrs)
{
	sk_buf b;
	size_t i;
	json_t *a;

	if (json_array_size(addrs) == 0)
		return sk_strdup("<none>");
	sk_buf_init(&b);
	json_array_foreach (addrs, i, a)
		sk_buf_printf(&b, "%s%s", i ? "," : "", str(a, "ip"));
	return sk_buf_steal(&b);
}

static void describe_endpoints(struct describe_ctx *d, json_t *ep)
{
	struct dw *w = &d->w;
	json_t *events = search_events(d, ep, true), *subset, *port;
	size_t i, j;

	dw_write(w, 0, "Name:\t%s\n", path_str(ep, "metadata.name"));
	dw_write(w, 0, "Namespace:\t%s\n", path_str(ep, "metadata.namespace"));
	print_labels_multiline(w, "Labels", api_get(ep, "metadata.labels"));
	print_annotations_multiline(w, "Annotations", api_get(ep, "metadata.annotations"));
	dw_write(w, 0, "Subsets:\n");
	json_array_foreach (json_object_get(ep, "subsets"), i, subset) {
		_cleanup_free_ char *ready = ips_of(json_object_get(subset, "addresses"));
		_cleanup_free_ char *notready =
			ips_of(json_object_get(subset, "notReadyAddresses"));

		dw_write(w, 1, "Addresses:\t%s\n", ready);
		dw_write(w, 1, "NotReadyAddresses:\t%s\n", notready);
		if (json_array_size(json_object_get(subset, "ports"))) {
			dw_write(w, 1, "Ports:\n");
			dw_write(w, 2, "Name\tPort\tProtocol\n");
			dw_write(w, 2, "----\t----\t--------\n");
			json_array_foreach (json_object_get(subset, "ports"), j, port)
				dw_write(w, 2, "%s\t%" PRId64 "\t%s\n",
					 *str(port, "name") ? str(port, "name") : "<unset>",
					 api_get_int(port, "port", 0), str(port, "protocol"));
		}
		dw_write(w, 0, "\n");
	}
	describe_events(w, events);
	json_decref(events);
}

static void describe_secret(struct describe_ctx *d, json_t *sec)
{
	struct dw *w = &d->w;
	json_t *data = json_object_get(sec, "data");
	size_t n;
	_cleanup_free_ const char **keys = sorted_keys(data, &n);

	dw_write(w, 0, "Name:\t%s\n", path_str(sec, "metadata.name"));
	dw_write(w, 0, "Namespace:\t%s\n", path_str(sec, "metadata.namespace"));
	print_labels_multiline(w, "Labels", api_get(sec, "metadata.labels"));
	print_annotations_multiline(w, "Annotations", api_get(sec, "metadata.annotations"));
	dw_write(w, 0, "\nType:\t%s\n", str(sec, "type"));
	dw_write(w, 0, "\nData\n====\n");
	for (size_t i = 0; i < n; i++) {
		const char *b64 = str(data, keys[i]);
		size_t len = strlen(b64), bytes = len / 4 * 3;

		/* only the size of a secret value is shown, never the value */
		if (len >= 1 && b64[len - 1] == '=')
			bytes--;
		if (len >= 2 && b64[len - 2] == '=')
			bytes--;
		dw_write(w, 0, "%s:\t%zu bytes\n", keys[i], bytes);
	}
}

/* ---- the generic describer (printUnstructuredContent, smartLabelFor) ---------- */

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* "apiVersion" → "API Version", "resourceVersion" → "Resource Version". */
static char *smart_label(const char *field)
{
	static const char *const acronyms[] = {"API", "URL", "UID", "GUID"};
	_cleanup_strv_ char **parts = sk_calloc(1, sizeof(char *));
	sk_buf b;
	size_t start = 0, n = strlen(field);

	for (const char *p = field; *p; p++)
		if (!is_upper(*p) && !is_lower(*p) && *p != '-')
			return sk_strdup(field);
	/* camelcase.Split: a run of capitals keeps its last one for the word
	 * that follows ("APIVersion" → "API", "Version") */
	for (size_t i = 1; i <= n; i++) {
		bool cut = i == n;

		if (!cut && is_lower(field[i - 1]) && is_upper(field[i]))
			cut = true;
		if (!cut && is_upper(field[i - 1]) && is_upper(field[i]) && i + 1 < n &&
		    is_lower(field[i + 1]))
			cut = true;
		if (!cut && (field[i] == '-') != (field[i - 1] == '-'))
			cut = true;
		if (cut) {
			_cleanup_free_ char *part = sk_strndup(field + start, i - start);

			parts = sk_strv_push(parts, part);
			start = i;
		}
	}
	sk_buf_init(&b);
	for (size_t i = 0; parts[i]; i++) {
		char *part = parts[i];
		bool upper_word = true;

		for (char *p = part; *p; p++)
			upper_word &= !is_lower(*p);
		for (size_t a = 0; a < SK_ARRAY_SIZE(acronyms); a++)
			if (!strcasecmp(part, acronyms[a]))
				for (char *p = part; *p; p++)
					*p = is_lower(*p) ? (char)(*p - 'a' + 'A') : *p;
		if (!upper_word && is_lower(part[0]))
			part[0] = (char)(part[0] - 'a' + 'A');
		sk_buf_printf(&b, "%s%s", b.len ? " " : "", part);
	}
	return sk_buf_steal(&b);
}

static bool skipped(const char *path)
{
	static const char *const skip[] = {".metadata.managedFields", ".metadata.name",
					   ".metadata.namespace", ".metadata.labels",
					   ".metadata.annotations"};

	for (size_t i = 0; i < SK_ARRAY_SIZE(skip); i++)
		if (!strcmp(path, skip[i]))
			return true;
	return false;
}

static void print_unstructured(struct dw *w, int level, json_t *obj, const char *prefix)
{
	size_t n;
	_cleanup_free_ const char **keys = sorted_keys(obj, &n);

	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(obj, keys[i]), *item;
		_cleanup_free_ char *path = sk_asprintf("%s.%s", prefix, keys[i]);
		_cleanup_free_ char *label = smart_label(keys[i]);
		size_t j;

		if (skipped(path))
			continue;
		if (json_is_object(v)) {
			dw_write(w, level, "%s:\n", label);
			print_unstructured(w, level + 1, v, path);
		} else if (json_is_array(v)) {
			dw_write(w, level, "%s:\n", label);
			json_array_foreach (v, j, item) {
				if (json_is_object(item)) {
					print_unstructured(w, level + 1, item, path);
				} else {
					_cleanup_free_ char *t = value_text(item);

					dw_write(w, level + 1, "%s\n", t);
				}
			}
		} else {
			_cleanup_free_ char *t = value_text(v);

			dw_write(w, level, "%s:\t%s\n", label, t);
		}
	}
}

static void describe_generic(struct describe_ctx *d, json_t *obj)
{
	struct dw *w = &d->w;
	json_t *events = search_events(d, obj, true);

	dw_write(w, 0, "Name:\t%s\n", path_str(obj, "metadata.name"));
	dw_write(w, 0, "Namespace:\t%s\n", path_str(obj, "metadata.namespace"));
	print_labels_multiline(w, "Labels", api_get(obj, "metadata.labels"));
	print_annotations_multiline(w, "Annotations", api_get(obj, "metadata.annotations"));
	print_unstructured(w, 0, obj, "");
	describe_events(w, events);
	json_decref(events);
}

/* ---- the command ---------------------------------------------------------------- */

static void describe_object(struct describe_ctx *d, const struct cli_resource *r, json_t *obj,
			    sk_buf *out)
{
	static const struct {
		const char *group, *kind;
		void (*fn)(struct describe_ctx *, json_t *);
	} describers[] = {
		{"", "Pod", describe_pod},
		{"", "Service", describe_service},
		{"", "Node", describe_node},
		{"", "Namespace", describe_namespace},
		{"", "ConfigMap", describe_configmap},
		{"", "Secret", describe_secret},
		{"", "Endpoints", describe_endpoints},
		{"apps", "Deployment", describe_deployment},
		{"apps", "ReplicaSet", describe_replicaset},
	};
	void (*fn)(struct describe_ctx *, json_t *) = describe_generic;

	for (size_t i = 0; i < SK_ARRAY_SIZE(describers); i++)
		if (!strcmp(r->group, describers[i].group) && !strcmp(r->kind, describers[i].kind))
			fn = describers[i].fn;
	if (!json_object_get(obj, "kind"))
		json_object_set_new(obj, "kind", json_string(r->kind));
	sk_tabwriter_init(&d->w.tw, 0, 2, false);
	d->w.now = sk_now_ns() / 1000000000;
	fn(d, obj);
	if (d->printed)
		sk_buf_puts(out, "\n\n");
	d->printed = true;
	sk_tabwriter_flush(&d->w.tw, out);
	sk_tabwriter_free(&d->w.tw);
	cli_flush_out(out);
}

/* Every object of r in the namespace whose name starts with prefix ("" for
 * all), selected by selector; kubectl's DescribeMatchingResources. */
static int describe_matching(struct describe_ctx *d, const struct cli_resource *r,
			     const char *prefix, const char *selector, sk_buf *out, sk_err *err)
{
	_cleanup_free_ char *esel = selector ? sk_url_escape(selector) : NULL;
	_cleanup_free_ char *q = esel ? sk_asprintf("labelSelector=%s", esel) : NULL;
	_cleanup_free_ char *path = cli_resource_path(r, d->c->ns, NULL, q);
	json_t *list = NULL, *item;
	size_t i, found = 0;

	if (cli_request(d->c, "GET", path, NULL, NULL, NULL, &list, NULL, err) < 0) {
		json_decref(list);
		return -1;
	}
	json_array_foreach (json_object_get(list, "items"), i, item) {
		if (!sk_startswith(cli_meta(item, "name") ?: "", prefix))
			continue;
		found++;
		describe_object(d, r, item, out);
	}
	json_decref(list);
	return (int)found;
}

static int describe_name(struct describe_ctx *d, const struct cli_resource *r, const char *ns,
			 const char *name, sk_buf *out, sk_err *err)
{
	_cleanup_free_ char *path = cli_resource_path(r, ns, name, NULL);
	json_t *obj = NULL;
	long code;
	int found;

	if (cli_request(d->c, "GET", path, NULL, NULL, NULL, &obj, &code, err) == 0) {
		describe_object(d, r, obj, out);
		json_decref(obj);
		return 0;
	}
	json_decref(obj);
	if (code != 404)
		return -1;
	{
		sk_err merr = {0};

		found = describe_matching(d, r, name, NULL, out, &merr);
	}
	return found > 0 ? 0 : -1; /* err keeps the NotFound of the GET */
}

static int describe_files(struct describe_ctx *d, char **files, sk_buf *out)
{
	json_t *objs = NULL, *item;
	sk_err err = {0};
	size_t i;
	int rc = 0;

	if (cli_read_objects(files, false, &objs, &err) < 0)
		return cli_fail(&err);
	json_array_foreach (objs, i, item) {
		struct cli_target t;

		if (cli_object_target(d->c, json_object_get(item, "object"),
				      json_string_value(json_object_get(item, "source")), &t,
				      &err) < 0 ||
		    describe_name(d, t.res, t.ns, t.name, out, &err) < 0) {
			rc = cli_fail(&err);
		}
	}
	json_decref(objs);
	return rc;
}

static int describe_args(struct describe_ctx *d, char **args, const char *selector, sk_buf *out)
{
	const struct cli_resource *r;
	sk_err err = {0};
	int rc = 0;

	if (!args[0])
		return cli_failf(
			"error: You must specify the type of resource to describe. Use "
			"\"skiff api-resources\" for a complete list of supported resources.");
	if (strchr(args[0], '/')) {
		for (char **a = args; *a; a++) {
			char *slash = strchr(*a, '/');
			_cleanup_free_ char *type =
				slash ? sk_strndup(*a, (size_t)(slash - *a)) : NULL;

			if (!slash)
				return cli_failf(
					"error: arguments in resource/name form must have a "
					"single resource and name");
			if (cli_resolve(d->c, type, &r, &err) < 0 ||
			    describe_name(d, r, d->c->ns, slash + 1, out, &err) < 0)
				rc = cli_fail(&err);
		}
		return rc;
	}
	if (cli_resolve(d->c, args[0], &r, &err) < 0)
		return cli_fail(&err);
	if (!args[1]) {
		int found = describe_matching(d, r, "", selector, out, &err);

		if (found < 0)
			return cli_fail(&err);
		if (found == 0) {
			if (r->namespaced)
				fprintf(stderr, "No resources found in %s namespace.\n", d->c->ns);
			else
				fprintf(stderr, "No resources found\n");
		}
		return 0;
	}
	for (char **n = args + 1; *n; n++)
		if (describe_name(d, r, d->c->ns, *n, out, &err) < 0)
			rc = cli_fail(&err);
	return rc;
}

static int cmd_describe(int argc, char **argv)
{
	_cleanup_strv_ char **args = NULL;
	char **files = NULL;
	const char *selector = NULL;
	bool show_events = true;
	struct cli_flag flags[] = {
		{"filename", 'f', CLI_FLAG_STRINGS, &files, NULL},
		{"selector", 'l', CLI_FLAG_STRING, &selector, NULL},
		{"show-events", 0, CLI_FLAG_BOOL, &show_events, NULL},
		{0},
	};
	struct cli_client c;
	struct describe_ctx d = {.c = &c};

	sk_err err = {0};
	sk_buf out;
	int rc;

	if (cli_parse_flags(argc, argv, flags, USAGE, &args, &err) < 0) {
		sk_strv_free(files);
		return cli_failf("error: %s", err.msg);
	}
	if (cli_client_open(&c, &err) < 0) {
		sk_strv_free(files);
		return cli_fail(&err);
	}
	d.show_events = show_events;
	sk_buf_init(&out);
	rc = files && files[0] ? describe_files(&d, files, &out)
			       : describe_args(&d, args, selector, &out);
	sk_buf_free(&out);
	cli_client_close(&c);
	sk_strv_free(files);
	return rc;
}
SK_COMMAND(describe, "describe", cmd_describe, "show details of resources (as kubectl describe)");
