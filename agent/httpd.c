/* The agent's own HTTPS endpoint, what the API server proxies pods/log
 * and pods/exec to (the kubelet's paths):
 *
 *   GET  /healthz
 *   GET  /containerLogs/{ns}/{pod}/{container}?follow=&previous=&tailLines=
 *        &timestamps=&sinceSeconds=&sinceTime=&limitBytes=
 *   GET|POST /exec/{ns}/{pod}/{container}?command=..&stdin=&stdout=&stderr=&tty=
 *        (also input/output/error, the kubelet's names), upgraded to a
 *        WebSocket speaking v5.channel.k8s.io or v4.channel.k8s.io
 *
 * TLS with a self-signed certificate made at first start (the kubelet's
 * default). Every request needs a bearer token the API server accepts:
 * the agent's own, or one the server confirms (a TokenReview done as a
 * request of the token's holder, cached for a minute), as the kubelet
 * does with webhook authentication. libmicrohttpd runs a thread per
 * connection, so a followed log may block in its reader; an exec session
 * runs in a thread of its own after the upgrade. These threads touch only
 * the runtime's files and the immutable configuration. */
#include "agent_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define TOKEN_CACHE 16
#define TOKEN_TTL_NS (60LL * 1000000000LL)
#define WS_MAX_PAYLOAD (1u << 20)

struct token_ok {
	unsigned char hash[32];
	int64_t until;
};

struct agent_httpd {
	agent *a;
	struct MHD_Daemon *mhd;
	char *cert, *key;
	pthread_mutex_t lock;
	struct token_ok tokens[TOKEN_CACHE];
	size_t next_token;
	atomic_bool stopping; /* streams and sessions end */
	atomic_int sessions;  /* exec sessions running */
};

/* ---- the certificate ---------------------------------------------------------- */

static int gnutls_fail(sk_err *err, int rc, const char *what)
{
	return sk_err_set(err, EIO, "%s: %s", what, gnutls_strerror(rc));
}

/* gnutls_free is a data symbol, which the lazy linking of GnuTLS cannot
 * reach; GnuTLS allocates with the C library unless told otherwise. */
#define tls_free free

static int make_cert(agent *a, char **cert_pem, char **key_pem, sk_err *err)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t c = {0}, k = {0};
	unsigned char serial[16];
	unsigned char ip[4];
	time_t now = time(NULL);
	_cleanup_free_ char *cn = sk_asprintf("%s@%lld", a->node_name, (long long)now);
	int rc;

	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
					       0)) < 0 ||
	    (rc = gnutls_x509_crt_init(&crt)) < 0 ||
	    (rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt, now + 10LL * 365 * 86400)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						strlen(cn))) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, a->node_name,
						       strlen(a->node_name), GNUTLS_FSAN_APPEND)) <
		    0 ||
	    (rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, 1, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
							     GNUTLS_KEY_KEY_CERT_SIGN)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		goto fail;
	if (inet_pton(AF_INET, a->host_ip, ip) == 1 &&
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
						       GNUTLS_FSAN_APPEND)) < 0)
		goto fail;
	if ((rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &c)) < 0 ||
	    (rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &k)) < 0)
		goto fail;
	*cert_pem = sk_strndup((char *)c.data, c.size);
	*key_pem = sk_strndup((char *)k.data, k.size);
	tls_free(c.data);
	tls_free(k.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return 0;
fail:
	tls_free(c.data);
	tls_free(k.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return gnutls_fail(err, rc, "make the agent's certificate");
}

/* The agent's certificate from its data dir, made at first start. */
static int load_cert(agent *a, char **cert, char **key, sk_err *err)
{
	_cleanup_free_ char *cp = sk_path_join(a->cfg.data_dir, "agent.crt");
	_cleanup_free_ char *kp = sk_path_join(a->cfg.data_dir, "agent.key");
	sk_err ignored;

	if (sk_read_file(cp, 1 << 20, cert, NULL, &ignored) == 0 &&
	    sk_read_file(kp, 1 << 20, key, NULL, &ignored) == 0)
		return 0;
	free(*cert);
	free(*key);
	*cert = *key = NULL;
	if (make_cert(a, cert, key, err) < 0)
		return -1;
	if (sk_write_file_atomic(kp, *key, strlen(*key), 0600, err) < 0 ||
	    sk_write_file_atomic(cp, *cert, strlen(*cert), 0644, err) < 0)
		return -1;
	return 0;
}

/* ---- authentication ---------------------------------------------------------------- */

static bool token_cached(struct agent_httpd *d, const unsigned char *hash)
{
	int64_t now = sk_monotonic_ns();
	bool ok = false;

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < TOKEN_CACHE; i++)
		if (d->tokens[i].until > now && !memcmp(d->tokens[i].hash, hash, 32))
			ok = true;
	pthread_mutex_unlock(&d->lock);
	return ok;
}

