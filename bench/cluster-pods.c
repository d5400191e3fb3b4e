/* bench/cluster-pods: pod latencies of a running skiff cluster, seen the
 * way a user sees them: through a watch.
 *
 *   cluster-pods --server URL --ca FILE --token-file FILE MODE [-n N]
 *     latency   N pods one after another: create -> Running seen by the
 *               watch, then delete -> DELETED seen by the watch (the pods
 *               stop at SIGTERM, so no grace period is waited for)
 *     burst     N pods created at once: the time until all are Running
 *               (the pods stay; `cleanup` removes them)
 *     cleanup   delete every benchmark pod and wait until they are gone
 *
 * Prints per-pod figures (ms): p50, p90, p99, max. Linked with skiff's
 * libraries for the HTTP client. */
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
#define MAX_PODS 10000

struct bench {
	struct sk_http_config hc;
	int n;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int64_t *running_at; /* ns, 0 until seen Running */
	int64_t *deleted_at;
	int running, deleted;
	sk_http *watch_http;
	char rv[32];
	bool watching;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int pod_index(const char *name)
{
	if (!name || strncmp(name, "bench-", 6))
		return -1;
	int i = atoi(name + 6);
	return i >= 0 && i < MAX_PODS ? i : -1;
}

static int on_event(const char *line, size_t len, void *ctx, sk_err *err SK_UNUSED)
{
	struct bench *b = ctx;
	int64_t t = now_ns();
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	const char *name =
		json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	const char *phase =
		json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
	int i = pod_index(name);

	pthread_mutex_lock(&b->lock);
	if (i >= 0 && i < b->n && type) {
		if (!strcmp(type, "DELETED") && !b->deleted_at[i]) {
			b->deleted_at[i] = t;
			b->deleted++;
		} else if (strcmp(type, "DELETED") && phase && !strcmp(phase, "Running") &&
			   !b->running_at[i]) {
			b->running_at[i] = t;
			b->running++;
		}
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
		sk_asprintf("/api/v1/namespaces/" NS
			    "/pods?watch=1&labelSelector=bench%%3Dpods&resourceVersion=%s",
			    b->rv);
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
		fprintf(stderr, "cluster-pods: %s %s: %s\n", method, path, err.msg);
		return -1;
	}
	int ok = resp.status >= 200 && resp.status < 300;
	if (!ok)
		fprintf(stderr, "cluster-pods: %s %s: HTTP %ld: %s\n", method, path, resp.status,
			resp.body.data);
	if (ok && out)
		*out = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	sk_http_response_free(&resp);
	return ok ? 0 : -1;
}

static json_t *pod(int i)
{
	char name[32];

	snprintf(name, sizeof(name), "bench-%d", i);
	return json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:{s:i,s:[{s:s,s:s,s:[s,s,s]}]}}", "apiVersion",
			 "v1", "kind", "Pod", "metadata", "name", name, "labels", "bench", "pods",
			 "spec", "terminationGracePeriodSeconds", 30, "containers", "name", "c",
			 "image", "busybox:latest", "command", "sh", "-c",
			 "trap 'exit 0' TERM; sleep 100000 & wait");
}

static int start_watch(struct bench *b, sk_http *h, pthread_t *t)
{
	json_t *list = NULL;
	sk_err err;

	if (request(h, "GET", "/api/v1/namespaces/" NS "/pods?labelSelector=bench%3Dpods", NULL,
		    &list) < 0)
		return -1;
	snprintf(b->rv, sizeof(b->rv), "%s",
		 json_string_value(
			 json_object_get(json_object_get(list, "metadata"), "resourceVersion"))
			 ?: "0");
	json_decref(list);
	if (sk_http_new(&b->hc, &b->watch_http, &err) < 0) {
		fprintf(stderr, "cluster-pods: %s\n", err.msg);
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

/* Wait until *counter (under lock) reaches want, or timeout. */
static bool wait_count(struct bench *b, int *counter, int want, int timeout_s)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_s;
	pthread_mutex_lock(&b->lock);
	while (*counter < want && pthread_cond_timedwait(&b->cond, &b->lock, &until) != ETIMEDOUT)
		;
	ok = *counter >= want;
	pthread_mutex_unlock(&b->lock);
	return ok;
}

static bool wait_slot(struct bench *b, int64_t *slot, int timeout_s)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_s;
	pthread_mutex_lock(&b->lock);
	while (!*slot && pthread_cond_timedwait(&b->cond, &b->lock, &until) != ETIMEDOUT)
		;
	ok = *slot != 0;
	pthread_mutex_unlock(&b->lock);
	return ok;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, int n)
{
	qsort(ms, (size_t)n, sizeof(double), cmp_double);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += ms[i];
#define PCT(p) ms[(int)ceil((p) / 100.0 * n) - 1]
	printf("%-22s n=%d  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  mean %.1f ms\n", what, n,
	       PCT(50), PCT(90), PCT(99), ms[n - 1], sum / n);
}

