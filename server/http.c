/* HTTP(S) on libmicrohttpd: a pool of threads, each with its own epoll
 * loop; requests are read into a bounded body, authenticated and handed to
 * the REST layer. Streams (watches) are chunked responses fed by a
 * callback; a stream with nothing to send suspends its connection, and the
 * watch resumes it when an event arrives, so an idle watch costs no thread
 * and no polling. */
#include "srv_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define STREAM_BLOCK (16 * 1024)

/* ---- parsing the request line --------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding; in a query '+' is a space (Go's url.ParseQuery, and
 * Go clients encode spaces in label selectors that way). */
static char *url_decode(const char *s, size_t n, bool plus_is_space)
{
	char *out = sk_malloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '+' && plus_is_space) {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static void parse_uri(srv_req *r)
{
	const char *uri = r->raw_uri, *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : strlen(uri);
	const char *p = uri, *end = uri + plen;

	while (p < end) {
		while (p < end && *p == '/')
			p++;
		const char *s = p;
		while (p < end && *p != '/')
			p++;
		if (p > s) {
			r->segs = sk_realloc(r->segs, (r->nsegs + 1) * sizeof(*r->segs));
			r->segs[r->nsegs++] = url_decode(s, (size_t)(p - s), false);
		}
	}
	if (!q)
		return;
	for (p = q + 1; *p;) {
		const char *amp = strchr(p, '&'), *stop = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		if (stop > p) {
			r->query = sk_realloc(r->query, (r->nquery + 1) * sizeof(*r->query));
			r->query[r->nquery].key =
				url_decode(p, (size_t)((eq ? eq : stop) - p), true);
			r->query[r->nquery].value =
				eq ? url_decode(eq + 1, (size_t)(stop - eq - 1), true)
				   : sk_strdup("");
			r->nquery++;
		}
		p = amp ? amp + 1 : stop;
	}
}

const char *srv_req_query(srv_req *r, const char *key)
{
	for (size_t i = 0; i < r->nquery; i++)
		if (!strcmp(r->query[i].key, key))
			return r->query[i].value;
	return NULL;
}

const char *srv_req_header(srv_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* ---- responses ---------------------------------------------------------------- */

static void queue(srv_req *r, int code, struct MHD_Response *resp, const char *ctype)
{
	if (r->responded) {
		MHD_destroy_response(resp);
		return;
	}
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, private");
	MHD_queue_response(r->conn, (unsigned)code, resp);
	MHD_destroy_response(resp);
	r->responded = true;
	r->code = code;
}

void srv_reply(srv_req *r, int code, const char *ctype, char *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body ? body : (char *)"",
								    body ? MHD_RESPMEM_MUST_FREE
									 : MHD_RESPMEM_PERSISTENT);
	queue(r, code, resp, ctype);
}

void srv_reply_json(srv_req *r, int code, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	json_decref(obj);
	if (!s) {
		srv_reply(r, 500, "text/plain", sk_strdup("cannot encode the response"), 26);
		return;
	}
	size_t n = strlen(s);
	/* a newline after the object, as the apiserver's JSON serializer */
	s = sk_realloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	srv_reply(r, code, "application/json", s, n + 1);
}

void srv_reply_status(srv_req *r, json_t *status)
{
	int code = api_status_code(status);

	srv_reply_json(r, code > 0 ? code : 500, status);
}

void srv_reply_result(srv_req *r, srv_result *res)
{
	if (res->text) {
		/* the stored text, with the newline the apiserver ends with */
		char *t = sk_realloc(res->text, res->len + 2);
		t[res->len] = '\n';
		t[res->len + 1] = '\0';
		srv_reply(r, res->code ? res->code : 200, "application/json", t, res->len + 1);
		res->text = NULL;
		json_decref(res->body);
		res->body = NULL;
		return;
	}
	srv_reply_json(r, res->code ? res->code : 200, res->body);
	res->body = NULL;
}

/* ---- streams ------------------------------------------------------------------ */

void srv_req_wake(void *ctx)
{
	srv_req *r = ctx;

	if (r->suspended) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
	}
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	srv_req *r = cls;

	(void)pos;
	for (;;) {
		if (r->out_off < r->out.len) {
			size_t n = r->out.len - r->out_off;
			if (n > max)
				n = max;
			memcpy(buf, r->out.data + r->out_off, n);
			r->out_off += n;
			if (r->out_off == r->out.len) {
				sk_buf_reset(&r->out);
				r->out_off = 0;
			}
			return (ssize_t)n;
		}
		int f = r->fill(r);
		if (f > 0)
			continue;
		if (f == 0)
			return 0;
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
}

void srv_reply_response(srv_req *r, int code, struct MHD_Response *resp)
{
	queue(r, code, resp, NULL);
}

void srv_reply_stream(srv_req *r, const char *ctype)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, r, NULL);

	queue(r, 200, resp, ctype);
}

