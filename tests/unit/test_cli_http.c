/* common/http.c against a small HTTP/1.1 server run in a thread of this
 * test: methods, headers, bodies, keep-alive, chunked streams split into
 * lines, early stop, timeouts, error answers and refused connections. */
#include "../../common/common.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_fd = -1;
static int port;
static int accepted;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void send_str(int fd, const char *s)
{
	sk_write_all(fd, s, strlen(s));
}

static void reply(int fd, int code, const char *body)
{
	char head[256];

	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		 code, strlen(body));
	send_str(fd, head);
	send_str(fd, body);
}

static void chunk(int fd, const char *s)
{
	char head[32];

	snprintf(head, sizeof(head), "%zx\r\n", strlen(s));
	send_str(fd, head);
	send_str(fd, s);
	send_str(fd, "\r\n");
}

static const char *header(const char *req, const char *name, char *out, size_t n)
{
	const char *p = strcasestr(req, name);

	out[0] = '\0';
	if (p) {
		p += strlen(name);
		while (*p == ' ')
			p++;
		snprintf(out, n, "%.*s", (int)strcspn(p, "\r\n"), p);
	}
	return out;
}

static void handle(int fd, const char *req, const char *body)
{
	char method[16], path[256], accept[128], ct[128], auth[128], out[9000];

	if (sscanf(req, "%15s %255s", method, path) != 2)
		return;
	if (strcmp(path, "/echo") == 0) {
		header(req, "\nAccept:", accept, sizeof(accept));
		header(req, "\nContent-Type:", ct, sizeof(ct));
		header(req, "\nAuthorization:", auth, sizeof(auth));
		snprintf(out, sizeof(out), "%s|%s|%s|%s|%s", method, accept, ct, auth, body);
		reply(fd, 200, out);
	} else if (strcmp(path, "/conns") == 0) {
		pthread_mutex_lock(&lock);
		snprintf(out, sizeof(out), "%d", accepted);
		pthread_mutex_unlock(&lock);
		reply(fd, 200, out);
	} else if (strcmp(path, "/stream") == 0) {
		send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
		chunk(fd, "one\n");
		usleep(20000);
		chunk(fd, "tw");
		usleep(20000);
		chunk(fd, "o\nthree\r\nfo");
		chunk(fd, "ur");
		send_str(fd, "0\r\n\r\n");
	} else if (strcmp(path, "/slow") == 0) {
		usleep(1500000);
		reply(fd, 200, "late");
	} else {
		reply(fd, 404, "{\"kind\":\"Status\",\"code\":404}");
	}
}

static void *serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[65536];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		char *end;
		size_t clen = 0, hlen;
		const char *cl;

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		hlen = (size_t)(end - buf) + 4;
		cl = strcasestr(buf, "\nContent-Length:");
		if (cl && cl < end)
			clen = strtoul(cl + 16, NULL, 10);
		if (len < hlen + clen)
			continue;
		{
			char req[8192], body[8192];

			snprintf(req, sizeof(req), "%.*s", (int)hlen, buf);
			snprintf(body, sizeof(body), "%.*s", (int)clen, buf + hlen);
			handle(fd, req, body);
		}
		memmove(buf, buf + hlen + clen, len - hlen - clen);
		len -= hlen + clen;
	}
	close(fd);
	return NULL;
}

static void *serve(void *arg SK_UNUSED)
{
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		pthread_t t;

		if (fd < 0)
			return NULL;
		pthread_mutex_lock(&lock);
		accepted++;
		pthread_mutex_unlock(&lock);
		pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
}

static int bound_socket(int *out_port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	*out_port = ntohs(a.sin_port);
	return fd;
}

struct lines {
	char got[256];
	int n;
	int stop_after;
};

static int on_line(const char *data, size_t len, void *ctx, sk_err *err SK_UNUSED)
{
	struct lines *l = ctx;
	size_t used = strlen(l->got);

	snprintf(l->got + used, sizeof(l->got) - used, "[%.*s]", (int)len, data);
	return ++l->n == l->stop_after ? 1 : 0;
}

static int on_line_fail(const char *data SK_UNUSED, size_t len SK_UNUSED, void *ctx SK_UNUSED,
			sk_err *err)
{
	return sk_err_set(err, EBADMSG, "bad event");
}

static sk_http *client(const char *token, long timeout_ms)
{
	char url[64];
	struct sk_http_config cfg = {.server = url, .token = token, .timeout_ms = timeout_ms};
	sk_http *h = NULL;
	sk_err err = {0};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	if (sk_http_new(&cfg, &h, &err) < 0)
		printf("# %s\n", err.msg);
	return h;
}

