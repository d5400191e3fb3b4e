/* bench/sched-bind: how fast the scheduler binds pods, seen the way a
 * user sees it: through a watch of the pods (spec.nodeName appears).
 *
 *   sched-bind --server URL --ca FILE --token-file FILE MODE [-n N]
 *     latency   N pods one after another: create -> bound
 *     burst     N pods created back to back: the time until all are
 *               bound, and how they are spread over the nodes
 *
 * The nodes are the caller's (bench/sched-bind makes Node objects; no
 * agent runs, so this is the scheduler and the API alone). Each pod
 * requests 100m cpu and 64Mi. Prints p50, p90, p99, max (ms). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/common.h"

#define NS "default"
#define MAX_PODS 20000

struct bench {
	struct sk_http_config hc;
	int n;
	const char *prefix;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t *bound_at; /* ns, 0 until seen bound */
	char **node;	   /* where each went */
	int bound;
	sk_http *watch_http;
	char rv[32];
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int pod_index(struct bench *b, const char *name)
{
	size_t l = strlen(b->prefix);

	if (!name || strncmp(name, b->prefix, l) != 0)
		return -1;
	int i = atoi(name + l);
	return i >= 0 && i < b->n ? i : -1;
}

static int on_event(const char *line, size_t len, void *ctx, sk_err *err SK_UNUSED)
{
	struct bench *b = ctx;
	int64_t t = now_ns();
	json_t *ev = json_loadb(line, len, 0, NULL);
	json_t *obj = json_object_get(ev, "object");
	const char *name =
		json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	const char *node =
		json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));
	int i = pod_index(b, name);

	pthread_mutex_lock(&b->lock);
	if (i >= 0 && node && *node && !b->bound_at[i]) {
		b->bound_at[i] = t;
		b->node[i] = sk_strdup(node);
		b->bound++;
		pthread_cond_broadcast(&b->cond);
	}
	pthread_mutex_unlock(&b->lock);
	json_decref(ev);
	return 0;
}

static void *watch_main(void *arg)
{
	struct bench *b = arg;
	_cleanup_free_ char *path =
		sk_asprintf("/api/v1/namespaces/" NS "/pods?watch=1&resourceVersion=%s", b->rv);
	struct sk_http_request req = {.path = path};
	struct sk_http_response resp;
	sk_err err;

	if (sk_http_stream(b->watch_http, &req, true, on_event, b, &resp, &err) == 0)
		sk_http_response_free(&resp);
	return NULL;
}

static int request(sk_http *h, const char *method, const char *path, json_t *body, json_t **out)
{
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct sk_http_request req = {
		.method = method, .path = path, .body = text, .body_len = text ? strlen(text) : 0};
	struct sk_http_response resp;
	sk_err err;

	if (sk_http_do(h, &req, &resp, &err) < 0) {
		fprintf(stderr, "sched-bind: %s %s: %s\n", method, path, err.msg);
		return -1;
	}
	int ok = resp.status >= 200 && resp.status < 300;
	if (!ok)
		fprintf(stderr, "sched-bind: %s %s: HTTP %ld: %s\n", method, path, resp.status,
			resp.body.data);
	if (ok && out)
		*out = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	sk_http_response_free(&resp);
	return ok ? 0 : -1;
}

static int create_pod(struct bench *b, sk_http *h, int i)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%d", b->prefix, i);
	json_t *p = json_pack("{s:s,s:s,s:{s:s},s:{s:[{s:s,s:s,s:{s:{s:s,s:s}}}]}}", "apiVersion",
			      "v1", "kind", "Pod", "metadata", "name", name, "spec", "containers",
			      "name", "c", "image", "busybox:latest", "resources", "requests",
			      "cpu", "100m", "memory", "64Mi");
	int r = request(h, "POST", "/api/v1/namespaces/" NS "/pods", p, NULL);
	json_decref(p);
	return r;
}

static int start_watch(struct bench *b, sk_http *h, pthread_t *t)
{
	json_t *list = NULL;
	sk_err err;

	if (request(h, "GET", "/api/v1/namespaces/" NS "/pods?limit=1", NULL, &list) < 0)
		return -1;
	snprintf(b->rv, sizeof(b->rv), "%s",
		 json_string_value(
			 json_object_get(json_object_get(list, "metadata"), "resourceVersion"))
			 ?: "0");
	json_decref(list);
	if (sk_http_new(&b->hc, &b->watch_http, &err) < 0) {
		fprintf(stderr, "sched-bind: %s\n", err.msg);
		return -1;
	}
	return pthread_create(t, NULL, watch_main, b) == 0 ? 0 : -1;
}

static void stop_watch(struct bench *b, pthread_t t)
{
	sk_http_cancel(b->watch_http);
	pthread_join(t, NULL);
	sk_http_free(b->watch_http);
}

static bool wait_until(struct bench *b, bool (*done)(struct bench *, int), int arg, int secs)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs;
	pthread_mutex_lock(&b->lock);
	while (!done(b, arg) && pthread_cond_timedwait(&b->cond, &b->lock, &until) != ETIMEDOUT)
		;
	ok = done(b, arg);
	pthread_mutex_unlock(&b->lock);
	return ok;
}