/* ---- the request lifecycle -------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	srv_req *r = sk_calloc(1, sizeof(*r));

	(void)conn;
	r->srv = cls;
	r->conn = conn;
	r->raw_uri = sk_strdup(uri);
	r->start_ns = sk_monotonic_ns();
	sk_buf_init(&r->body);
	sk_buf_init(&r->out);
	return r;
}

static void req_free(srv_req *r)
{
	if (r->stream_free)
		r->stream_free(r);
	if (r->watch)
		srv_watch_close(r->watch);
	for (size_t i = 0; i < r->nsegs; i++)
		free(r->segs[i]);
	free(r->segs);
	for (size_t i = 0; i < r->nquery; i++) {
		free(r->query[i].key);
		free(r->query[i].value);
	}
	free(r->query);
	sk_buf_free(&r->body);
	sk_buf_free(&r->out);
	free(r->method);
	free(r->raw_uri);
	free(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	srv_req *r = *con_cls;

	(void)cls;
	(void)conn;
	if (!r)
		return;
	sk_debug("%s %s -> %d (%.1f ms)%s", r->method ? r->method : "?", r->raw_uri, r->code,
		 (double)(sk_monotonic_ns() - r->start_ns) / 1e6,
		 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	req_free(r);
	*con_cls = NULL;
}

/* /healthz, /livez, /readyz and /version answer without credentials, as
 * the apiserver's system:public-info-viewer role allows; /cacerts (the CA
 * certificate, as k3s serves it) lets a joining node check the CA against
 * the hash in its token. */
static bool is_public(srv_req *r)
{
	if (r->nsegs == 0)
		return false;
	const char *p = r->segs[0];
	return r->nsegs == 1 &&
	       (!strcmp(p, "healthz") || !strcmp(p, "livez") || !strcmp(p, "readyz") ||
		!strcmp(p, "version") || !strcmp(p, "cacerts"));
}

/* Constant-time comparison: the time taken must not tell how much of a
 * guessed token was right. */
static bool token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return d == 0;
}

static bool authenticated(srv_req *r)
{
	const char *h = srv_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	/* the admin token, or the node join token (no RBAC yet: both may do
	 * everything; see docs/server.md) */
	return token_equal(h, r->srv->token) ||
	       (r->srv->node_token && token_equal(h, r->srv->node_token));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	srv_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)url;
	(void)version;
	if (!r)
		return MHD_NO;
	if (!r->started) {
		r->started = true;
		r->method = sk_strdup(method);
		parse_uri(r);
		atomic_fetch_add(&r->srv->requests, 1);
		if (!r->srv->cfg.insecure_http && !is_public(r) && !authenticated(r)) {
			srv_reply_status(r, api_status_unauthorized());
			return MHD_YES;
		}
		const char *cl = srv_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > API_MAX_BODY) {
			srv_reply_status(r, api_status_too_large(API_MAX_BODY));
			return MHD_YES;
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!r->responded && !r->too_large) {
			if (r->body.len + *upload_data_size > API_MAX_BODY) {
				r->too_large = true;
				sk_buf_free(&r->body);
			} else {
				sk_buf_append(&r->body, upload_data, *upload_data_size);
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->responded)
		return MHD_YES;
	if (r->too_large) {
		srv_reply_status(r, api_status_too_large(API_MAX_BODY));
		return MHD_YES;
	}
	if (atomic_load(&r->srv->stopping)) {
		srv_reply_status(r, api_status_new(503, "ServiceUnavailable",
						   "the server is shutting down", NULL));
		return MHD_YES;
	}
	bool write = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
	atomic_fetch_add(&r->srv->inflight, 1);
	if (write)
		srv_writer_begin(r->srv);
	srv_rest_handle(r);
	if (write)
		srv_writer_end(r->srv);
	atomic_fetch_sub(&r->srv->inflight, 1);
	if (!r->responded)
		srv_reply_status(r, api_status_internal("no response was produced"));
	return MHD_YES;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	sk_debug("http: %s", msg);
}

/* ---- listening ---------------------------------------------------------------- */

static int parse_listen(const char *spec, struct sockaddr_in *sa, sk_err *err)
{
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(spec, ':');
	int64_t port;

	if (!colon)
		return sk_err_set(err, EINVAL, "--listen %s: expected ADDRESS:PORT", spec);
	host = sk_strndup(spec, (size_t)(colon - spec));
	if (sk_parse_int64(colon + 1, 0, 65535, &port, err) < 0)
		return sk_err_wrap(err, "--listen %s: port", spec);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!*host || !strcmp(host, "localhost"))
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return sk_err_set(err, EINVAL, "--listen %s: not an IPv4 address", spec);
	return 0;
}

