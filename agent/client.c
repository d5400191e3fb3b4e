/* The agent's side of the API: JSON requests over the common HTTP client,
 * and list+watch loops in threads of their own whose events reach the
 * agent's loop in order. The agent reads and writes only through these,
 * with the same REST paths kubectl uses. */
#include "agent_internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCH_TIMEOUT_S 300
#define RETRY_MIN_MS 200
#define RETRY_MAX_MS 5000

int agent_http_new(const struct agent_config *cfg, sk_http **out, sk_err *err)
{
	struct sk_http_config hc = {
		.server = cfg->server,
		.ca_file = cfg->ca_pem ? NULL : cfg->ca_file,
		.ca_data = cfg->ca_pem,
		.token = cfg->token,
		.insecure = cfg->insecure,
		.connect_timeout_ms = 5000,
		.timeout_ms = 30000,
		.user_agent = "skiff-agent",
	};

	return sk_http_new(&hc, out, err);
}

/* The message of a Status answer, or the body's first line. */
static int api_error(const char *method, const char *path, struct sk_http_response *r, sk_err *err)
{
	json_t *st = json_loadb(r->body.data, r->body.len, 0, NULL);
	const char *msg = json_string_value(json_object_get(st, "message"));
	int ret;

	if (msg)
		ret = sk_err_set(err, (int)r->status, "%s %s: %s", method, path, msg);
	else
		ret = sk_err_set(err, (int)r->status, "%s %s: HTTP %ld: %.200s", method, path,
				 r->status, r->body.data ? r->body.data : "");
	json_decref(st);
	return ret;
}

int agent_api(sk_http *h, const char *method, const char *path, const char *content_type,
	      json_t *body, json_t **out, sk_err *err)
{
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct sk_http_request req = {
		.method = method,
		.path = path,
		.content_type = content_type,
		.body = text,
		.body_len = text ? strlen(text) : 0,
	};
	struct sk_http_response resp;
	int ret = 0;

	if (out)
		*out = NULL;
	if (sk_http_do(h, &req, &resp, err) < 0)
		return -1;
	if (resp.status < 200 || resp.status >= 300) {
		ret = api_error(method, path, &resp, err);
	} else if (out) {
		json_error_t je;
		*out = json_loadb(resp.body.data, resp.body.len, 0, &je);
		if (!*out)
			ret = sk_err_set(err, EPROTO, "%s %s: the answer is not JSON: %s", method,
					 path, je.text);
	}
	sk_http_response_free(&resp);
	return ret;
}

int agent_api_get(sk_http *h, const char *path, json_t **out, sk_err *err)
{
	return agent_api(h, "GET", path, NULL, NULL, out, err);
}

int agent_api_merge_patch(sk_http *h, const char *path, json_t *patch, json_t **out, sk_err *err)
{
	return agent_api(h, "PATCH", path, "application/merge-patch+json", patch, out, err);
}

/* ---- watches ------------------------------------------------------------------ */

struct agent_watch {
	agent *a;
	char *path, *query;
	agent_watch_cb cb;
	void *data;
	pthread_t thread;
	sk_http *http;
	atomic_bool stop;
	bool stopped; /* loop side: deliver nothing more */
	char rv[32];
	int retry_ms;
};

struct watch_event {
	agent_watch *w;
	enum agent_watch_type type;
	json_t *obj;
};

static void deliver_event(agent *a, void *data)
{
	struct watch_event *ev = data;

	if (!ev->w->stopped)
		ev->w->cb(a, ev->type, ev->obj, ev->w->data);
	json_decref(ev->obj);
	free(ev);
}

static void post_event(agent_watch *w, enum agent_watch_type type, json_t *obj)
{
	struct watch_event *ev = sk_calloc(1, sizeof(*ev));

	ev->w = w;
	ev->type = type;
	ev->obj = obj;
	agent_post(w->a, deliver_event, ev);
}

static char *watch_url(agent_watch *w, bool watch)
{
	const char *q = w->query ? w->query : "";
	const char *amp = *q ? "&" : "";

	if (!watch)
		return sk_asprintf("%s%s%s", w->path, *q ? "?" : "", q);
	return sk_asprintf("%s?%s%swatch=1&resourceVersion=%s&allowWatchBookmarks=true"
			   "&timeoutSeconds=%d",
			   w->path, q, amp, w->rv, WATCH_TIMEOUT_S);
}