static int latency(struct bench *b, sk_http *h)
{
	double *create = sk_calloc((size_t)b->n, sizeof(double));
	double *del = sk_calloc((size_t)b->n, sizeof(double));
	pthread_t t;
	int ret = 0;

	if (start_watch(b, h, &t) < 0)
		return 1;
	for (int i = 0; i < b->n && ret == 0; i++) {
		json_t *p = pod(i);
		int64_t t0 = now_ns();
		if (request(h, "POST", "/api/v1/namespaces/" NS "/pods", p, NULL) < 0 ||
		    !wait_slot(b, &b->running_at[i], 60)) {
			fprintf(stderr, "cluster-pods: bench-%d did not become Running\n", i);
			ret = 1;
		}
		create[i] = (double)(b->running_at[i] - t0) / 1e6;
		json_decref(p);
	}
	for (int i = 0; i < b->n && ret == 0; i++) {
		char path[96];
		snprintf(path, sizeof(path), "/api/v1/namespaces/" NS "/pods/bench-%d", i);
		int64_t t0 = now_ns();
		if (request(h, "DELETE", path, NULL, NULL) < 0 ||
		    !wait_slot(b, &b->deleted_at[i], 60)) {
			fprintf(stderr, "cluster-pods: bench-%d was not deleted\n", i);
			ret = 1;
		}
		del[i] = (double)(b->deleted_at[i] - t0) / 1e6;
	}
	stop_watch(b, t);
	if (ret == 0) {
		report("create -> Running", create, b->n);
		report("delete -> gone", del, b->n);
	}
	free(create);
	free(del);
	return ret;
}

static int burst(struct bench *b, sk_http *h)
{
	pthread_t t;
	int64_t t0, t_created;

	if (start_watch(b, h, &t) < 0)
		return 1;
	t0 = now_ns();
	for (int i = 0; i < b->n; i++) {
		json_t *p = pod(i);
		int r = request(h, "POST", "/api/v1/namespaces/" NS "/pods", p, NULL);
		json_decref(p);
		if (r < 0) {
			stop_watch(b, t);
			return 1;
		}
	}
	t_created = now_ns();
	bool all = wait_count(b, &b->running, b->n, 600);
	int64_t last = 0;
	for (int i = 0; i < b->n; i++)
		if (b->running_at[i] > last)
			last = b->running_at[i];
	stop_watch(b, t);
	if (!all) {
		fprintf(stderr, "cluster-pods: only %d of %d pods became Running\n", b->running,
			b->n);
		return 1;
	}
	printf("burst of %d pods: created in %.0f ms; all Running after %.0f ms (%.1f pods/s)\n",
	       b->n, (double)(t_created - t0) / 1e6, (double)(last - t0) / 1e6,
	       b->n / ((double)(last - t0) / 1e9));
	return 0;
}

static int cleanup(struct bench *b, sk_http *h)
{
	json_t *list = NULL;

	(void)b;
	if (request(h, "DELETE", "/api/v1/namespaces/" NS "/pods?labelSelector=bench%3Dpods", NULL,
		    NULL) < 0)
		return 1;
	for (int i = 0; i < 1200; i++) {
		if (request(h, "GET", "/api/v1/namespaces/" NS "/pods?labelSelector=bench%3Dpods",
			    NULL, &list) < 0)
			return 1;
		size_t n = json_array_size(json_object_get(list, "items"));
		json_decref(list);
		if (n == 0)
			return 0;
		usleep(100 * 1000);
	}
	fprintf(stderr, "cluster-pods: pods still there after 2 minutes\n");
	return 1;
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
		fprintf(stderr, "usage: cluster-pods --server URL --ca FILE --token-file FILE "
				"latency|burst|cleanup [-n N]\n");
		return 2;
	}
	if (sk_read_file(token_file, 4096, &token, NULL, &err) < 0) {
		fprintf(stderr, "cluster-pods: %s\n", err.msg);
		return 1;
	}
	token[strcspn(token, "\r\n")] = '\0';
	b.hc.token = token;
	b.hc.timeout_ms = 60000;
	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.cond, NULL);
	b.running_at = sk_calloc((size_t)b.n, sizeof(int64_t));
	b.deleted_at = sk_calloc((size_t)b.n, sizeof(int64_t));
	if (sk_http_new(&b.hc, &h, &err) < 0) {
		fprintf(stderr, "cluster-pods: %s\n", err.msg);
		return 1;
	}
	int ret = !strcmp(mode, "latency")   ? latency(&b, h)
		  : !strcmp(mode, "burst")   ? burst(&b, h)
		  : !strcmp(mode, "cleanup") ? cleanup(&b, h)
					     : 2;
	sk_http_free(h);
	free(b.running_at);
	free(b.deleted_at);
	return ret;
}