static void token_remember(struct agent_httpd *d, const unsigned char *hash)
{
	pthread_mutex_lock(&d->lock);
	memcpy(d->tokens[d->next_token].hash, hash, 32);
	d->tokens[d->next_token].until = sk_monotonic_ns() + TOKEN_TTL_NS;
	d->next_token = (d->next_token + 1) % TOKEN_CACHE;
	pthread_mutex_unlock(&d->lock);
}

/* Does the API server accept this token? Asked as the token's holder. */
static bool server_accepts(agent *a, const char *token)
{
	struct agent_config cfg = a->cfg;
	_cleanup_free_ char *path = sk_asprintf("/api/v1/nodes/%s", a->node_name);
	sk_http *h = NULL;
	sk_err err;
	bool ok;

	cfg.token = token;
	if (agent_http_new(&cfg, &h, &err) < 0)
		return false;
	ok = agent_api_get(h, path, NULL, &err) == 0;
	sk_http_free(h);
	return ok;
}

static bool authorized(struct agent_httpd *d, struct MHD_Connection *conn)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	unsigned char hash[32];
	const char *token;

	if (!auth || strncasecmp(auth, "Bearer ", 7))
		return false;
	token = auth + 7;
	if (!*token)
		return false;
	if (d->a->cfg.token && !strcmp(token, d->a->cfg.token))
		return true;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), hash);
	if (token_cached(d, hash))
		return true;
	if (!server_accepts(d->a, token))
		return false;
	token_remember(d, hash);
	return true;
}

/* ---- answers ------------------------------------------------------------------------ */

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned code, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static unsigned code_of(const sk_err *err)
{
	return err->code == ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_BAD_REQUEST;
}

/* ---- query parameters ---------------------------------------------------------------- */

static bool arg_bool(struct MHD_Connection *conn, const char *name, const char *alt)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);

	if (!v && alt)
		v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, alt);
	return v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "True"));
}

static int arg_int(struct MHD_Connection *conn, const char *name, int64_t dflt, int64_t *out,
		   sk_err *err)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);

	*out = dflt;
	if (!v || !*v)
		return 0;
	if (sk_parse_int64(v, 0, INT64_MAX, out, err) < 0)
		return sk_err_wrap(err, "%s", name);
	return 0;
}

/* "/containerLogs/ns/pod/container" -> its three parts */
static int split_path(const char *url, const char *prefix, char **ns, char **pod, char **ctr)
{
	const char *p = url + strlen(prefix);
	char *parts[3] = {NULL, NULL, NULL};

	for (int i = 0; i < 3; i++) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (i < 2 && p[n] != '/'))
			goto bad;
		parts[i] = sk_strndup(p, n);
		p += n + (p[n] == '/');
	}
	if (*p)
		goto bad;
	*ns = parts[0];
	*pod = parts[1];
	*ctr = parts[2];
	return 0;
bad:
	for (int i = 0; i < 3; i++)
		free(parts[i]);
	return -1;
}

/* ---- logs -------------------------------------------------------------------------------- */

struct log_stream {
	struct agent_httpd *d;
	struct agent_log_reader *r;
	struct MHD_Connection *conn;
	int fd; /* the client's socket, to notice it leaving */
};

