/* Probes and lifecycle handlers: their specs read from a container (with
 * Kubernetes' defaults), and one run of a probe, asynchronous on the
 * agent's loop: exec through the `skiff __exec` helper, httpGet and
 * tcpSocket with non-blocking sockets, each bounded by timeoutSeconds.
 * httpGet with scheme HTTPS goes through libcurl in a worker (without
 * verifying the certificate, as the kubelet). Results and messages as the
 * kubelet's prober reports them. */
#include "agent_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_MAX 10240

/* ---- specs ------------------------------------------------------------------- */

void agent_probe_spec_clear(struct agent_probe_spec *p)
{
	sk_strv_free(p->command);
	free(p->host);
	free(p->path);
	sk_strv_free(p->headers);
	memset(p, 0, sizeof(*p));
}

static int spec_int(json_t *probe, const char *key, const char *path, int64_t dflt, int64_t min,
		    int64_t *out, sk_err *err)
{
	json_t *v = json_object_get(probe, key);

	*out = dflt;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min)
		return sk_err_set(err, EINVAL, "%s.%s: must be an integer >= %lld", path, key,
				  (long long)min);
	*out = json_integer_value(v);
	return 0;
}

/* A port by number or by the name of one of the container's ports. */
static int resolve_port(json_t *port, json_t *cj, const char *path, int *out, sk_err *err)
{
	json_t *p;
	size_t i;

	if (json_is_integer(port)) {
		if (json_integer_value(port) < 1 || json_integer_value(port) > 65535)
			return sk_err_set(err, EINVAL, "%s.port: must be between 1 and 65535",
					  path);
		*out = (int)json_integer_value(port);
		return 0;
	}
	if (!json_is_string(port))
		return sk_err_set(err, EINVAL, "%s.port: required", path);
	const char *name = json_string_value(port);
	if (name[0] >= '0' && name[0] <= '9') {
		int64_t v;
		if (sk_parse_int64(name, 1, 65535, &v, err) < 0)
			return sk_err_wrap(err, "%s.port", path);
		*out = (int)v;
		return 0;
	}
	json_array_foreach (json_object_get(cj, "ports"), i, p) {
		if (sk_streq(json_string_value(json_object_get(p, "name")), name) &&
		    json_is_integer(json_object_get(p, "containerPort"))) {
			*out = (int)json_integer_value(json_object_get(p, "containerPort"));
			return 0;
		}
	}
	return sk_err_set(err, EINVAL, "%s.port: no container port named \"%s\"", path, name);
}

static int parse_http(json_t *h, json_t *cj, const char *path, struct agent_probe_spec *out,
		      sk_err *err)
{
	const char *p = json_string_value(json_object_get(h, "path"));
	const char *host = json_string_value(json_object_get(h, "host"));
	const char *scheme = json_string_value(json_object_get(h, "scheme"));
	json_t *hdr;
	size_t i;

	out->kind = PROBE_HTTP;
	if (resolve_port(json_object_get(h, "port"), cj, path, &out->port, err) < 0)
		return -1;
	out->path = sk_strdup(p && *p ? p : "/");
	if (out->path[0] != '/') {
		char *fixed = sk_asprintf("/%s", out->path);
		free(out->path);
		out->path = fixed;
	}
	out->host = host && *host ? sk_strdup(host) : NULL;
	if (scheme && strcmp(scheme, "HTTP") && strcmp(scheme, "HTTPS"))
		return sk_err_set(err, EINVAL,
				  "%s.scheme: Unsupported value: \"%s\": supported values: "
				  "\"HTTP\", \"HTTPS\"",
				  path, scheme);
	out->https = scheme && !strcmp(scheme, "HTTPS");
	json_array_foreach (json_object_get(h, "httpHeaders"), i, hdr) {
		const char *n = json_string_value(json_object_get(hdr, "name"));
		const char *v = json_string_value(json_object_get(hdr, "value"));
		if (!n || !*n || strpbrk(n, ":\r\n") || (v && strpbrk(v, "\r\n")))
			return sk_err_set(err, EINVAL, "%s.httpHeaders[%zu]: invalid header", path,
					  i);
		_cleanup_free_ char *line = sk_asprintf("%s: %s", n, v ? v : "");
		out->headers = sk_strv_push(out->headers, line);
	}
	return 0;
}

