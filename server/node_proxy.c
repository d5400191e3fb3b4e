/* pods/log and pods/exec: the apiserver does not read logs or run
 * commands itself, it proxies to the node agent of the pod's node (at the
 * Node's InternalIP and status.daemonEndpoints.kubeletEndpoint.Port, the
 * kubelet's paths /containerLogs/... and /exec/...), authenticating with
 * the node token, which every agent of the cluster accepts. The agent's
 * certificate is self-signed and not verified (as the apiserver without
 * --kubelet-certificate-authority).
 *
 * Logs stream through a thread per request that reads the agent's answer
 * (libcurl) and feeds the suspended client connection. exec is a WebSocket
 * (v5/v4.channel.k8s.io): the agent's 101 is awaited first, so its errors
 * reach kubectl as a Status; then a thread copies bytes both ways between
 * the client and a TLS connection to the agent. */
#include "srv_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DIAL_TIMEOUT_MS 5000
#define HEADER_MAX 16384
#define WAKE_MS 5000

/* ---- where the pod's agent is ------------------------------------------------- */

struct target {
	char host[64];
	int port;
	char *container;
};

static json_t *status_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *status_bad(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_status_new(400, "BadRequest", msg, NULL);
}

/* The container to use: the one asked for, or the pod's only one. */
static json_t *pick_container(srv_req *r, json_t *pod, char **out)
{
	const char *want = srv_req_query(r, "container");
	json_t *cs = api_get(pod, "spec.containers"), *c;
	const char *name = api_get_str(pod, "metadata.name");
	size_t i;

	if (want && *want) {
		json_array_foreach (cs, i, c)
			if (sk_streq(api_get_str(c, "name"), want)) {
				*out = sk_strdup(want);
				return NULL;
			}
		json_array_foreach (api_get(pod, "spec.initContainers"), i, c)
			if (sk_streq(api_get_str(c, "name"), want)) {
				*out = sk_strdup(want);
				return NULL;
			}
		return status_bad("container %s is not valid for pod %s", want, name);
	}
	if (json_array_size(cs) == 1) {
		*out = sk_strdup(api_get_str(json_array_get(cs, 0), "name"));
		return NULL;
	}
	sk_buf b;
	sk_buf_init(&b);
	json_array_foreach (cs, i, c)
		sk_buf_printf(&b, "%s%s", i ? " " : "", api_get_str(c, "name"));
	json_t *st =
		status_bad("a container name must be specified for pod %s, choose one of: [%s]",
			   name, b.data ? b.data : "");
	sk_buf_free(&b);
	return st;
}

static json_t *find_target(srv_req *r, const char *ns, const char *name, struct target *t)
{
	const api_kind *nodes = api_kind_by_resource("", "nodes");
	const api_kind *pods = api_kind_by_resource("", "pods");
	srv_result pod = {0}, node = {0};
	json_t *addr, *err = NULL;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (srv_get(r->srv, pods, ns, name, &pod) < 0)
		return move_ptr(pod.body);
	const char *node_name = api_get_str(pod.body, "spec.nodeName");
	if (!node_name || !*node_name) {
		err = status_bad("pod %s does not have a host assigned", name);
		goto out;
	}
	if ((err = pick_container(r, pod.body, &t->container)))
		goto out;
	if (srv_get(r->srv, nodes, NULL, node_name, &node) < 0) {
		err = api_status_internal("the pod's node is not registered");
		goto out;
	}
	json_array_foreach (api_get(node.body, "status.addresses"), i, addr)
		if (sk_streq(api_get_str(addr, "type"), "InternalIP") && !t->host[0])
			snprintf(t->host, sizeof(t->host), "%s", api_get_str(addr, "address"));
	t->port = (int)api_get_int(node.body, "status.daemonEndpoints.kubeletEndpoint.Port", 0);
	if (!t->host[0] || t->port <= 0)
		err = api_status_internal("the node has no agent address");
out:
	srv_result_clear(&pod);
	srv_result_clear(&node);
	if (err) {
		free(t->container);
		t->container = NULL;
	}
	return err;
}

/* The agent's path: /PREFIX/ns/pod/container?the query but container;
 * `check` drops follow and tailLines and asks for no lines (a cheap
 * request that gets the agent's verdict). */
