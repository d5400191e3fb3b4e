/* Events, as the kubelet's recorder writes them: source kubelet on this
 * host, involvedObject with the container's fieldPath, and aggregation
 * (the same object, type, reason and message within ten minutes bumps
 * `count` and `lastTimestamp` of the existing Event instead of creating a
 * new one). Events go out in order on a thread of their own; losing one
 * when the server is away is acceptable (the kubelet drops them too). */
#include "agent_internal.h"

#include <stdarg.h>
#include <string.h>

#define AGGREGATE_S 600
#define CACHE_MAX 4096

struct seen {
	char *key; /* uid \n type \n reason \n message */
	char *ns, *name;
	int64_t count;
	int64_t first, last;
	struct seen *next;
};

struct agent_events {
	agent *a;
	agent_pool *writer; /* one thread: creates before their patches */
	struct seen *head;
	size_t n;
};

struct agent_events *agent_events_new(agent *a)
{
	struct agent_events *e = sk_calloc(1, sizeof(*e));

	e->a = a;
	e->writer = agent_pool_new(a, "agent-events", 1, 1);
	return e;
}

static void seen_free(struct seen *s)
{
	free(s->key);
	free(s->ns);
	free(s->name);
	free(s);
}

void agent_events_free(struct agent_events *e)
{
	if (!e)
		return;
	agent_pool_free(e->writer);
	while (e->head) {
		struct seen *next = e->head->next;
		seen_free(e->head);
		e->head = next;
	}
	free(e);
}

struct event_job {
	char *path;
	json_t *body; /* the Event (create) or a merge patch */
	bool patch;
};

static void event_run(struct agent_worker *w, void *data)
{
	struct event_job *j = data;
	sk_http *h;
	sk_err err;

	h = agent_worker_http(w, &err);
	if (h && (j->patch ? agent_api_merge_patch(h, j->path, j->body, NULL, &err)
			   : agent_api(h, "POST", j->path, NULL, j->body, NULL, &err)) == 0)
		;
	else
		sk_debug("agent: event: %s", err.msg);
	free(j->path);
	json_decref(j->body);
	free(j);
}

static struct seen *lookup(struct agent_events *e, const char *key, int64_t now)
{
	struct seen **pp = &e->head;

	while (*pp) {
		struct seen *s = *pp;
		if (now - s->last > AGGREGATE_S) {
			*pp = s->next;
			seen_free(s);
			e->n--;
			continue;
		}
		if (!strcmp(s->key, key))
			return s;
		pp = &s->next;
	}
	return NULL;
}

static void remember(struct agent_events *e, const char *key, const char *ns, const char *name,
		     int64_t now)
{
	struct seen *s = sk_calloc(1, sizeof(*s));

	if (e->n >= CACHE_MAX) {
		/* forget the oldest half; aggregation is best effort */
		struct seen *p = e->head;
		for (size_t i = 0; p && i < CACHE_MAX / 2; i++)
			p = p->next;
		while (p && p->next) {
			struct seen *dead = p->next;
			p->next = dead->next;
			seen_free(dead);
			e->n--;
		}
	}
	s->key = sk_strdup(key);
	s->ns = sk_strdup(ns);
	s->name = sk_strdup(name);
	s->count = 1;
	s->first = s->last = now;
	s->next = e->head;
	e->head = s;
	e->n++;
}

static json_t *involved(json_t *obj, const char *field_path)
{
	json_t *io = json_object();
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ns = api_get_str(obj, "metadata.namespace");
	const char *rv = api_get_str(obj, "metadata.resourceVersion");

	json_object_set_new(io, "kind", json_string(kind ? kind : "Pod"));
	if (ns)
		json_object_set_new(io, "namespace", json_string(ns));
	json_object_set_new(io, "name", json_string(api_get_str(obj, "metadata.name")));
	if (api_get_str(obj, "metadata.uid"))
		json_object_set_new(io, "uid", json_string(api_get_str(obj, "metadata.uid")));
	json_object_set_new(io, "apiVersion", json_string("v1"));
	if (rv)
		json_object_set_new(io, "resourceVersion", json_string(rv));
	if (field_path)
		json_object_set_new(io, "fieldPath", json_string(field_path));
	return io;
}

static json_t *new_event(agent *a, json_t *obj, const char *field_path, const char *type,
			 const char *reason, const char *msg, const char *ns, const char *name,
			 int64_t now)
{
	char ts[32];
	json_t *ev = json_object();

	sk_rfc3339(now, ts, sizeof(ts));
	json_object_set_new(ev, "apiVersion", json_string("v1"));
	json_object_set_new(ev, "kind", json_string("Event"));
	json_object_set_new(ev, "metadata", json_pack("{s:s,s:s}", "name", name, "namespace", ns));
	json_object_set_new(ev, "involvedObject", involved(obj, field_path));
	json_object_set_new(ev, "reason", json_string(reason));
	json_object_set_new(ev, "message", json_string(msg));
	json_object_set_new(ev, "source",
			    json_pack("{s:s,s:s}", "component", "kubelet", "host", a->node_name));
	json_object_set_new(ev, "firstTimestamp", json_string(ts));
	json_object_set_new(ev, "lastTimestamp", json_string(ts));
	json_object_set_new(ev, "count", json_integer(1));
	json_object_set_new(ev, "type", json_string(type));
	json_object_set_new(ev, "eventTime", json_null());
	json_object_set_new(ev, "reportingComponent", json_string("kubelet"));
	json_object_set_new(ev, "reportingInstance", json_string(a->node_name));
	return ev;
}

static void vevent(agent *a, json_t *obj, const char *field_path, const char *type,
		   const char *reason, const char *fmt, va_list ap)
{
	struct agent_events *e = a->events;
	_cleanup_free_ char *msg = sk_vasprintf(fmt, ap);
	const char *ns = api_get_str(obj, "metadata.namespace");
	const char *oname = api_get_str(obj, "metadata.name");
	const char *uid = api_get_str(obj, "metadata.uid");
	int64_t now = sk_now_ns() / 1000000000LL;
	struct event_job *j = sk_calloc(1, sizeof(*j));

	if (!e || !oname || atomic_load(&a->stopping)) {
		free(j);
		return;
	}
	ns = ns ? ns : "default"; /* Node events live in default, as Kubernetes puts them */
	_cleanup_free_ char *key = sk_asprintf("%s\n%s\n%s\n%s\n%s", uid ? uid : oname,
					       field_path ? field_path : "", type, reason, msg);
	struct seen *s = lookup(e, key, now);
	if (s) {
		char ts[32];
		sk_rfc3339(now, ts, sizeof(ts));
		s->count++;
		s->last = now;
		j->patch = true;
		j->path = sk_asprintf("/api/v1/namespaces/%s/events/%s", s->ns, s->name);
		j->body =
			json_pack("{s:I,s:s}", "count", (json_int_t)s->count, "lastTimestamp", ts);
	} else {
		_cleanup_free_ char *name =
			sk_asprintf("%s.%llx", oname, (unsigned long long)sk_now_ns());
		remember(e, key, ns, name, now);
		j->path = sk_asprintf("/api/v1/namespaces/%s/events", ns);
		j->body = new_event(a, obj, field_path, type, reason, msg, ns, name, now);
	}
	agent_pool_submit(e->writer, event_run, NULL, j);
}

void agent_event(agent *a, json_t *obj, const char *field_path, const char *type,
		 const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vevent(a, obj, field_path, type, reason, fmt, ap);
	va_end(ap);
}