static int parse_action(json_t *probe, json_t *cj, const char *path, struct agent_probe_spec *out,
			sk_err *err)
{
	json_t *v;
	_cleanup_free_ char *sub = NULL;

	if ((v = json_object_get(probe, "exec")) && !json_is_null(v)) {
		json_t *cmd = json_object_get(v, "command"), *c;
		size_t i;
		out->kind = PROBE_EXEC;
		json_array_foreach (cmd, i, c) {
			if (!json_is_string(c))
				return sk_err_set(err, EINVAL, "%s.exec.command[%zu]: not a string",
						  path, i);
			out->command = sk_strv_push(out->command, json_string_value(c));
		}
		if (!out->command)
			return sk_err_set(err, EINVAL, "%s.exec.command: Required value", path);
		return 0;
	}
	if ((v = json_object_get(probe, "httpGet")) && !json_is_null(v)) {
		sub = sk_asprintf("%s.httpGet", path);
		return parse_http(v, cj, sub, out, err);
	}
	if ((v = json_object_get(probe, "tcpSocket")) && !json_is_null(v)) {
		const char *host = json_string_value(json_object_get(v, "host"));
		sub = sk_asprintf("%s.tcpSocket", path);
		out->kind = PROBE_TCP;
		out->host = host && *host ? sk_strdup(host) : NULL;
		return resolve_port(json_object_get(v, "port"), cj, sub, &out->port, err);
	}
	if ((v = json_object_get(probe, "sleep")) && !json_is_null(v)) {
		out->kind = PROBE_SLEEP;
		return spec_int(v, "seconds", path, 0, 0, &out->sleep_s, err);
	}
	if ((v = json_object_get(probe, "grpc")) && !json_is_null(v))
		return sk_err_set(err, EINVAL, "%s.grpc: gRPC probes are not supported by skiff",
				  path);
	return sk_err_set(err, EINVAL, "%s: must specify a handler type", path);
}

int agent_probe_parse(json_t *probe, json_t *cj, const char *path, struct agent_probe_spec *out,
		      sk_err *err)
{
	memset(out, 0, sizeof(*out));
	out->termination_grace_s = -1;
	if (!probe || json_is_null(probe))
		return 0;
	if (!json_is_object(probe))
		return sk_err_set(err, EINVAL, "%s: must be an object", path);
	if (parse_action(probe, cj, path, out, err) < 0 ||
	    spec_int(probe, "initialDelaySeconds", path, 0, 0, &out->initial_delay_s, err) < 0 ||
	    spec_int(probe, "periodSeconds", path, 10, 1, &out->period_s, err) < 0 ||
	    spec_int(probe, "timeoutSeconds", path, 1, 1, &out->timeout_s, err) < 0 ||
	    spec_int(probe, "successThreshold", path, 1, 1, &out->success_threshold, err) < 0 ||
	    spec_int(probe, "failureThreshold", path, 3, 1, &out->failure_threshold, err) < 0 ||
	    spec_int(probe, "terminationGracePeriodSeconds", path, -1, 1, &out->termination_grace_s,
		     err) < 0) {
		agent_probe_spec_clear(out);
		return -1;
	}
	return 0;
}

int agent_http_status_code(const char *buf, size_t len)
{
	int code = 0;

	if (len < 12 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		code = code * 10 + (buf[i] - '0');
	}
	return len > 12 && buf[12] != ' ' && buf[12] != '\r' ? -1 : code;
}

/* ---- runs ------------------------------------------------------------------------ */

struct agent_probe_run {
	agent *a;
	enum agent_probe_kind kind;
	agent_probe_done done;
	void *data;
	uint64_t timer;
	int fd; /* socket */
	struct agent_exec_proc proc;
	sk_buf out;
	char *request;
	size_t sent;
	char target[300]; /* for messages: "http://10.88.0.5:8888/healthz" */
	char *argv_text;
	bool in_worker; /* an HTTPS run: the worker's completion frees it */
	bool cancelled;
};

static void run_free(struct agent_probe_run *r)
{
	sk_buf_free(&r->out);
	free(r->request);
	free(r->argv_text);
	free(r);
}