static char *agent_path(srv_req *r, const char *prefix, const char *ns, const char *name,
			const char *container, bool check)
{
	sk_buf b;

	sk_buf_init(&b);
	_cleanup_free_ char *ens = sk_url_escape(ns);
	_cleanup_free_ char *ename = sk_url_escape(name);
	_cleanup_free_ char *ectr = sk_url_escape(container);
	sk_buf_printf(&b, "/%s/%s/%s/%s", prefix, ens, ename, ectr);
	char sep = '?';
	for (size_t i = 0; i < r->nquery; i++) {
		if (!strcmp(r->query[i].key, "container") ||
		    (check &&
		     (!strcmp(r->query[i].key, "follow") || !strcmp(r->query[i].key, "tailLines"))))
			continue;
		_cleanup_free_ char *k = sk_url_escape(r->query[i].key);
		_cleanup_free_ char *v = sk_url_escape(r->query[i].value);
		sk_buf_printf(&b, "%c%s=%s", sep, k, v);
		sep = '&';
	}
	if (check)
		sk_buf_printf(&b, "%ctailLines=0", sep);
	return sk_buf_steal(&b);
}

/* ---- logs ------------------------------------------------------------------------ */

struct log_proxy {
	srv_req *r;
	pthread_mutex_t lock;
	sk_buf buf;
	bool done, cancelled;
	int status; /* the agent's HTTP status */
	char *url, *path, *token;
	sk_http *http;
	pthread_t thread;
	struct log_proxy *next; /* the waker's list */
};

/* A suspended connection only notices its client leaving when resumed: a
 * thread resumes followed logs every few seconds. */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_proxy *wake_list;
static bool waker_started;

static void *waker_main(void *arg SK_UNUSED)
{
	for (;;) {
		usleep(WAKE_MS * 1000);
		pthread_mutex_lock(&wake_lock);
		for (struct log_proxy *p = wake_list; p; p = p->next) {
			pthread_mutex_lock(&p->lock);
			if (!p->cancelled)
				srv_req_wake(p->r);
			pthread_mutex_unlock(&p->lock);
		}
		pthread_mutex_unlock(&wake_lock);
	}
	return NULL;
}

static void waker_add(struct log_proxy *p)
{
	pthread_t t;

	pthread_mutex_lock(&wake_lock);
	p->next = wake_list;
	wake_list = p;
	if (!waker_started && pthread_create(&t, NULL, waker_main, NULL) == 0) {
		pthread_detach(t);
		waker_started = true;
	}
	pthread_mutex_unlock(&wake_lock);
}

static void waker_remove(struct log_proxy *p)
{
	pthread_mutex_lock(&wake_lock);
	for (struct log_proxy **pp = &wake_list; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&wake_lock);
}

static int log_data(const char *data, size_t len, void *ctx, sk_err *err SK_UNUSED)
{
	struct log_proxy *p = ctx;
	int stop;

	pthread_mutex_lock(&p->lock);
	stop = p->cancelled;
	if (!stop) {
		sk_buf_append(&p->buf, data, len);
		srv_req_wake(p->r);
	}
	pthread_mutex_unlock(&p->lock);
	return stop ? 1 : 0;
}

static void *log_main(void *arg)
{
	struct log_proxy *p = arg;
	struct sk_http_request req = {.path = p->path, .accept = "*/*"};
	struct sk_http_response resp;
	sk_err err;
	int r;

	r = sk_http_stream(p->http, &req, false, log_data, p, &resp, &err);
	pthread_mutex_lock(&p->lock);
	if (r < 0 && !p->buf.len && !p->cancelled) {
		sk_buf_printf(&p->buf, "unable to reach the node's agent: %s\n", err.msg);
	} else if (r == 0 && (resp.status < 200 || resp.status >= 300) && !p->cancelled) {
		/* answered before the stream started: the client got 200 already */
		sk_buf_append(&p->buf, resp.body.data, resp.body.len);
	}
	p->done = true;
	if (!p->cancelled)
		srv_req_wake(p->r);
	pthread_mutex_unlock(&p->lock);
	if (r == 0)
		sk_http_response_free(&resp);
	return NULL;
}