static int open_listener(srv_server *s, sk_err *err)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int one = 1;
	_cleanup_close_ int fd = -1;

	if (parse_listen(s->cfg.listen, &sa, err) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk_err_sys(err, errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sk_err_sys(err, errno, "listen on %s", s->cfg.listen);
	if (listen(fd, 1024) < 0)
		return sk_err_sys(err, errno, "listen on %s", s->cfg.listen);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	s->port = ntohs(sa.sin_port);
	/* clients on this machine reach a wildcard listener on loopback */
	if (sa.sin_addr.s_addr == htonl(INADDR_ANY))
		snprintf(s->host, sizeof(s->host), "127.0.0.1");
	else
		inet_ntop(AF_INET, &sa.sin_addr, s->host, sizeof(s->host));
	s->listen_fd = move_fd(fd);
	return 0;
}

/* Each watch holds a connection and a descriptor: allow many. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int srv_http_listen(srv_server *s, sk_err *err)
{
	raise_fd_limit();
	return open_listener(s, err);
}

/* Accepting: one thread takes connections off the listening socket and
 * deals them round-robin to N single-threaded MHD daemons. MHD's own
 * thread pool lets whichever worker wakes first accept a burst of
 * connections, so four clients could land on two workers; a worker waits
 * while its request's write commits, and two clients on one worker could
 * never have their writes share a commit. */
static void *accept_main(void *arg)
{
	srv_server *s = arg;
	unsigned next = 0;

	pthread_setname_np(pthread_self(), "srv-accept");
	while (!atomic_load(&s->stopping)) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(s->listen_fd, (struct sockaddr *)&sa, &len,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* out of descriptors: let connections close first */
				usleep(10000);
				continue;
			}
			break; /* the socket was shut down */
		}
		struct MHD_Daemon *d = s->mhds[next++ % s->nmhds];
		/* MHD owns (and closes) the socket from here, even on failure */
		if (MHD_add_connection(d, fd, (struct sockaddr *)&sa, len) != MHD_YES)
			sk_debug("http: a connection was refused (limit reached?)");
	}
	return NULL;
}

static struct MHD_Daemon *start_daemon(srv_server *s, sk_err *err)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			     MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME |
			     MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;

	if (!s->cfg.insecure_http)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem opts[] = {
		{MHD_OPTION_CONNECTION_LIMIT, 60000, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, 600, NULL},
		{MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
		{MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, s},
		{s->cfg.insecure_http ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert_pem},
		{MHD_OPTION_END, 0, NULL},
	};
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
			     MHD_OPTION_END);
	if (!d)
		sk_err_set(err, EIO, "start the HTTP server on %s:%d", s->host, s->port);
	return d;
}

int srv_http_start(srv_server *s, sk_err *err)
{
	size_t n = s->cfg.threads > 0 ? (size_t)s->cfg.threads : 4;
	int r;

	s->mhds = sk_calloc(n, sizeof(*s->mhds));
	for (size_t i = 0; i < n; i++) {
		if (!(s->mhds[i] = start_daemon(s, err)))
			return -1;
		s->nmhds++;
	}
	if ((r = pthread_create(&s->accept_thread, NULL, accept_main, s)) != 0)
		return sk_err_sys(err, r, "start the HTTP acceptor");
	s->accept_started = true;
	return 0;
}

void srv_http_stop(srv_server *s)
{
	/* stop accepting: shutting the socket down wakes accept() */
	if (s->listen_fd >= 0)
		shutdown(s->listen_fd, SHUT_RDWR);
	if (s->accept_started)
		pthread_join(s->accept_thread, NULL);
	s->accept_started = false;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}

void srv_http_free(srv_server *s)
{
	/* only once no connection is suspended: MHD cannot stop with one */
	for (size_t i = 0; i < s->nmhds; i++)
		MHD_stop_daemon(s->mhds[i]);
	free(s->mhds);
	s->mhds = NULL;
	s->nmhds = 0;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}

static __thread bool tl_writer;

void srv_writer_begin(srv_server *s)
{
	tl_writer = true;
	atomic_fetch_add(&s->writers, 1);
}

void srv_writer_reached_store(srv_server *s)
{
	if (tl_writer) {
		tl_writer = false;
		atomic_fetch_sub(&s->writers, 1);
	}
}

void srv_writer_end(srv_server *s)
{
	srv_writer_reached_store(s);
}