static bool pod_bound(struct bench *b, int i)
{
	return b->bound_at[i] != 0;
}

static bool all_bound(struct bench *b, int n)
{
	return b->bound >= n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, int n)
{
	qsort(ms, (size_t)n, sizeof(double), cmp_double);
#define PCT(p) ms[(int)ceil((p) / 100.0 * n) - 1]
	printf("%-22s n=%d  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms\n", what, n, PCT(50), PCT(90),
	       PCT(99), ms[n - 1]);
}

static int latency(struct bench *b, sk_http *h)
{
	double *ms = sk_calloc((size_t)b->n, sizeof(double));
	pthread_t t;
	int ret = 0;

	if (start_watch(b, h, &t) < 0)
		return 1;
	for (int i = 0; i < b->n && ret == 0; i++) {
		int64_t t0 = now_ns();
		if (create_pod(b, h, i) < 0 || !wait_until(b, pod_bound, i, 60)) {
			fprintf(stderr, "sched-bind: %s%d was not bound\n", b->prefix, i);
			ret = 1;
		}
		ms[i] = (double)(b->bound_at[i] - t0) / 1e6;
	}
	stop_watch(b, t);
	if (ret == 0)
		report("create -> bound", ms, b->n);
	free(ms);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "node-01 40, node-02 40, node-03 20": bin packing at a glance. */
static void spread(struct bench *b)
{
	char **names = sk_calloc((size_t)b->n, sizeof(char *));

	for (int i = 0; i < b->n; i++)
		names[i] = b->node[i];
	qsort(names, (size_t)b->n, sizeof(char *), cmp_str);
	printf("spread:");
	for (int i = 0; i < b->n;) {
		int j = i;
		while (j < b->n && !strcmp(names[j], names[i]))
			j++;
		printf(" %s %d", names[i], j - i);
		i = j;
	}
	printf("\n");
	free(names);
}

static int burst(struct bench *b, sk_http *h)
{
	pthread_t t;
	int64_t t0, t_created, last = 0;

	if (start_watch(b, h, &t) < 0)
		return 1;
	t0 = now_ns();
	for (int i = 0; i < b->n; i++) {
		if (create_pod(b, h, i) < 0) {
			stop_watch(b, t);
			return 1;
		}
	}
	t_created = now_ns();
	bool all = wait_until(b, all_bound, b->n, 300);
	stop_watch(b, t);
	if (!all) {
		fprintf(stderr, "sched-bind: only %d of %d pods were bound\n", b->bound, b->n);
		return 1;
	}
	for (int i = 0; i < b->n; i++)
		if (b->bound_at[i] > last)
			last = b->bound_at[i];
	printf("burst of %d pods: created in %.0f ms; all bound %.0f ms after the first create "
	       "(%.0f ms after the last; %.0f pods/s)\n",
	       b->n, (double)(t_created - t0) / 1e6, (double)(last - t0) / 1e6,
	       (double)(last - t_created) / 1e6, b->n / ((double)(last - t0) / 1e9));
	spread(b);
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b = {.n = 100};
	const char *mode = NULL, *token_file = NULL;
	_cleanup_free_ char *token = NULL;
	sk_http *h = NULL;
	sk_err err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--server") && i + 1 < argc)
			b.hc.server = argv[++i];
		else if (!strcmp(argv[i], "--ca") && i + 1 < argc)
			b.hc.ca_file = argv[++i];
		else if (!strcmp(argv[i], "--token-file") && i + 1 < argc)
			token_file = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			b.n = atoi(argv[++i]);
		else
			mode = argv[i];
	}
	if (!mode || !b.hc.server || !token_file || b.n < 1 || b.n > MAX_PODS) {
		fprintf(stderr, "usage: sched-bind --server URL --ca FILE --token-file FILE "
				"latency|burst [-n N]\n");
		return 2;
	}
	if (sk_read_file(token_file, 4096, &token, NULL, &err) < 0) {
		fprintf(stderr, "sched-bind: %s\n", err.msg);
		return 1;
	}
	token[strcspn(token, "\r\n")] = '\0';
	b.hc.token = token;
	b.hc.timeout_ms = 60000;
	b.prefix = !strcmp(mode, "latency") ? "lat-" : "burst-";
	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.cond, NULL);
	b.bound_at = sk_calloc((size_t)b.n, sizeof(int64_t));
	b.node = sk_calloc((size_t)b.n, sizeof(char *));
	if (sk_http_new(&b.hc, &h, &err) < 0) {
		fprintf(stderr, "sched-bind: %s\n", err.msg);
		return 1;
	}
	int ret = !strcmp(mode, "latency") ? latency(&b, h)
		  : !strcmp(mode, "burst") ? burst(&b, h)
					   : 2;
	sk_http_free(h);
	for (int i = 0; i < b.n; i++)
		free(b.node[i]);
	free(b.node);
	free(b.bound_at);
	return ret;
}