static int log_fill(srv_req *r)
{
	struct log_proxy *p = r->stream_data;
	int ret;

	pthread_mutex_lock(&p->lock);
	if (p->buf.len) {
		sk_buf_append(&r->out, p->buf.data, p->buf.len);
		sk_buf_reset(&p->buf);
		ret = 1;
	} else if (p->done) {
		ret = -1;
	} else {
		/* nothing yet: sleep until the reader or the waker resumes us */
		MHD_suspend_connection(r->conn);
		r->suspended = true;
		ret = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static void log_free(srv_req *r)
{
	struct log_proxy *p = r->stream_data;

	waker_remove(p);
	pthread_mutex_lock(&p->lock);
	p->cancelled = true;
	pthread_mutex_unlock(&p->lock);
	sk_http_cancel(p->http);
	pthread_join(p->thread, NULL);
	sk_http_free(p->http);
	pthread_mutex_destroy(&p->lock);
	sk_buf_free(&p->buf);
	free(p->url);
	free(p->path);
	free(p);
	r->stream_data = NULL;
}

/* The agent's error, before the stream: as a Status kubectl prints. */
static json_t *agent_error(long code, const char *body)
{
	_cleanup_free_ char *msg = sk_strdup(body && *body ? body : "the node's agent refused");
	size_t n = strlen(msg);

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (code == 404)
		return api_status_new(404, "NotFound", msg, NULL);
	if (code == 401 || code == 403)
		return api_status_internal("the node's agent refused the server's credentials");
	return api_status_new(400, "BadRequest", msg, NULL);
}

static sk_http *agent_client(srv_server *s, const struct target *t, long timeout_ms, sk_err *err)
{
	_cleanup_free_ char *url = sk_asprintf("https://%s:%d", t->host, t->port);
	struct sk_http_config hc = {
		.server = url,
		.insecure = true,
		.token = s->node_token ? s->node_token : s->token,
		.connect_timeout_ms = DIAL_TIMEOUT_MS,
		.timeout_ms = timeout_ms,
		.user_agent = "skiff-apiserver",
	};
	sk_http *h = NULL;

	if (sk_http_new(&hc, &h, err) < 0)
		return NULL;
	return h;
}

void srv_pod_log(srv_req *r, const api_kind *k, const char *ns, const char *name)
{
	struct target t;
	json_t *st;
	sk_err err;

	if (strcmp(r->method, "GET") != 0) {
		srv_reply_status(r, api_status_method_not_allowed(k, r->method));
		return;
	}
	if ((st = find_target(r, ns, name, &t))) {
		srv_reply_status(r, st);
		return;
	}
	struct log_proxy *p = sk_calloc(1, sizeof(*p));
	p->r = r;
	pthread_mutex_init(&p->lock, NULL);
	sk_buf_init(&p->buf);
	p->path = agent_path(r, "containerLogs", ns, name, t.container, false);
	_cleanup_free_ char *check = agent_path(r, "containerLogs", ns, name, t.container, true);
	free(t.container);
	p->http = agent_client(r->srv, &t, 0, &err);
	if (!p->http) {
		srv_reply_status(r, api_status_internal(err.msg));
		pthread_mutex_destroy(&p->lock);
		free(p->path);
		free(p);
		return;
	}
	/* the agent's verdict first, so an error is a Status kubectl prints:
	 * the same request without follow and with no lines (cheap) */
	bool follow = sk_streq(srv_req_query(r, "follow"), "true") ||
		      sk_streq(srv_req_query(r, "follow"), "1");
	struct sk_http_request probe = {.path = follow ? check : p->path, .accept = "*/*"};
	struct sk_http_response resp = {0};
	int pr = sk_http_do(p->http, &probe, &resp, &err);
	if (pr < 0 || resp.status != 200 || !follow) {
		if (pr < 0)
			srv_reply_status(r, api_status_internal(err.msg));
		else if (resp.status != 200)
			srv_reply_status(r, agent_error(resp.status, resp.body.data));
		else
			srv_reply(r, 200, "text/plain", sk_buf_steal(&resp.body), resp.body.len);
		if (pr == 0)
			sk_http_response_free(&resp);
		sk_http_free(p->http);
		pthread_mutex_destroy(&p->lock);
		free(p->path);
		free(p);
		return;
	}
	sk_http_response_free(&resp);
	r->stream_data = p;
	r->stream_free = log_free;
	r->fill = log_fill;
	if (pthread_create(&p->thread, NULL, log_main, p) != 0) {
		r->stream_data = NULL;
		r->stream_free = NULL;
		sk_http_free(p->http);
		pthread_mutex_destroy(&p->lock);
		free(p->path);
		free(p);
		srv_reply_status(r, api_status_internal("cannot start a thread"));
		return;
	}
	waker_add(p);
	srv_reply_stream(r, "text/plain");
}

/* ---- exec ---------------------------------------------------------------------------- */

struct exec_proxy {
	int agent_fd;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	sk_buf pending; /* agent bytes read past the 101's headers */
	MHD_socket client;
	struct MHD_UpgradeResponseHandle *urh;
};

static void exec_proxy_free(struct exec_proxy *x)
{
	if (x->tls) {
		gnutls_bye(x->tls, GNUTLS_SHUT_WR);
		gnutls_deinit(x->tls);
	}
	if (x->cred)
		gnutls_certificate_free_credentials(x->cred);
	if (x->agent_fd >= 0)
		close(x->agent_fd);
	sk_buf_free(&x->pending);
	free(x);
}

static int dial(const struct target *t, sk_err *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->port)};
	int fd;

	if (inet_pton(AF_INET, t->host, &sa.sin_addr) != 1)
		return sk_err_set(err, EINVAL, "the node's address %s is not IPv4", t->host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sk_err_sys(err, errno, "socket");
	struct timeval tv = {DIAL_TIMEOUT_MS / 1000, 0};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return sk_err_sys(err, e, "dial the node's agent %s:%d", t->host, t->port);
	}
	return fd;
}