static bool client_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static ssize_t log_reader(void *cls, uint64_t pos SK_UNUSED, char *buf, size_t max)
{
	struct log_stream *s = cls;

	for (;;) {
		ssize_t n = agent_log_read(s->r, buf, max, 1000);
		if (n > 0)
			return n;
		if (n == 0 || atomic_load(&s->d->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (client_gone(s->fd))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void log_free(void *cls)
{
	struct log_stream *s = cls;

	agent_log_close(s->r);
	free(s);
}

static int log_options(struct MHD_Connection *conn, struct agent_log_opts *o, sk_err *err)
{
	int64_t since = 0;
	const char *since_time =
		MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "sinceTime");

	memset(o, 0, sizeof(*o));
	o->follow = arg_bool(conn, "follow", NULL);
	o->previous = arg_bool(conn, "previous", NULL);
	o->timestamps = arg_bool(conn, "timestamps", NULL);
	if (arg_int(conn, "tailLines", -1, &o->tail_lines, err) < 0 ||
	    arg_int(conn, "limitBytes", 0, &o->limit_bytes, err) < 0 ||
	    arg_int(conn, "sinceSeconds", 0, &since, err) < 0)
		return -1;
	if (since > 0)
		o->since_ns = sk_now_ns() - since * 1000000000LL;
	if (since_time && *since_time) {
		int64_t t;
		if (sk_parse_rfc3339(since_time, &t) < 0)
			return sk_err_set(err, EINVAL, "sinceTime: not an RFC 3339 time");
		o->since_ns = t * 1000000000LL;
	}
	return 0;
}

static enum MHD_Result serve_logs(struct agent_httpd *d, struct MHD_Connection *conn,
				  const char *url)
{
	_cleanup_free_ char *ns = NULL, *pod = NULL, *ctr = NULL;
	struct agent_log_opts o;
	struct log_stream *s;
	struct MHD_Response *resp;
	const union MHD_ConnectionInfo *ci;
	enum MHD_Result ret;
	sk_err err;

	if (split_path(url, "/containerLogs/", &ns, &pod, &ctr) < 0)
		return answer_text(conn, MHD_HTTP_NOT_FOUND, "404 page not found\n");
	if (log_options(conn, &o, &err) < 0)
		return answer_text(conn, MHD_HTTP_BAD_REQUEST, err.msg);
	s = sk_calloc(1, sizeof(*s));
	if (agent_log_open(d->a->cfg.state_dir, ns, pod, ctr, &o, &s->r, &err) < 0) {
		free(s);
		return answer_text(conn, code_of(&err), err.msg);
	}
	s->conn = conn;
	s->d = d;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	s->fd = ci ? ci->connect_fd : -1;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, log_reader, s,
						 log_free);
	MHD_add_response_header(resp, "Content-Type", "text/plain");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- exec ---------------------------------------------------------------------------------- */

enum { CH_STDIN = 0, CH_STDOUT = 1, CH_STDERR = 2, CH_ERROR = 3, CH_RESIZE = 4, CH_CLOSE = 255 };

struct exec_session {
	struct agent_httpd *d;
	agent *a;
	char *id, *container;
	char **argv;
	bool stdin_, stdout_, stderr_, tty;
	bool v5;
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
	sk_buf in;	/* bytes from the client */
	sk_buf to_proc; /* stdin not yet written */
	bool stdin_eof;
	struct agent_exec_proc proc;
	bool client_closed;
};

static void session_free(struct exec_session *s)
{
	free(s->id);
	free(s->container);
	sk_strv_free(s->argv);
	sk_buf_free(&s->in);
	sk_buf_free(&s->to_proc);
	free(s);
}

static int send_all(MHD_socket fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_channel(struct exec_session *s, int ch, const char *data, size_t n)
{
	sk_buf msg, frame;
	int r;

	sk_buf_init(&msg);
	sk_buf_init(&frame);
	sk_buf_putc(&msg, (char)ch);
	sk_buf_append(&msg, data, n);
	agent_ws_frame(&frame, AGENT_WS_BINARY, msg.data, msg.len, false);
	r = send_all(s->sock, frame.data, frame.len);
	sk_buf_free(&msg);
	sk_buf_free(&frame);
	return r;
}

static void send_close(struct exec_session *s)
{
	sk_buf frame;
	unsigned char code[2] = {0x03, 0xe8}; /* 1000: normal closure */

	sk_buf_init(&frame);
	agent_ws_frame(&frame, AGENT_WS_CLOSE, code, sizeof(code), false);
	(void)send_all(s->sock, frame.data, frame.len);
	sk_buf_free(&frame);
}

static char *exit_status_json(int status)
{
	if (status == 0)
		return sk_strdup("{\"metadata\":{},\"status\":\"Success\"}");
	return sk_asprintf("{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command "
			   "terminated with non-zero exit code: exit status %d\",\"reason\":"
			   "\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\","
			   "\"message\":\"%d\"}]}}",
			   status, status);
}

static void resize(struct exec_session *s, const unsigned char *p, size_t n)
{
	json_t *j = json_loadb((const char *)p, n, 0, NULL);
	struct winsize ws = {0};

	ws.ws_col = (unsigned short)json_integer_value(json_object_get(j, "Width"));
	ws.ws_row = (unsigned short)json_integer_value(json_object_get(j, "Height"));
	if (s->proc.pty >= 0 && ws.ws_col && ws.ws_row)
		ioctl(s->proc.pty, TIOCSWINSZ, &ws);
	json_decref(j);
}

static void close_stdin(struct exec_session *s)
{
	s->stdin_eof = true;
	if (!s->to_proc.len && s->proc.in >= 0) {
		close(s->proc.in);
		s->proc.in = -1;
	}
}

/* One message from the client. */
static int client_message(struct exec_session *s, struct agent_ws_frame *f)
{
	sk_buf pong;

	switch (f->opcode) {
	case AGENT_WS_CLOSE:
		s->client_closed = true;
		return -1;
	case AGENT_WS_PING:
		sk_buf_init(&pong);
		agent_ws_frame(&pong, AGENT_WS_PONG, f->payload, f->len, false);
		(void)send_all(s->sock, pong.data, pong.len);
		sk_buf_free(&pong);
		return 0;
	case AGENT_WS_BINARY:
		break;
	default:
		return 0;
	}
	if (f->len < 1)
		return 0;
	int ch = f->payload[0];
	if (ch == CH_STDIN && s->stdin_ && !s->stdin_eof) {
		if (s->proc.pty >= 0)
			sk_buf_append(&s->to_proc, f->payload + 1, f->len - 1);
		else if (s->proc.in >= 0)
			sk_buf_append(&s->to_proc, f->payload + 1, f->len - 1);
	} else if (ch == CH_RESIZE) {
		resize(s, f->payload + 1, f->len - 1);
	} else if (ch == CH_CLOSE && s->v5 && f->len >= 2 && f->payload[1] == CH_STDIN) {
		if (s->proc.pty >= 0)
			sk_buf_append(&s->to_proc, "\x04", 1); /* EOF on a terminal: ^D */
		else
			close_stdin(s);
	}
	return 0;
}

static int read_client(struct exec_session *s)
{
	char buf[65536];
	ssize_t n = recv(s->sock, buf, sizeof(buf), 0);
	struct agent_ws_frame f;
	sk_err err;
	int used;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		s->client_closed = true;
		return -1;
	}
	sk_buf_append(&s->in, buf, (size_t)n);
	while ((used = agent_ws_parse(s->in.data, s->in.len, WS_MAX_PAYLOAD, &f, &err)) > 0) {
		int r = client_message(s, &f);
		memmove(s->in.data, s->in.data + used, s->in.len - (size_t)used);
		s->in.len -= (size_t)used;
		if (r < 0)
			return -1;
	}
	if (used < 0) {
		sk_debug("agent: exec: %s", err.msg);
		return -1;
	}
	return 0;
}

static void write_proc(struct exec_session *s)
{
	int fd = s->proc.pty >= 0 ? s->proc.pty : s->proc.in;
	ssize_t n;

	if (fd < 0 || !s->to_proc.len)
		return;
	n = write(fd, s->to_proc.data, s->to_proc.len);
	if (n > 0) {
		memmove(s->to_proc.data, s->to_proc.data + n, s->to_proc.len - (size_t)n);
		s->to_proc.len -= (size_t)n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		s->to_proc.len = 0;
	}
	if (!s->to_proc.len && s->stdin_eof && s->proc.in >= 0) {
		close(s->proc.in);
		s->proc.in = -1;
	}
}

/* Copy what fd has to the channel; false at its end. */
static bool pump(struct exec_session *s, int *fd, int ch)
{
	char buf[32768];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n > 0) {
		if (send_channel(s, ch, buf, (size_t)n) < 0)
			s->client_closed = true;
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	close(*fd);
	*fd = -1;
	return false;
}

static void drain_outputs(struct exec_session *s)
{
	int *fds[] = {&s->proc.out, &s->proc.err, &s->proc.pty};
	int chans[] = {CH_STDOUT, CH_STDERR, CH_STDOUT};

	for (int i = 0; i < 3; i++)
		while (*fds[i] >= 0 && pump(s, fds[i], chans[i])) {
			struct pollfd p = {.fd = *fds[i], .events = POLLIN};
			if (poll(&p, 1, 0) <= 0)
				break;
		}
}

static int session_loop(struct exec_session *s)
{
	int status = -1;

	for (;;) {
		struct pollfd p[6];
		int n = 0, wfd = s->proc.pty >= 0 ? s->proc.pty : s->proc.in;
		p[n++] = (struct pollfd){.fd = s->sock, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = s->proc.pidfd, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = s->proc.out, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = s->proc.err, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = s->proc.pty, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = s->to_proc.len ? wfd : -1, .events = POLLOUT};
		if (poll(p, (nfds_t)n, 500) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (atomic_load(&s->d->stopping))
			return -1;
		if (p[0].revents && read_client(s) < 0)
			return -1;
		if (p[2].revents && s->proc.out >= 0)
			pump(s, &s->proc.out, CH_STDOUT);
		if (p[3].revents && s->proc.err >= 0)
			pump(s, &s->proc.err, CH_STDERR);
		if (p[4].revents && s->proc.pty >= 0)
			pump(s, &s->proc.pty, CH_STDOUT);
		if (p[5].revents)
			write_proc(s);
		if (s->client_closed)
			return -1;
		if (p[1].revents) {
			int wstatus;
			if (waitpid(s->proc.pid, &wstatus, WNOHANG) == s->proc.pid) {
				s->proc.pid = 0;
				status = agent_exit_status(wstatus);
				drain_outputs(s);
				return status;
			}
		}
	}
}

static void *session_main(void *arg)
{
	struct exec_session *s = arg;
	sk_err err;
	int status;

	pthread_setname_np(pthread_self(), "agent-exec");
	if (agent_exec_spawn(&s->a->cfg, s->id, s->container, s->argv, s->stdin_, s->tty, &s->proc,
			     &err) < 0) {
		_cleanup_free_ char *st = exit_status_json(126);
		(void)send_channel(s, CH_STDERR, err.msg, strlen(err.msg));
		(void)send_channel(s, CH_ERROR, st, strlen(st));
		send_close(s);
	} else {
		for (int *fd = &s->proc.in; fd <= &s->proc.err; fd++)
			if (*fd >= 0)
				fcntl(*fd, F_SETFL, O_NONBLOCK);
		if (s->proc.pty >= 0)
			fcntl(s->proc.pty, F_SETFL, O_NONBLOCK);
		status = session_loop(s);
		if (status >= 0) {
			_cleanup_free_ char *st = exit_status_json(status);
			(void)send_channel(s, CH_ERROR, st, strlen(st));
			send_close(s);
		}
		if (s->proc.pid > 0) {
			/* the client went away: the command goes too */
			kill(s->proc.pid, SIGKILL);
			waitpid(s->proc.pid, NULL, 0);
		}
		agent_exec_proc_close(&s->proc);
	}
	/* the end of our side first: MHD then ends the TLS connection (it
	 * would otherwise wait for the client to close it) */
	shutdown(s->sock, SHUT_RDWR);
	MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
	atomic_fetch_sub(&s->d->sessions, 1);
	session_free(s);
	return NULL;
}

static void on_upgrade(void *cls, struct MHD_Connection *conn SK_UNUSED, void *con_cls SK_UNUSED,
		       const char *extra_in, size_t extra_in_size, MHD_socket sock,
		       struct MHD_UpgradeResponseHandle *urh)
{
	struct exec_session *s = cls;
	pthread_t t;
	pthread_attr_t attr;
	int flags = fcntl(sock, F_GETFL);

	/* blocking I/O on the socket: the session polls */
	fcntl(sock, F_SETFL, flags & ~O_NONBLOCK);
	s->sock = sock;
	s->urh = urh;
	if (extra_in_size)
		sk_buf_append(&s->in, extra_in, extra_in_size);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&s->d->sessions, 1);
	if (pthread_create(&t, &attr, session_main, s) != 0) {
		atomic_fetch_sub(&s->d->sessions, 1);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		session_free(s);
	}
	pthread_attr_destroy(&attr);
}

struct argv_ctx {
	char **argv;
};

static enum MHD_Result collect_command(void *cls, enum MHD_ValueKind kind SK_UNUSED,
				       const char *key, const char *value)
{
	struct argv_ctx *c = cls;

	if (key && value && !strcmp(key, "command"))
		c->argv = sk_strv_push(c->argv, value);
	return MHD_YES;
}

/* The subprotocol to answer with: v5 when offered, else v4. */
static const char *pick_protocol(const char *offered)
{
	if (!offered)
		return NULL;
	if (strstr(offered, "v5.channel.k8s.io"))
		return "v5.channel.k8s.io";
	if (strstr(offered, "v4.channel.k8s.io"))
		return "v4.channel.k8s.io";
	return NULL;
}

/* The container must run: checked before the upgrade, so the error is an
 * HTTP answer kubectl prints. */
static int check_running(agent *a, const char *id, const char *pod, const char *ctr, sk_err *err)
{
	struct rt_pod_status st;
	bool found = false, running = false;

	if (rt_pod_status_file(a->cfg.state_dir, id, &st, err) < 0)
		return sk_err_set(err, ENOENT, "pod %s not found on this node", pod);
	for (size_t i = 0; i < st.n_init_containers + st.n_containers; i++) {
		const struct rt_container_status *c =
			i < st.n_init_containers ? &st.init_containers[i]
						 : &st.containers[i - st.n_init_containers];
		if (!strcmp(c->name, ctr)) {
			found = true;
			running = c->state == RT_RUNNING;
		}
	}
	rt_pod_status_free(&st);
	if (!found)
		return sk_err_set(err, EINVAL, "container %s is not valid for pod %s", ctr, pod);
	if (!running)
		return sk_err_set(err, EINVAL, "container not found (\"%s\")", ctr);
	return 0;
}

static enum MHD_Result serve_exec(struct agent_httpd *d, struct MHD_Connection *conn,
				  const char *url)
{
	_cleanup_free_ char *ns = NULL, *pod = NULL, *ctr = NULL;
	const char *upgrade = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade");
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *proto = pick_protocol(
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Protocol"));
	struct argv_ctx args = {NULL};
	struct exec_session *s;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char accept[29];
	sk_err err;

	if (split_path(url, "/exec/", &ns, &pod, &ctr) < 0)
		return answer_text(conn, MHD_HTTP_NOT_FOUND, "404 page not found\n");
	if (!upgrade || strcasecmp(upgrade, "websocket") || !key || !proto)
		return answer_text(conn, MHD_HTTP_BAD_REQUEST,
				   "exec needs a WebSocket upgrade with the v5.channel.k8s.io or "
				   "v4.channel.k8s.io subprotocol");
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_command, &args);
	if (!args.argv)
		return answer_text(conn, MHD_HTTP_BAD_REQUEST,
				   "you must specify at least 1 command");
	_cleanup_free_ char *id = rt_pod_id(ns, pod);
	if (check_running(d->a, id, pod, ctr, &err) < 0) {
		sk_strv_free(args.argv);
		return answer_text(conn, code_of(&err), err.msg);
	}
	s = sk_calloc(1, sizeof(*s));
	s->d = d;
	s->a = d->a;
	s->id = sk_strdup(id);
	s->container = sk_strdup(ctr);
	s->argv = args.argv;
	s->stdin_ = arg_bool(conn, "stdin", "input");
	s->stdout_ = arg_bool(conn, "stdout", "output");
	s->stderr_ = arg_bool(conn, "stderr", "error");
	s->tty = arg_bool(conn, "tty", NULL);
	s->v5 = !strcmp(proto, "v5.channel.k8s.io");
	sk_buf_init(&s->in);
	sk_buf_init(&s->to_proc);
	resp = MHD_create_response_for_upgrade(on_upgrade, s);
	agent_ws_accept_key(key, accept);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	MHD_add_response_header(resp, "Sec-WebSocket-Protocol", proto);
	ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	if (ret != MHD_YES)
		session_free(s);
	return ret;
}

/* ---- routing --------------------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version SK_UNUSED,
				  const char *upload_data SK_UNUSED, size_t *upload_data_size,
				  void **con_cls)
{
	static int first;
	struct agent_httpd *d = cls;

	if (!*con_cls) {
		*con_cls = &first;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* bodies are not used */
		return MHD_YES;
	}
	if (!strcmp(url, "/healthz"))
		return answer_text(conn, MHD_HTTP_OK, "ok");
	if (!authorized(d, conn))
		return answer_text(conn, MHD_HTTP_UNAUTHORIZED, "Unauthorized");
	if (sk_startswith(url, "/containerLogs/") && !strcmp(method, "GET"))
		return serve_logs(d, conn, url);
	if (sk_startswith(url, "/exec/") && (!strcmp(method, "GET") || !strcmp(method, "POST")))
		return serve_exec(d, conn, url);
	return answer_text(conn, MHD_HTTP_NOT_FOUND, "404 page not found\n");
}

static void mhd_log(void *cls SK_UNUSED, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = sk_vasprintf(fmt, ap);

	msg[strcspn(msg, "\n")] = '\0';
	sk_debug("agent: https: %s", msg);
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, sk_err *err)
{
	const char *colon = strrchr(listen, ':');
	int64_t port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || sk_parse_int64(colon + 1, 0, 65535, &port, err) < 0)
		return sk_err_set(err, EINVAL, "--listen \"%s\": want ADDR:PORT", listen);
	_cleanup_free_ char *host = sk_strndup(listen, (size_t)(colon - listen));
	if (!*host || !strcmp(host, "*"))
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return sk_err_set(err, EINVAL, "--listen \"%s\": not an IPv4 address", listen);
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

int agent_httpd_start(agent *a, sk_err *err)
{
	struct agent_httpd *d = sk_calloc(1, sizeof(*d));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	d->a = a;
	pthread_mutex_init(&d->lock, NULL);
	a->httpd = d;
	if (parse_listen(a->cfg.listen, &sa, err) < 0 || load_cert(a, &d->cert, &d->key, err) < 0)
		return -1;
	d->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					  MHD_USE_TLS | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG,
				  0, NULL, NULL, on_request, d, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
				  d, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_HTTPS_MEM_CERT, d->cert,
				  MHD_OPTION_HTTPS_MEM_KEY, d->key, MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned)0, MHD_OPTION_END);
	if (!d->mhd)
		return sk_err_set(err, EADDRINUSE, "agent: cannot listen on %s", a->cfg.listen);
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_BIND_PORT);
	a->port = info ? info->port : ntohs(sa.sin_port);
	return 0;
}

void agent_httpd_stop(agent *a)
{
	struct agent_httpd *d = a->httpd;

	if (!d)
		return;
	atomic_store(&d->stopping, true);
	/* sessions notice within half a second; MHD wants them closed */
	for (int i = 0; i < 100 && atomic_load(&d->sessions) > 0; i++)
		usleep(50 * 1000);
	if (d->mhd)
		MHD_stop_daemon(d->mhd);
	pthread_mutex_destroy(&d->lock);
	free(d->cert);
	free(d->key);
	free(d);
	a->httpd = NULL;
}