/* Stop everything the run holds (fds, timer, helper process). */
static void run_release(struct agent_probe_run *r)
{
	sk_loop *loop = r->a->loop;

	if (r->timer)
		sk_loop_cancel_timer(loop, r->timer);
	r->timer = 0;
	if (r->fd >= 0) {
		sk_loop_del_fd(loop, r->fd);
		close(r->fd);
		r->fd = -1;
	}
	if (r->proc.pidfd >= 0) {
		sk_loop_del_fd(loop, r->proc.pidfd);
		if (r->proc.out >= 0)
			sk_loop_del_fd(loop, r->proc.out);
		if (r->proc.err >= 0)
			sk_loop_del_fd(loop, r->proc.err);
		if (r->proc.pid > 0) {
			kill(r->proc.pid, SIGKILL); /* the command dies with it (PDEATHSIG) */
			waitpid(r->proc.pid, NULL, 0);
			r->proc.pid = 0;
		}
		agent_exec_proc_close(&r->proc);
	}
}

static void finish(struct agent_probe_run *r, bool ok, const char *msg)
{
	run_release(r);
	r->done(r->a, r->data, ok, msg);
	run_free(r);
}

void agent_probe_cancel(struct agent_probe_run *r)
{
	if (!r)
		return;
	run_release(r);
	if (r->in_worker) {
		/* the worker's completion frees it */
		r->cancelled = true;
		return;
	}
	run_free(r);
}

static int on_timeout(sk_loop *loop SK_UNUSED, void *data)
{
	struct agent_probe_run *r = data;
	_cleanup_free_ char *msg = NULL;

	r->timer = 0;
	if (r->kind == PROBE_EXEC)
		msg = sk_asprintf("command %s timed out", r->argv_text);
	else if (r->kind == PROBE_HTTP)
		msg = sk_asprintf("Get \"%s\": context deadline exceeded (Client.Timeout exceeded "
				  "while awaiting headers)",
				  r->target);
	else
		msg = sk_asprintf("dial tcp %s: i/o timeout", r->target);
	finish(r, false, msg);
	return 0;
}

/* ---- exec ---- */

static void read_output(struct agent_probe_run *r, int fd)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (r->out.len < OUTPUT_MAX)
			sk_buf_append(&r->out, buf,
				      r->out.len + (size_t)n > OUTPUT_MAX ? OUTPUT_MAX - r->out.len
									  : (size_t)n);
}

static int on_exec_output(sk_loop *loop, int fd, uint32_t events SK_UNUSED, void *data)
{
	struct agent_probe_run *r = data;

	read_output(r, fd);
	if (events & (EPOLLHUP | EPOLLERR)) {
		/* the writer is gone: stop polling this end */
		read_output(r, fd);
		sk_loop_del_fd(loop, fd);
		if (fd == r->proc.out)
			r->proc.out = -1;
		else
			r->proc.err = -1;
		close(fd);
	}
	return 0;
}

static int on_exec_exit(sk_loop *loop SK_UNUSED, int fd SK_UNUSED, uint32_t events SK_UNUSED,
			void *data)
{
	struct agent_probe_run *r = data;
	int wstatus = 0;

	if (waitpid(r->proc.pid, &wstatus, WNOHANG) <= 0)
		return 0;
	r->proc.pid = 0;
	if (r->proc.out >= 0)
		read_output(r, r->proc.out);
	if (r->proc.err >= 0)
		read_output(r, r->proc.err);
	int status = agent_exit_status(wstatus);
	/* the kubelet reports the command's output as the message */
	const char *text = r->out.data ? r->out.data : "";
	_cleanup_free_ char *msg = status == 0 || *text ? sk_strdup(text)
							: sk_asprintf("command %s exited with %d",
								      r->argv_text, status);
	finish(r, status == 0, msg);
	return 0;
}

static char *argv_text(char **argv)
{
	sk_buf b;

	sk_buf_init(&b);
	sk_buf_putc(&b, '[');
	for (size_t i = 0; argv && argv[i]; i++)
		sk_buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
	sk_buf_putc(&b, ']');
	return sk_buf_steal(&b);
}

static int start_exec(struct agent_probe_run *r, const struct agent_probe_spec *spec,
		      const char *pod_id, const char *container, sk_err *err)
{
	r->argv_text = argv_text(spec->command);
	if (agent_exec_spawn(&r->a->cfg, pod_id, container, spec->command, false, false, &r->proc,
			     err) < 0)
		return -1;
	fcntl(r->proc.out, F_SETFL, O_NONBLOCK);
	fcntl(r->proc.err, F_SETFL, O_NONBLOCK);
	if (sk_loop_add_fd(r->a->loop, r->proc.pidfd, EPOLLIN, on_exec_exit, r, err) < 0 ||
	    sk_loop_add_fd(r->a->loop, r->proc.out, EPOLLIN, on_exec_output, r, err) < 0 ||
	    sk_loop_add_fd(r->a->loop, r->proc.err, EPOLLIN, on_exec_output, r, err) < 0)
		return -1;
	return 0;
}