static int tls_start(struct exec_proxy *x, sk_err *err)
{
	int rc;

	if ((rc = gnutls_certificate_allocate_credentials(&x->cred)) < 0 ||
	    (rc = gnutls_init(&x->tls, GNUTLS_CLIENT)) < 0 ||
	    (rc = gnutls_set_default_priority(x->tls)) < 0 ||
	    (rc = gnutls_credentials_set(x->tls, GNUTLS_CRD_CERTIFICATE, x->cred)) < 0)
		return sk_err_set(err, EPROTO, "TLS to the node's agent: %s", gnutls_strerror(rc));
	gnutls_transport_set_int(x->tls, x->agent_fd);
	do {
		rc = gnutls_handshake(x->tls);
	} while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0)
		return sk_err_set(err, EPROTO, "TLS to the node's agent: %s", gnutls_strerror(rc));
	return 0;
}

static int tls_write(gnutls_session_t s, const char *p, size_t n)
{
	while (n) {
		ssize_t w = gnutls_record_send(s, p, n);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* "HTTP/1.1 101 Switching Protocols" -> 101 */
static long http_code(const char *head)
{
	const char *sp = strchr(head, ' ');

	return sp ? strtol(sp + 1, NULL, 10) : 0;
}

/* Forward the upgrade request; read the agent's answer headers. */
static int exchange(srv_req *r, struct exec_proxy *x, const char *path, const char *token,
		    const struct target *t, long *code, sk_buf *head, sk_err *err)
{
	const char *key = srv_req_header(r, "Sec-WebSocket-Key");
	const char *proto = srv_req_header(r, "Sec-WebSocket-Protocol");
	sk_buf req;
	char buf[4096];
	char *end;

	sk_buf_init(&req);
	sk_buf_printf(&req,
		      "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
		      "Sec-WebSocket-Key: %s\r\nAuthorization: Bearer %s\r\n",
		      path, t->host, t->port, key ? key : "", token);
	if (proto)
		sk_buf_printf(&req, "Sec-WebSocket-Protocol: %s\r\n", proto);
	sk_buf_puts(&req, "\r\n");
	int w = tls_write(x->tls, req.data, req.len);
	sk_buf_free(&req);
	if (w < 0)
		return sk_err_set(err, EIO, "send to the node's agent");
	while (!(end = head->data ? strstr(head->data, "\r\n\r\n") : NULL)) {
		ssize_t n = gnutls_record_recv(x->tls, buf, sizeof(buf));
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0 || head->len + (size_t)n > HEADER_MAX)
			return sk_err_set(err, EIO, "no answer from the node's agent");
		sk_buf_append(head, buf, (size_t)n);
	}
	size_t hlen = (size_t)(end - head->data) + 4;
	sk_buf_append(&x->pending, head->data + hlen, head->len - hlen);
	head->len = hlen;
	head->data[hlen] = '\0';
	*code = http_code(head->data);
	return 0;
}

/* The value of a header in a raw header block (copied into out). */
static bool header_value(const char *head, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (!strncasecmp(line, name, nl) && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ')
				v++;
			size_t len = strcspn(v, "\r\n");
			snprintf(out, n, "%.*s", (int)len, v);
			return true;
		}
	}
	return false;
}

