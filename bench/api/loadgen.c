/* A small load generator for the API server (bench/api/run.sh drives it).
 *
 *   loadgen create URL TOKEN CACERT NS COUNT CLIENTS
 *       COUNT pods created by CLIENTS threads, each with one keep-alive
 *       connection; prints creates/s.
 *   loadgen list URL TOKEN CACERT NS REPEAT
 *       LIST of every pod in NS, REPEAT times; prints min and median ms.
 *   loadgen watch URL TOKEN CACERT NS WATCHERS UPDATES
 *       WATCHERS watches on NS (one thread, libcurl multi), then UPDATES
 *       patches of one pod; prints how long until every watcher has seen
 *       every update, and the events delivered.
 *
 * Every request is checked: a wrong status fails the run. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *url, *token, *cacert, *ns;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct sink {
	size_t bytes, lines;
	char *data;
	size_t cap;
	int keep;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = sz * n;

	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n')
			s->lines++;
	if (s->keep) {
		if (s->bytes + len + 1 > s->cap) {
			s->cap = (s->bytes + len + 1) * 2;
			s->data = realloc(s->data, s->cap);
		}
		memcpy(s->data + s->bytes, p, len);
		s->data[s->bytes + len] = '\0';
	}
	s->bytes += len;
	return len;
}

static CURL *handle(struct curl_slist **hdrs, const char *ctype)
{
	CURL *c = curl_easy_init();
	char auth[512];

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	*hdrs = curl_slist_append(NULL, auth);
	if (ctype)
		*hdrs = curl_slist_append(*hdrs, ctype);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
	/* Debian's libcurl also reads every file in /etc/ssl/certs for each
	 * connection (60 ms) unless told not to */
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	return c;
}

/* ---- create -------------------------------------------------------------------- */

static const char pod_fmt[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"bench-%d-%d\","
	"\"labels\":{\"app\":\"bench\",\"client\":\"c%d\",\"tier\":\"web\"},"
	"\"annotations\":{\"bench.skiff.dev/note\":\"a pod of a typical size, with two "
	"containers, ports, env, resources and a volume\"}},"
	"\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\","
	"\"ports\":[{\"containerPort\":8080,\"name\":\"http\"}],"
	"\"env\":[{\"name\":\"MODE\",\"value\":\"production\"},{\"name\":\"LEVEL\",\"value\":"
	"\"info\"}],"
	"\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"},"
	"\"limits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"}},"
	"\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]},"
	"{\"name\":\"sidecar\",\"image\":\"busybox:1.36\",\"command\":[\"sh\",\"-c\",\"sleep "
	"3600\"]}],"
	"\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}}]}}";

struct creator {
	int id, count, failures;
};