/* ---- TCP and HTTP ---- */

static int on_socket(sk_loop *loop, int fd, uint32_t events, void *data);

static void socket_failed(struct agent_probe_run *r, int e)
{
	_cleanup_free_ char *msg = NULL;

	if (r->kind == PROBE_TCP)
		msg = sk_asprintf("dial tcp %s: connect: %s", r->target, strerror(e));
	else
		msg = sk_asprintf("Get \"%s\": dial tcp: connect: %s", r->target, strerror(e));
	finish(r, false, msg);
}

static void http_answer(struct agent_probe_run *r)
{
	int code = agent_http_status_code(r->out.data, r->out.len);
	_cleanup_free_ char *msg = NULL;

	if (code < 0)
		msg = sk_asprintf("Get \"%s\": malformed HTTP response", r->target);
	else if (code < 200 || code >= 400)
		msg = sk_asprintf("HTTP probe failed with statuscode: %d", code);
	finish(r, code >= 200 && code < 400, msg ? msg : "");
}

static int http_io(struct agent_probe_run *r, uint32_t events)
{
	char buf[4096];
	ssize_t n;

	if ((events & EPOLLOUT) && r->sent < strlen(r->request)) {
		n = send(r->fd, r->request + r->sent, strlen(r->request) - r->sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			socket_failed(r, errno);
			return 0;
		}
		if (n > 0)
			r->sent += (size_t)n;
		if (r->sent == strlen(r->request))
			sk_loop_mod_fd(r->a->loop, r->fd, EPOLLIN, NULL);
	}
	while ((n = recv(r->fd, buf, sizeof(buf), 0)) > 0) {
		sk_buf_append(&r->out, buf, (size_t)n);
		if (memchr(r->out.data, '\n', r->out.len) || r->out.len > 1024) {
			http_answer(r);
			return 0;
		}
	}
	if (n == 0) {
		http_answer(r);
		return 0;
	}
	if (errno != EAGAIN)
		socket_failed(r, errno);
	return 0;
}

static int on_socket(sk_loop *loop SK_UNUSED, int fd, uint32_t events, void *data)
{
	struct agent_probe_run *r = data;
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 && e) {
		socket_failed(r, e);
		return 0;
	}
	if (r->kind == PROBE_TCP) {
		finish(r, true, "");
		return 0;
	}
	return http_io(r, events);
}

static int resolve_host(const char *host, struct in_addr *out, sk_err *err)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;

	if (inet_pton(AF_INET, host, out) == 1)
		return 0;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return sk_err_set(err, EHOSTUNREACH, "lookup %s: no such host", host);
	*out = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

static char *http_request(const struct agent_probe_spec *spec, const char *host)
{
	sk_buf b;
	bool has_host = false, has_ua = false, has_accept = false;

	for (size_t i = 0; spec->headers && spec->headers[i]; i++) {
		has_host |= !strncasecmp(spec->headers[i], "Host:", 5);
		has_ua |= !strncasecmp(spec->headers[i], "User-Agent:", 11);
		has_accept |= !strncasecmp(spec->headers[i], "Accept:", 7);
	}
	sk_buf_init(&b);
	sk_buf_printf(&b, "GET %s HTTP/1.1\r\n", spec->path);
	if (!has_host)
		sk_buf_printf(&b, "Host: %s:%d\r\n", host, spec->port);
	if (!has_ua)
		sk_buf_puts(&b, "User-Agent: kube-probe/1.33\r\n");
	if (!has_accept)
		sk_buf_puts(&b, "Accept: */*\r\n");
	for (size_t i = 0; spec->headers && spec->headers[i]; i++)
		sk_buf_printf(&b, "%s\r\n", spec->headers[i]);
	sk_buf_puts(&b, "Connection: close\r\n\r\n");
	return sk_buf_steal(&b);
}

