/* Events as client-go's recorder writes them: a core/v1 Event per
 * occurrence, and for a repeat of the same one (object, type, reason,
 * message) an update of the first's count and lastTimestamp, so a pod
 * that stays unschedulable has one FailedScheduling event "(x12 over
 * 5m)" rather than twelve; and, as its spam filter, at most 25 events
 * about one object, then one per 5 minutes. */
#include "controllers.h"

#include <errno.h>
#include <stdarg.h>

/* client-go's correlator keeps 4096 entries (LRU); clearing the whole
 * cache when full costs at most one extra Event per key. */
#define RECORDER_CACHE_MAX 4096
/* client-go's spam filter: per involved object, a burst of 25 events,
 * then one per 5 minutes. */
#define SPAM_BURST 25
#define SPAM_REFILL_NS (300LL * 1000000000LL)

struct bucket {
	int tokens;
	int64_t last_ns;
};

struct seen {
	char *ns, *name; /* the Event */
	int64_t count;
};

struct ctl_recorder {
	ctl_client *c;
	char *component;
	sk_map *seen;	 /* aggregation key -> struct seen */
	sk_map *buckets; /* involved object -> struct bucket */
};

static void seen_free(void *p)
{
	struct seen *s = p;

	free(s->ns);
	free(s->name);
	free(s);
}

ctl_recorder *ctl_recorder_new(ctl_client *c, const char *component)
{
	ctl_recorder *r = sk_calloc(1, sizeof(*r));

	r->c = c;
	r->component = sk_strdup(component);
	r->seen = sk_map_new(seen_free);
	r->buckets = sk_map_new(free);
	return r;
}

void ctl_recorder_free(ctl_recorder *r)
{
	if (!r)
		return;
	sk_map_free(r->seen);
	sk_map_free(r->buckets);
	free(r->component);
	free(r);
}

static const api_kind *event_kind(void)
{
	return api_kind_by_resource("", "events");
}

static json_t *involved_object(json_t *obj)
{
	json_t *ref = json_object();
	const char *fields[][2] = {
		{"kind", "kind"},
		{"namespace", "metadata.namespace"},
		{"name", "metadata.name"},
		{"uid", "metadata.uid"},
		{"apiVersion", "apiVersion"},
		{"resourceVersion", "metadata.resourceVersion"},
	};

	for (size_t i = 0; i < SK_ARRAY_SIZE(fields); i++) {
		const char *v = api_get_str(obj, fields[i][1]);
		if (v && *v)
			json_object_set_new(ref, fields[i][0], json_string(v));
	}
	return ref;
}

/* A repeat: count + 1 and a new lastTimestamp on the first Event. false
 * when that Event is gone (expired or deleted): make a new one. */
static bool bump(ctl_recorder *r, struct seen *s, const char *now)
{
	json_t *patch =
		json_pack("{s:I,s:s}", "count", (json_int_t)(s->count + 1), "lastTimestamp", now);
	sk_err err = {0};
	int ret = r->c->patch(r->c, event_kind(), s->ns, s->name, NULL, "merge", patch, NULL, &err);

	json_decref(patch);
	if (ret < 0) {
		if (err.code != 404)
			sk_debug("%s: event %s/%s: %s", r->component, s->ns, s->name, err.msg);
		return false;
	}
	s->count++;
	return true;
}

static void create(ctl_recorder *r, const char *key, json_t *obj, const char *type,
		   const char *reason, const char *message, const char *now)
{
	const char *ns = api_meta_namespace(obj), *name = api_meta_name(obj);
	_cleanup_free_ char *ev_name =
		sk_asprintf("%s.%llx", name ? name : "unknown", (unsigned long long)sk_now_ns());
	sk_err err = {0};

	if (!ns || !*ns)
		ns = "default";
	json_t *ev =
		json_pack("{s:s,s:s,s:{s:s,s:s},s:o,s:s,s:s,s:{s:s},s:s,s:s,s:i,s:s,s:n,"
			  "s:s,s:s}",
			  "apiVersion", "v1", "kind", "Event", "metadata", "name", ev_name,
			  "namespace", ns, "involvedObject", involved_object(obj), "reason", reason,
			  "message", message, "source", "component", r->component, "firstTimestamp",
			  now, "lastTimestamp", now, "count", 1, "type", type, "eventTime",
			  "reportingComponent", r->component, "reportingInstance", "");
	if (r->c->create(r->c, event_kind(), ns, ev, NULL, &err) < 0) {
		sk_debug("%s: event %s for %s/%s: %s", r->component, reason, ns, name ? name : "",
			 err.msg);
		json_decref(ev);
		return;
	}
	json_decref(ev);
	if (sk_map_len(r->seen) >= RECORDER_CACHE_MAX)
		sk_map_clear(r->seen);
	struct seen *s = sk_calloc(1, sizeof(*s));
	s->ns = sk_strdup(ns);
	s->name = sk_strdup(ev_name);
	s->count = 1;
	sk_map_set(r->seen, key, s);
}

/* May another event about this object be recorded now? */
static bool allowed(ctl_recorder *r, json_t *obj)
{
	_cleanup_free_ char *key = sk_asprintf("%s/%s/%s", api_meta_namespace(obj) ?: "",
					       api_meta_name(obj) ?: "", api_meta_uid(obj) ?: "");
	struct bucket *b = sk_map_get(r->buckets, key);
	int64_t now = sk_monotonic_ns();

	if (!b) {
		if (sk_map_len(r->buckets) >= RECORDER_CACHE_MAX)
			sk_map_clear(r->buckets);
		b = sk_calloc(1, sizeof(*b));
		b->tokens = SPAM_BURST;
		b->last_ns = now;
		sk_map_set(r->buckets, key, b);
	}
	int64_t refill = (now - b->last_ns) / SPAM_REFILL_NS;
	if (refill > 0) {
		b->tokens = b->tokens + refill > SPAM_BURST ? SPAM_BURST : b->tokens + (int)refill;
		b->last_ns += refill * SPAM_REFILL_NS;
	}
	if (b->tokens <= 0)
		return false;
	b->tokens--;
	return true;
}

void ctl_eventf(ctl_recorder *r, json_t *obj, const char *type, const char *reason, const char *fmt,
		...)
{
	_cleanup_free_ char *message = NULL, *key = NULL;
	char now[32];
	va_list ap;

	if (!allowed(r, obj))
		return;
	va_start(ap, fmt);
	message = sk_vasprintf(fmt, ap);
	va_end(ap);
	sk_rfc3339(sk_now_ns() / 1000000000LL, now, sizeof(now));
	key = sk_asprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s", api_meta_uid(obj) ?: "",
			  api_meta_name(obj) ?: "", type, reason, message);
	struct seen *s = sk_map_get(r->seen, key);
	if (s && bump(r, s, now))
		return;
	create(r, key, obj, type, reason, message, now);
}