static void *create_main(void *arg)
{
	struct creator *cr = arg;
	struct curl_slist *h;
	CURL *c = handle(&h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	char target[512], body[4096];
	struct sink s = {0};
	long code;

	snprintf(target, sizeof(target), "%s/api/v1/namespaces/%s/pods", url, ns);
	curl_easy_setopt(c, CURLOPT_URL, target);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	for (int i = 0; i < cr->count; i++) {
		snprintf(body, sizeof(body), pod_fmt, cr->id, i, cr->id);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 201)
			cr->failures++;
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return NULL;
}

static int do_create(int count, int clients)
{
	pthread_t th[64];
	struct creator cr[64];
	int failures = 0;
	double t0 = now_ms(), dt;

	for (int i = 0; i < clients; i++) {
		cr[i] = (struct creator){.id = i, .count = count / clients + (i < count % clients)};
		pthread_create(&th[i], NULL, create_main, &cr[i]);
	}
	for (int i = 0; i < clients; i++) {
		pthread_join(th[i], NULL);
		failures += cr[i].failures;
	}
	dt = now_ms() - t0;
	printf("create: %d pods, %d clients, %.0f ms, %.0f creates/s, %d failures\n", count,
	       clients, dt, count / (dt / 1e3), failures);
	return failures ? 1 : 0;
}

/* ---- list --------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int do_list(int repeat)
{
	struct curl_slist *h;
	CURL *c = handle(&h, NULL);
	char target[512];
	double *t = calloc((size_t)repeat, sizeof(*t));
	size_t items = 0, bytes = 0;
	long code = 0;

	snprintf(target, sizeof(target), "%s/api/v1/namespaces/%s/pods", url, ns);
	curl_easy_setopt(c, CURLOPT_URL, target);
	for (int i = 0; i < repeat; i++) {
		struct sink s = {.keep = 1};
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
		double t0 = now_ms();
		if (curl_easy_perform(c) != CURLE_OK)
			return 1;
		t[i] = now_ms() - t0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200)
			return 1;
		items = 0;
		for (char *p = s.data; (p = strstr(p, "\"kind\":\"Pod\"")); p++)
			items++;
		bytes = s.bytes;
		free(s.data);
	}
	qsort(t, (size_t)repeat, sizeof(*t), cmp_double);
	printf("list: %zu pods, %zu bytes, min %.1f ms, median %.1f ms (%d runs)\n", items, bytes,
	       t[0], t[repeat / 2], repeat);
	free(t);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return 0;
}

/* ---- watch fan-out ------------------------------------------------------------------ */

static char *get_text(const char *path)
{
	struct curl_slist *h;
	CURL *c = handle(&h, NULL);
	char target[512];
	struct sink s = {.keep = 1};

	snprintf(target, sizeof(target), "%s%s", url, path);
	curl_easy_setopt(c, CURLOPT_URL, target);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_perform(c);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return s.data;
}

struct updater {
	int updates, failures;
	double start_ms, end_ms;
};

static void *update_main(void *arg)
{
	struct updater *u = arg;
	struct curl_slist *h;
	CURL *c = handle(&h, "Content-Type: application/merge-patch+json");
	char target[512], body[128];
	struct sink s = {0};
	long code;

	snprintf(target, sizeof(target), "%s/api/v1/namespaces/%s/pods/watched", url, ns);
	curl_easy_setopt(c, CURLOPT_URL, target);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	u->start_ms = now_ms();
	for (int i = 0; i < u->updates; i++) {
		snprintf(body, sizeof(body), "{\"metadata\":{\"labels\":{\"n\":\"%d\"}}}", i);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200)
			u->failures++;
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	u->end_ms = now_ms();
	return NULL;
}

/* One client thread drives its share of the watchers with libcurl multi;
 * several threads keep the client from being what is measured. */
struct watch_group {
	int first, count, updates;
	const char *target;
	CURL **hs;
	struct curl_slist **hdrs;
	struct sink *sinks;
	_Atomic int connected, done;
	_Atomic int *go, *stop;
};

static void *watch_main(void *arg)
{
	struct watch_group *g = arg;
	CURLM *m = curl_multi_init();
	int running;

	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)g->count + 10);
	/* HTTP/1.1 only: no waiting to see whether a connection multiplexes */
	curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_NOTHING);
	for (int i = 0; i < g->count; i++) {
		g->hs[i] = handle(&g->hdrs[i], NULL);
		curl_easy_setopt(g->hs[i], CURLOPT_URL, g->target);
		curl_easy_setopt(g->hs[i], CURLOPT_WRITEDATA, &g->sinks[i]);
		curl_multi_add_handle(m, g->hs[i]);
	}
	while (!*g->stop) {
		curl_multi_perform(m, &running);
		int connected = 0, done = 0;
		for (int i = 0; i < g->count; i++) {
			long code = 0;
			curl_easy_getinfo(g->hs[i], CURLINFO_RESPONSE_CODE, &code);
			connected += code == 200;
			done += g->sinks[i].lines >= (size_t)g->updates;
		}
		g->connected = connected;
		g->done = done;
		curl_multi_poll(m, NULL, 0, 20, NULL);
	}
	for (int i = 0; i < g->count; i++) {
		curl_multi_remove_handle(m, g->hs[i]);
		curl_easy_cleanup(g->hs[i]);
		curl_slist_free_all(g->hdrs[i]);
	}
	curl_multi_cleanup(m);
	return NULL;
}