static int start_socket(struct agent_probe_run *r, const struct agent_probe_spec *spec,
			const char *host, sk_err *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)spec->port)};

	if (resolve_host(host, &sa.sin_addr, err) < 0)
		return -1;
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return sk_err_sys(err, errno, "socket");
	if (connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int e = errno;
		return sk_err_set(err, e, "dial tcp %s: connect: %s", r->target, strerror(e));
	}
	if (spec->kind == PROBE_HTTP)
		r->request = http_request(spec, host);
	return sk_loop_add_fd(r->a->loop, r->fd, EPOLLOUT | EPOLLIN, on_socket, r, err);
}

/* ---- HTTPS, in a worker ---- */

struct https_job {
	struct agent_probe_run *r;
	char *url, *path;
	bool ok;
	char msg[SK_ERR_MSG_MAX + 512];
};

static void https_run(struct agent_worker *w SK_UNUSED, void *data)
{
	struct https_job *j = data;
	_cleanup_free_ char *server = sk_strdup(j->url);
	char *slash = strchr(server + strlen("https://"), '/');
	struct sk_http_config hc = {
		.insecure = true, .timeout_ms = 1000, .user_agent = "kube-probe/1.33"};
	struct sk_http_request req = {.path = j->path, .accept = "*/*"};
	struct sk_http_response resp;
	sk_http *h = NULL;
	sk_err err;

	if (slash)
		*slash = '\0';
	hc.server = server;
	if (sk_http_new(&hc, &h, &err) < 0 || sk_http_do(h, &req, &resp, &err) < 0) {
		snprintf(j->msg, sizeof(j->msg), "Get \"%s\": %s", j->url, err.msg);
		sk_http_free(h);
		return;
	}
	j->ok = resp.status >= 200 && resp.status < 400;
	if (!j->ok)
		snprintf(j->msg, sizeof(j->msg), "HTTP probe failed with statuscode: %ld",
			 resp.status);
	sk_http_response_free(&resp);
	sk_http_free(h);
}

static void https_done(agent *a SK_UNUSED, void *data)
{
	struct https_job *j = data;
	struct agent_probe_run *r = j->r;

	if (r->cancelled)
		run_free(r);
	else
		finish(r, j->ok, j->msg);
	free(j->url);
	free(j->path);
	free(j);
}

static void start_https(struct agent_probe_run *r, const struct agent_probe_spec *spec)
{
	struct https_job *j = sk_calloc(1, sizeof(*j));

	r->in_worker = true;
	j->r = r;
	j->url = sk_strdup(r->target);
	j->path = sk_strdup(spec->path);
	agent_pool_submit(r->a->fast, https_run, https_done, j);
}

/* ---- starting ---- */

static int sleep_done(sk_loop *loop SK_UNUSED, void *data)
{
	struct agent_probe_run *r = data;

	r->timer = 0;
	finish(r, true, "");
	return 0;
}

struct agent_probe_run *agent_probe_start(agent *a, const struct agent_probe_spec *spec,
					  const char *pod_id, const char *container, const char *ip,
					  agent_probe_done done, void *data, sk_err *err)
{
	struct agent_probe_run *r = sk_calloc(1, sizeof(*r));
	const char *host = spec->host ? spec->host : ip ? ip : "127.0.0.1";
	int ret = 0;

	r->a = a;
	r->kind = spec->kind;
	r->done = done;
	r->data = data;
	r->fd = -1;
	r->proc.pidfd = r->proc.in = r->proc.out = r->proc.err = r->proc.pty = -1;
	sk_buf_init(&r->out);
	if (spec->kind == PROBE_HTTP)
		snprintf(r->target, sizeof(r->target), "%s://%s:%d%s",
			 spec->https ? "https" : "http", host, spec->port, spec->path);
	else
		snprintf(r->target, sizeof(r->target), "%s:%d", host, spec->port);
	switch (spec->kind) {
	case PROBE_EXEC:
		ret = start_exec(r, spec, pod_id, container, err);
		break;
	case PROBE_HTTP:
		if (spec->https) {
			start_https(r, spec);
			return r;
		}
		ret = start_socket(r, spec, host, err);
		break;
	case PROBE_TCP:
		ret = start_socket(r, spec, host, err);
		break;
	case PROBE_SLEEP:
		r->timer = sk_loop_add_timer(a->loop, spec->sleep_s * 1000, sleep_done, r);
		return r;
	default:
		ret = sk_err_set(err, EINVAL, "no probe");
	}
	if (ret < 0) {
		run_release(r);
		run_free(r);
		return NULL;
	}
	r->timer = sk_loop_add_timer(a->loop, spec->timeout_s * 1000, on_timeout, r);
	return r;
}