static void *exec_pump(void *arg)
{
	struct exec_proxy *x = arg;
	char buf[32768];

	if (x->pending.len && send(x->client, x->pending.data, x->pending.len, MSG_NOSIGNAL) < 0)
		goto out;
	for (;;) {
		struct pollfd p[2] = {{.fd = x->client, .events = POLLIN},
				      {.fd = x->agent_fd, .events = POLLIN}};
		if (gnutls_record_check_pending(x->tls) == 0 && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (gnutls_record_check_pending(x->tls) > 0)
			p[1].revents |= POLLIN;
		if (p[0].revents) {
			ssize_t n = recv(x->client, buf, sizeof(buf), 0);
			if (n <= 0 || tls_write(x->tls, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents) {
			ssize_t n = gnutls_record_recv(x->tls, buf, sizeof(buf));
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n <= 0)
				break;
			for (ssize_t off = 0; off < n;) {
				ssize_t w =
					send(x->client, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
				if (w <= 0)
					goto out;
				off += w;
			}
		}
	}
out:
	/* both ends, so neither side waits for the other to close first */
	shutdown(x->client, SHUT_RDWR);
	shutdown(x->agent_fd, SHUT_RDWR);
	MHD_upgrade_action(x->urh, MHD_UPGRADE_ACTION_CLOSE);
	exec_proxy_free(x);
	return NULL;
}

static void exec_upgraded(void *cls, struct MHD_Connection *conn SK_UNUSED, void *con_cls SK_UNUSED,
			  const char *extra_in, size_t extra_in_size, MHD_socket sock,
			  struct MHD_UpgradeResponseHandle *urh)
{
	struct exec_proxy *x = cls;
	pthread_t t;
	int flags = fcntl(sock, F_GETFL);

	fcntl(sock, F_SETFL, flags & ~O_NONBLOCK);
	x->client = sock;
	x->urh = urh;
	if (extra_in_size && tls_write(x->tls, extra_in, extra_in_size) < 0) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		exec_proxy_free(x);
		return;
	}
	/* no timeouts once the session runs: it lasts as long as the user */
	struct timeval tv = {0, 0};
	setsockopt(x->agent_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (pthread_create(&t, NULL, exec_pump, x) != 0) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		exec_proxy_free(x);
		return;
	}
	pthread_detach(t);
}

void srv_pod_exec(srv_req *r, const api_kind *k, const char *ns, const char *name)
{
	const char *upgrade = srv_req_header(r, "Upgrade");
	struct target t;
	struct exec_proxy *x;
	sk_buf head;
	long code = 0;
	json_t *st;
	sk_err err;

	if (strcmp(r->method, "GET") && strcmp(r->method, "POST")) {
		srv_reply_status(r, api_status_method_not_allowed(k, r->method));
		return;
	}
	/* the pod and container first: kubectl 1.30+ retries a refused
	 * WebSocket with SPDY and prints the second answer */
	if ((st = find_target(r, ns, name, &t))) {
		srv_reply_status(r, st);
		return;
	}
	if (!upgrade || strcasecmp(upgrade, "websocket")) {
		free(t.container);
		srv_reply_status(r,
				 status_bad("exec needs a WebSocket upgrade (Upgrade: websocket, "
					    "v5.channel.k8s.io): SPDY is not supported"));
		return;
	}
	_cleanup_free_ char *path = agent_path(r, "exec", ns, name, t.container, false);
	free(t.container);
	x = sk_calloc(1, sizeof(*x));
	x->agent_fd = -1;
	sk_buf_init(&x->pending);
	sk_buf_init(&head);
	if ((x->agent_fd = dial(&t, &err)) < 0 || tls_start(x, &err) < 0 ||
	    exchange(r, x, path, r->srv->node_token ? r->srv->node_token : r->srv->token, &t, &code,
		     &head, &err) < 0) {
		srv_reply_status(r, api_status_internal(err.msg));
		goto fail;
	}
	if (code != 101) {
		/* the agent's error text came after its headers */
		_cleanup_free_ char *text =
			sk_strndup(x->pending.data ? x->pending.data : "", x->pending.len);
		srv_reply_status(r, agent_error(code, text));
		goto fail;
	}
	char accept[128] = "", proto[128] = "";
	header_value(head.data, "Sec-WebSocket-Accept", accept, sizeof(accept));
	header_value(head.data, "Sec-WebSocket-Protocol", proto, sizeof(proto));
	struct MHD_Response *resp = MHD_create_response_for_upgrade(exec_upgraded, x);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	if (proto[0])
		MHD_add_response_header(resp, "Sec-WebSocket-Protocol", proto);
	srv_reply_response(r, 101, resp);
	sk_buf_free(&head);
	return;
fail:
	sk_buf_free(&head);
	exec_proxy_free(x);
}