static int do_watch(int watchers, int updates)
{
	enum { GROUPS = 4 };
	struct watch_group g[GROUPS];
	pthread_t gt[GROUPS], th;
	CURL **hs = calloc((size_t)watchers, sizeof(*hs));
	struct curl_slist **hdrs = calloc((size_t)watchers, sizeof(*hdrs));
	struct sink *sinks = calloc((size_t)watchers, sizeof(*sinks));
	char target[512], path[256], *rvp, rv[32] = "0";
	struct updater u = {.updates = updates};
	_Atomic int go = 0, stop = 0;
	int all_done = 0;

	/* the pod the updates go to, and the revision to watch from */
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/watched", ns);
	char *cur = get_text(path);
	if (!cur || !strstr(cur, "\"kind\":\"Pod\"")) {
		fprintf(stderr, "watch: create pod %s/watched first\n", ns);
		return 1;
	}
	if ((rvp = strstr(cur, "\"resourceVersion\":\"")))
		snprintf(rv, sizeof(rv), "%.*s", (int)strcspn(rvp + 19, "\""), rvp + 19);
	free(cur);
	snprintf(target, sizeof(target),
		 "%s/api/v1/namespaces/%s/"
		 "pods?watch=1&resourceVersion=%s&fieldSelector=metadata.name%%3Dwatched",
		 url, ns, rv);
	for (int i = 0, first = 0; i < GROUPS; i++) {
		int n = watchers / GROUPS + (i < watchers % GROUPS);
		g[i] = (struct watch_group){.first = first,
					    .count = n,
					    .updates = updates,
					    .target = target,
					    .hs = hs + first,
					    .hdrs = hdrs + first,
					    .sinks = sinks + first,
					    .go = &go,
					    .stop = &stop};
		first += n;
		pthread_create(&gt[i], NULL, watch_main, &g[i]);
	}
	/* everyone connected before the first update */
	double t0 = now_ms();
	for (;;) {
		int connected = 0;
		for (int i = 0; i < GROUPS; i++)
			connected += g[i].connected;
		if (connected == watchers)
			break;
		if (now_ms() - t0 > 120000) {
			fprintf(stderr, "watch: only %d of %d watchers connected\n", connected,
				watchers);
			stop = 1;
			return 1;
		}
		usleep(20000);
	}
	double connect_ms = now_ms() - t0;
	pthread_create(&th, NULL, update_main, &u);
	double deadline = now_ms() + 300000, done_ms = 0;
	while (now_ms() < deadline) {
		int done = 0;
		for (int i = 0; i < GROUPS; i++)
			done += g[i].done;
		if (done == watchers) {
			done_ms = now_ms();
			all_done = 1;
			break;
		}
		usleep(5000);
	}
	pthread_join(th, NULL);
	if (!all_done)
		done_ms = now_ms();
	stop = 1;
	for (int i = 0; i < GROUPS; i++)
		pthread_join(gt[i], NULL);
	size_t events = 0;
	for (int i = 0; i < watchers; i++)
		events += sinks[i].lines;
	printf("watch: %d watchers connected in %.0f ms; %d updates (%d failed) in %.0f ms; %s: "
	       "%zu events delivered in %.0f ms after the first update (%.0f events/s)\n",
	       watchers, connect_ms, updates, u.failures, u.end_ms - u.start_ms,
	       all_done ? "every watcher saw every update" : "INCOMPLETE", events,
	       done_ms - u.start_ms, events / ((done_ms - u.start_ms) / 1e3));
	return all_done && !u.failures ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: loadgen create|list|watch URL TOKEN CACERT NS ARGS...\n");
		return 2;
	}
	url = argv[2];
	token = argv[3];
	cacert = argv[4];
	ns = argv[5];
	curl_global_init(CURL_GLOBAL_ALL);
	if (!strcmp(argv[1], "create") && argc == 8)
		return do_create(atoi(argv[6]), atoi(argv[7]));
	if (!strcmp(argv[1], "list") && argc == 7)
		return do_list(atoi(argv[6]));
	if (!strcmp(argv[1], "watch") && argc == 8)
		return do_watch(atoi(argv[6]), atoi(argv[7]));
	fprintf(stderr, "loadgen: bad arguments\n");
	return 2;
}