static void test_requests(void)
{
	sk_http *h = client("secret", 0);
	struct sk_http_response r;
	struct sk_http_request get = {.path = "/echo"};
	struct sk_http_request post = {.path = "/echo", .body = "{\"a\":1}", .body_len = 7};
	struct sk_http_request patch = {.method = "PATCH",
					.path = "/echo",
					.content_type = "application/merge-patch+json",
					.accept = "application/json;as=Table",
					.body = "{}",
					.body_len = 2};
	struct sk_http_request del = {.method = "DELETE", .path = "/echo"};
	sk_err err = {0};

	ok(h != NULL, "client for %s", h ? sk_http_server(h) : "?");
	ok(h && !sk_endswith(sk_http_server(h), "/"), "trailing slash dropped");
	ok(sk_http_do(h, &get, &r, &err) == 0, "GET");
	is_int(r.status, 200, "GET status");
	/* no Authorization over plain http, as kubectl */
	is_str(r.body.data, "GET|application/json|||", "GET: default Accept, no token over http");
	is_str(r.content_type, "application/json", "content type recorded");
	sk_http_response_free(&r);
	ok(sk_http_do(h, &post, &r, &err) == 0, "POST");
	is_str(r.body.data, "POST|application/json|application/json||{\"a\":1}",
	       "POST: JSON body and content type");
	sk_http_response_free(&r);
	ok(sk_http_do(h, &patch, &r, &err) == 0, "PATCH");
	is_str(r.body.data, "PATCH|application/json;as=Table|application/merge-patch+json||{}",
	       "PATCH: given Accept and content type");
	sk_http_response_free(&r);
	ok(sk_http_do(h, &del, &r, &err) == 0, "DELETE without body");
	like(r.body.data, "DELETE|", "DELETE method sent");
	sk_http_response_free(&r);
	ok(sk_http_do(h, &get, &r, &err) == 0, "GET after DELETE");
	like(r.body.data, "GET|", "method reset to GET");
	sk_http_response_free(&r);

	struct sk_http_request conns = {.path = "/conns"};
	ok(sk_http_do(h, &conns, &r, &err) == 0, "count connections");
	is_str(r.body.data, "1", "six requests reused one kept-alive connection");
	sk_http_response_free(&r);

	struct sk_http_request missing = {.path = "/nope"};
	ok(sk_http_do(h, &missing, &r, &err) == 0, "a 404 is an answer, not a failure");
	is_int(r.status, 404, "404 status");
	like(r.body.data, "\"Status\"", "404 body kept");
	sk_http_response_free(&r);
	sk_http_free(h);
}

static void test_stream(void)
{
	sk_http *h = client(NULL, 0);
	struct sk_http_request req = {.path = "/stream"};
	struct sk_http_response r;
	struct lines l = {0};
	sk_err err = {0};

	ok(sk_http_stream(h, &req, true, on_line, &l, &r, &err) == 0, "stream lines");
	is_str(l.got, "[one][two][three][four]", "lines split across chunks, CR and tail");
	sk_http_response_free(&r);

	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	ok(sk_http_stream(h, &req, true, on_line, &l, &r, &err) == 0, "stop a stream quietly");
	is_str(l.got, "[one][two]", "no line after the stop");
	sk_http_response_free(&r);

	ok(sk_http_stream(h, &req, true, on_line_fail, NULL, &r, &err) < 0,
	   "callback error fails the stream");
	like(err.msg, "GET http://127.0.0.1:", "error names the request");
	like(err.msg, "bad event", "error keeps the callback's message");
	sk_http_response_free(&r);

	memset(&l, 0, sizeof(l));
	ok(sk_http_stream(h, &req, false, on_line, &l, &r, &err) == 0, "raw chunks");
	like(l.got, "[one\n]", "raw data keeps newlines");
	sk_http_response_free(&r);

	struct sk_http_request missing = {.path = "/nope"};
	memset(&l, 0, sizeof(l));
	ok(sk_http_stream(h, &missing, true, on_line, &l, &r, &err) == 0, "stream of a 404");
	is_int(r.status, 404, "stream 404 status");
	is_int(l.n, 0, "error body not streamed to the callback");
	like(r.body.data, "\"Status\"", "error body collected");
	sk_http_response_free(&r);
	sk_http_free(h);
}

static void test_failures(void)
{
	sk_http *h = client(NULL, 300);
	struct sk_http_request slow = {.path = "/slow"};
	struct sk_http_response r;
	sk_err err = {0};
	int closed_port;
	int fd = bound_socket(&closed_port);
	char url[64];
	struct sk_http_config cfg = {.server = url};
	sk_http *dead = NULL;
	struct sk_http_request get = {.path = "/api"};

	ok(sk_http_do(h, &slow, &r, &err) < 0, "timeout");
	is_int(err.code, ETIMEDOUT, "timeout is ETIMEDOUT");
	sk_http_response_free(&r);
	sk_http_free(h);

	close(fd); /* nobody listens on closed_port now */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port);
	ok(sk_http_new(&cfg, &dead, &err) == 0, "client for a dead port");
	ok(sk_http_do(dead, &get, &r, &err) < 0, "connection refused fails");
	is_int(err.code, ECONNREFUSED, "refused is ECONNREFUSED");
	like(err.msg, url, "message names the URL");
	sk_http_response_free(&r);
	sk_http_free(dead);

	cfg.server = "ftp://x";
	ok(sk_http_new(&cfg, &dead, &err) < 0, "ftp:// rejected");
	cfg.server = "https://127.0.0.1:1";
	cfg.ca_data = "-----BEGIN CERTIFICATE-----\n";
	ok(sk_http_new(&cfg, &dead, &err) == 0, "CA text accepted (memfd)");
	sk_http_free(dead);
}

static void test_escape(void)
{
	_cleanup_free_ char *a = sk_url_escape("app=web,tier in (a b)");
	_cleanup_free_ char *b = sk_url_escape("metadata.name=x-y_z~");

	is_str(a, "app%3Dweb%2Ctier%20in%20%28a%20b%29", "selector escaped");
	is_str(b, "metadata.name%3Dx-y_z~", "unreserved kept");
}

int main(void)
{
	pthread_t t;

	signal(SIGPIPE, SIG_IGN); /* the test server writes to clients that hung up */
	listen_fd = bound_socket(&port);
	if (listen_fd < 0 || listen(listen_fd, 16) < 0) {
		printf("Bail out! cannot listen: %s\n", strerror(errno));
		return 1;
	}
	pthread_create(&t, NULL, serve, NULL);
	pthread_detach(t);
	test_requests();
	test_stream();
	test_failures();
	test_escape();
	return done_testing();
}