static int do_list(agent_watch *w, sk_err *err)
{
	_cleanup_free_ char *url = watch_url(w, false);
	json_t *list = NULL;
	const char *rv;

	if (agent_api_get(w->http, url, &list, err) < 0)
		return -1;
	rv = api_get_str(list, "metadata.resourceVersion");
	snprintf(w->rv, sizeof(w->rv), "%s", rv ? rv : "0");
	json_t *items = json_object_get(list, "items");
	post_event(w, AGENT_WATCH_SYNC, json_is_array(items) ? json_incref(items) : json_array());
	json_decref(list);
	return 0;
}

/* One line of a watch stream. > 0 asks for a re-list (410 Gone). */
static int on_watch_line(const char *line, size_t len, void *ctx, sk_err *err SK_UNUSED)
{
	agent_watch *w = ctx;
	json_t *ev, *obj;
	const char *type, *rv;

	if (atomic_load(&w->stop))
		return 1;
	if (len == 0)
		return 0;
	ev = json_loadb(line, len, 0, NULL);
	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	if (!type || !json_is_object(obj)) {
		json_decref(ev);
		return 0;
	}
	rv = api_get_str(obj, "metadata.resourceVersion");
	if (!strcmp(type, "ERROR")) {
		int code = (int)json_integer_value(json_object_get(obj, "code"));
		json_decref(ev);
		w->rv[0] = '\0';
		return code == 410 ? 1 : 1; /* any error: start over with a list */
	}
	if (rv)
		snprintf(w->rv, sizeof(w->rv), "%s", rv);
	if (!strcmp(type, "ADDED"))
		post_event(w, AGENT_WATCH_ADDED, json_incref(obj));
	else if (!strcmp(type, "MODIFIED"))
		post_event(w, AGENT_WATCH_MODIFIED, json_incref(obj));
	else if (!strcmp(type, "DELETED"))
		post_event(w, AGENT_WATCH_DELETED, json_incref(obj));
	json_decref(ev);
	return 0;
}

static int do_watch(agent_watch *w, sk_err *err)
{
	_cleanup_free_ char *url = watch_url(w, true);
	struct sk_http_request req = {.path = url};
	struct sk_http_response resp;
	int ret;

	ret = sk_http_stream(w->http, &req, true, on_watch_line, w, &resp, err);
	if (ret == 0 && (resp.status < 200 || resp.status >= 300)) {
		ret = api_error("GET", url, &resp, err);
		if (resp.status == 410)
			w->rv[0] = '\0';
	}
	sk_http_response_free(&resp);
	return ret;
}

static void pause_ms(agent_watch *w, int ms)
{
	for (int slept = 0; slept < ms && !atomic_load(&w->stop); slept += 50)
		nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
}

static void *watch_main(void *arg)
{
	agent_watch *w = arg;
	sk_err err;

	pthread_setname_np(pthread_self(), "agent-watch");
	while (!atomic_load(&w->stop)) {
		int r = w->rv[0] ? do_watch(w, &err) : do_list(w, &err);
		if (atomic_load(&w->stop))
			break;
		if (r == 0) {
			w->retry_ms = 0;
			continue;
		}
		sk_warn("agent: watch %s: %s", w->path, err.msg);
		w->retry_ms = w->retry_ms ? w->retry_ms * 2 : RETRY_MIN_MS;
		if (w->retry_ms > RETRY_MAX_MS)
			w->retry_ms = RETRY_MAX_MS;
		pause_ms(w, w->retry_ms);
	}
	return NULL;
}

agent_watch *agent_watch_start(agent *a, const char *path, const char *query, agent_watch_cb cb,
			       void *data)
{
	agent_watch *w = sk_calloc(1, sizeof(*w));
	sk_err err;

	w->a = a;
	w->path = sk_strdup(path);
	w->query = query ? sk_strdup(query) : NULL;
	w->cb = cb;
	w->data = data;
	if (agent_http_new(&a->cfg, &w->http, &err) < 0) {
		sk_error("agent: watch %s: %s", path, err.msg);
		w->stopped = true;
		return w;
	}
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		sk_error("agent: watch %s: cannot start a thread", path);
		sk_http_free(w->http);
		w->http = NULL;
	}
	return w;
}

static void free_watch(agent *a SK_UNUSED, void *data)
{
	agent_watch *w = data;

	sk_http_free(w->http);
	free(w->path);
	free(w->query);
	free(w);
}

void agent_watch_cancel(agent_watch *w)
{
	if (!w)
		return;
	w->stopped = true;
	atomic_store(&w->stop, true);
	if (w->http)
		sk_http_cancel(w->http);
}

void agent_watch_stop(agent_watch *w)
{
	if (!w)
		return;
	agent_watch_cancel(w);
	if (w->http)
		pthread_join(w->thread, NULL);
	/* after every event it posted, which now see `stopped` */
	agent_post(w->a, free_watch, w);
}
