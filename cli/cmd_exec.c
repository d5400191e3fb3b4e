/* skiff exec: run a command in a container of a pod, through the server
 * (pods/exec, proxied to the pod's node agent), as kubectl 1.33 does it:
 * a WebSocket speaking v5.channel.k8s.io (stdin 0, stdout 1, stderr 2,
 * the exit Status 3, terminal size 4; [255, 0] closes stdin).
 *
 * skiff __exec: the hidden helper the agent starts for `kubectl exec`,
 * exec probes and lifecycle hooks. It is a process of its own (single
 * threaded, as joining a mount namespace requires) that enters the
 * container, runs the command with the helper's stdio and exits with the
 * command's status:
 *
 *   skiff __exec --state-dir DIR [--tty [--console-socket FD]] [--env K=V]...
 *                POD_ID CONTAINER -- CMD [ARG...]
 */
#include "kube_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "../agent/agent.h"
#include "../runtime/runtime.h"

#define EXEC_USAGE                                                                            \
	"usage: skiff exec [-i] [-t] [-c CONTAINER] [-n NAMESPACE] POD -- COMMAND [ARG...]\n" \
	"Run a command in a container of a pod.\n"                                            \
	"  -i, --stdin         pass stdin to the command\n"                                   \
	"  -t, --tty           stdin is a terminal\n"                                         \
	"  -c, --container C   the container (default: the pod's default one)\n"

/* ---- a connection to the server: TCP, TLS when https ------------------------ */

struct conn {
	int fd;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
};

static void conn_close(struct conn *c)
{
	if (c->tls) {
		gnutls_bye(c->tls, GNUTLS_SHUT_WR);
		gnutls_deinit(c->tls);
	}
	if (c->cred)
		gnutls_certificate_free_credentials(c->cred);
	if (c->fd >= 0)
		close(c->fd);
}

static ssize_t conn_read(struct conn *c, void *buf, size_t n)
{
	ssize_t r;

	if (!c->tls)
		return recv(c->fd, buf, n, 0);
	do {
		r = gnutls_record_recv(c->tls, buf, n);
	} while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	return r < 0 ? -1 : r;
}

static int conn_write(struct conn *c, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w =
			c->tls ? gnutls_record_send(c->tls, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
		if (c->tls && (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED))
			continue;
		if (w < 0 && !c->tls && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static bool conn_pending(struct conn *c)
{
	return c->tls && gnutls_record_check_pending(c->tls) > 0;
}

/* "https://host:port/prefix" into its parts. */
static int parse_server(const char *url, bool *tls, char *host, size_t hn, char *port, size_t pn,
			char **prefix, sk_err *err)
{
	const char *p;

	*tls = sk_startswith(url, "https://");
	if (!*tls && !sk_startswith(url, "http://"))
		return sk_err_set(err, EINVAL, "error: server %s: want https:// or http://", url);
	p = url + (*tls ? 8 : 7);
	const char *slash = strchr(p, '/');
	_cleanup_free_ char *hp = slash ? sk_strndup(p, (size_t)(slash - p)) : sk_strdup(p);
	*prefix = sk_strdup(slash ? slash : "");
	size_t plen = strlen(*prefix);
	while (plen && (*prefix)[plen - 1] == '/')
		(*prefix)[--plen] = '\0';
	char *colon = hp[0] == '[' ? strstr(hp, "]:") : strrchr(hp, ':');
	if (hp[0] == '[') {
		char *end = strchr(hp, ']');
		snprintf(host, hn, "%.*s", end ? (int)(end - hp - 1) : 0, hp + 1);
		snprintf(port, pn, "%s", colon ? colon + 2 : (*tls ? "443" : "80"));
	} else {
		snprintf(host, hn, "%.*s", colon ? (int)(colon - hp) : (int)strlen(hp), hp);
		snprintf(port, pn, "%s", colon ? colon + 1 : (*tls ? "443" : "80"));
	}
	return 0;
}

static int tls_setup(struct conn *c, const struct cli_kubeconfig *kc, const char *host, sk_err *err)
{
	int rc;

	if ((rc = gnutls_certificate_allocate_credentials(&c->cred)) < 0)
		goto fail;
	if (!kc->insecure) {
		if (kc->ca_data) {
			gnutls_datum_t d = {(unsigned char *)kc->ca_data,
					    (unsigned)strlen(kc->ca_data)};
			rc = gnutls_certificate_set_x509_trust_mem(c->cred, &d,
								   GNUTLS_X509_FMT_PEM);
		} else if (kc->ca_file) {
			rc = gnutls_certificate_set_x509_trust_file(c->cred, kc->ca_file,
								    GNUTLS_X509_FMT_PEM);
		} else {
			rc = gnutls_certificate_set_x509_system_trust(c->cred);
		}
		if (rc < 0)
			goto fail;
	}
	if ((kc->cert_data || kc->cert_file) && (kc->key_data || kc->key_file)) {
		if (kc->cert_data) {
			gnutls_datum_t cd = {(unsigned char *)kc->cert_data,
					     (unsigned)strlen(kc->cert_data)};
			gnutls_datum_t kd = {(unsigned char *)kc->key_data,
					     (unsigned)strlen(kc->key_data ? kc->key_data : "")};
			rc = gnutls_certificate_set_x509_key_mem(c->cred, &cd, &kd,
								 GNUTLS_X509_FMT_PEM);
		} else {
			rc = gnutls_certificate_set_x509_key_file(
				c->cred, kc->cert_file, kc->key_file, GNUTLS_X509_FMT_PEM);
		}
		if (rc < 0)
			goto fail;
	}
	if ((rc = gnutls_init(&c->tls, GNUTLS_CLIENT)) < 0 ||
	    (rc = gnutls_set_default_priority(c->tls)) < 0 ||
	    (rc = gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred)) < 0)
		goto fail;
	if (!kc->insecure)
		gnutls_session_set_verify_cert(c->tls, host, 0);
	gnutls_transport_set_int(c->tls, c->fd);
	do {
		rc = gnutls_handshake(c->tls);
	} while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0)
		goto fail;
	return 0;
fail:
	return sk_err_set(err, EPROTO, "error: TLS with the server %s: %s", host,
			  gnutls_strerror(rc));
}

static int conn_open(struct conn *c, const struct cli_kubeconfig *kc, char **prefix, sk_err *err)
{
	char host[256], port[16];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	bool tls;

	c->fd = -1;
	if (parse_server(kc->server, &tls, host, sizeof(host), port, sizeof(port), prefix, err) < 0)
		return -1;
	if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
		return sk_err_set(err, EHOSTUNREACH, "error: cannot resolve %s", host);
	for (struct addrinfo *a = res; a && c->fd < 0; a = a->ai_next) {
		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (c->fd >= 0 && connect(c->fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(c->fd);
			c->fd = -1;
		}
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return sk_err_set(err, ECONNREFUSED,
				  "The connection to the server %s:%s was refused - did you "
				  "specify the right host or port?",
				  host, port);
	return tls ? tls_setup(c, kc, host, err) : 0;
}

/* ---- the session ----------------------------------------------------------------- */

struct session {
	struct conn *c;
	bool v5, tty, stdin_open;
	sk_buf in; /* bytes from the server */
	json_t *status;
	bool closed;
};

static int send_msg(struct session *s, int ch, const void *data, size_t n)
{
	sk_buf msg, frame;
	int r;

	sk_buf_init(&msg);
	sk_buf_init(&frame);
	sk_buf_putc(&msg, (char)ch);
	sk_buf_append(&msg, data, n);
	agent_ws_frame(&frame, AGENT_WS_BINARY, msg.data, msg.len, true);
	r = conn_write(s->c, frame.data, frame.len);
	sk_buf_free(&msg);
	sk_buf_free(&frame);
	return r;
}

static void send_size(struct session *s)
{
	struct winsize ws;
	char buf[64];

	if (!s->tty || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	snprintf(buf, sizeof(buf), "{\"Width\":%u,\"Height\":%u}", ws.ws_col, ws.ws_row);
	(void)send_msg(s, 4, buf, strlen(buf));
}

static int on_frame(struct session *s, struct agent_ws_frame *f)
{
	if (f->opcode == AGENT_WS_CLOSE) {
		s->closed = true;
		return 0;
	}
	if (f->opcode == AGENT_WS_PING) {
		sk_buf pong;
		sk_buf_init(&pong);
		agent_ws_frame(&pong, AGENT_WS_PONG, f->payload, f->len, true);
		(void)conn_write(s->c, pong.data, pong.len);
		sk_buf_free(&pong);
		return 0;
	}
	if (f->opcode != AGENT_WS_BINARY || f->len < 1)
		return 0;
	const unsigned char *d = f->payload + 1;
	size_t n = f->len - 1;
	if (f->payload[0] == 1 || f->payload[0] == 2) {
		int fd = f->payload[0] == 1 ? STDOUT_FILENO : STDERR_FILENO;
		if (sk_write_all(fd, d, n) < 0)
			return -1;
	} else if (f->payload[0] == 3) {
		json_decref(s->status);
		s->status = json_loadb((const char *)d, n, 0, NULL);
	}
	return 0;
}

static int read_server(struct session *s, sk_err *err)
{
	char buf[65536];
	struct agent_ws_frame f;
	ssize_t n = conn_read(s->c, buf, sizeof(buf));
	int used;

	if (n <= 0) {
		s->closed = true;
		return 0;
	}
	sk_buf_append(&s->in, buf, (size_t)n);
	while ((used = agent_ws_parse(s->in.data, s->in.len, 16u << 20, &f, err)) > 0) {
		if (on_frame(s, &f) < 0)
			return sk_err_sys(err, errno, "error: write");
		memmove(s->in.data, s->in.data + used, s->in.len - (size_t)used);
		s->in.len -= (size_t)used;
	}
	return used < 0 ? -1 : 0;
}

static int read_stdin(struct session *s)
{
	char buf[32768];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n > 0)
		return send_msg(s, 0, buf, (size_t)n);
	if (n < 0 && errno == EINTR)
		return 0;
	/* end of stdin: v5 says so; v4 cannot */
	s->stdin_open = false;
	if (s->v5) {
		unsigned char close_stdin = 0;
		sk_buf frame;
		unsigned char msg[2] = {255, close_stdin};
		sk_buf_init(&frame);
		agent_ws_frame(&frame, AGENT_WS_BINARY, msg, 2, true);
		int r = conn_write(s->c, frame.data, frame.len);
		sk_buf_free(&frame);
		return r;
	}
	return 0;
}

static volatile sig_atomic_t winch;

static void on_winch(int sig SK_UNUSED)
{
	winch = 1;
}

static int run_session(struct session *s, sk_err *err)
{
	while (!s->closed) {
		struct pollfd p[2] = {{.fd = s->c->fd, .events = POLLIN},
				      {.fd = s->stdin_open ? STDIN_FILENO : -1, .events = POLLIN}};
		if (winch) {
			winch = 0;
			send_size(s);
		}
		if (!conn_pending(s->c) && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return sk_err_sys(err, errno, "error: poll");
		}
		if ((p[0].revents || conn_pending(s->c)) && read_server(s, err) < 0)
			return -1;
		if (p[1].revents && read_stdin(s) < 0)
			s->closed = true;
	}
	return 0;
}

/* ---- the upgrade ----------------------------------------------------------------- */

static char *exec_path(const char *prefix, const char *ns, const char *pod, const char *ctr,
		       char **cmd, bool in, bool tty)
{
	_cleanup_free_ char *ens = sk_url_escape(ns);
	_cleanup_free_ char *epod = sk_url_escape(pod);
	_cleanup_free_ char *ectr = sk_url_escape(ctr);
	sk_buf b;

	sk_buf_init(&b);
	sk_buf_printf(&b, "%s/api/v1/namespaces/%s/pods/%s/exec?", prefix, ens, epod);
	for (size_t i = 0; cmd[i]; i++) {
		_cleanup_free_ char *e = sk_url_escape(cmd[i]);
		sk_buf_printf(&b, "command=%s&", e);
	}
	sk_buf_printf(&b, "container=%s", ectr);
	if (in)
		sk_buf_puts(&b, "&stdin=true");
	sk_buf_puts(&b, "&stdout=true");
	if (!tty)
		sk_buf_puts(&b, "&stderr=true");
	if (tty)
		sk_buf_puts(&b, "&tty=true");
	return sk_buf_steal(&b);
}

/* Send the upgrade; 0 with the protocol on 101, -1 with kubectl's message
 * for an error answer. */
static int upgrade(struct session *s, const struct cli_kubeconfig *kc, const char *path,
		   sk_err *err)
{
	char key[25], line[256];
	sk_buf req, head;
	char *end = NULL;

	agent_ws_new_key(key);
	sk_buf_init(&req);
	sk_buf_init(&head);
	sk_buf_printf(&req,
		      "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
		      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
		      "Sec-WebSocket-Key: %s\r\n"
		      "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n"
		      "User-Agent: skiff/" CLI_VERSION "\r\n",
		      path, "kubernetes", key);
	if (kc->token && s->c->tls)
		sk_buf_printf(&req, "Authorization: Bearer %s\r\n", kc->token);
	sk_buf_puts(&req, "\r\n");
	int w = conn_write(s->c, req.data, req.len);
	sk_buf_free(&req);
	if (w < 0)
		return sk_err_set(err, EIO, "error: send to the server");
	while (!(end = head.data ? strstr(head.data, "\r\n\r\n") : NULL)) {
		char buf[4096];
		ssize_t n = conn_read(s->c, buf, sizeof(buf));
		if (n <= 0 || head.len > 65536) {
			sk_buf_free(&head);
			return sk_err_set(err, EIO, "error: the server closed the connection");
		}
		sk_buf_append(&head, buf, (size_t)n);
	}
	size_t hlen = (size_t)(end - head.data) + 4;
	long code = strtol(strchr(head.data, ' ') ? strchr(head.data, ' ') + 1 : "0", NULL, 10);
	if (code != 101) {
		/* the Status follows the headers: read all of it */
		const char *cl = strcasestr(head.data, "\r\nContent-Length:");
		size_t want = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
		while (head.len - hlen < want && head.len < 1 << 20) {
			char buf[4096];
			ssize_t n = conn_read(s->c, buf, sizeof(buf));
			if (n <= 0)
				break;
			sk_buf_append(&head, buf, (size_t)n);
		}
		json_t *st = json_loadb(head.data + hlen, head.len - hlen, 0, NULL);
		cli_status_message(st, code, err);
		json_decref(st);
		sk_buf_free(&head);
		return -1;
	}
	snprintf(line, sizeof(line), "%s", head.data);
	s->v5 = strstr(head.data, "v5.channel.k8s.io") != NULL;
	sk_buf_append(&s->in, head.data + hlen, head.len - hlen);
	sk_buf_free(&head);
	return 0;
}

/* The exit code from the error channel's Status (kubectl's rules). */
static int exit_code(struct session *s)
{
	const char *status = json_string_value(json_object_get(s->status, "status"));
	json_t *causes = api_get(s->status, "details.causes"), *c;
	size_t i;

	if (!s->status)
		return 0;
	if (sk_streq(status, "Success"))
		return 0;
	json_array_foreach (causes, i, c) {
		if (sk_streq(api_get_str(c, "reason"), "ExitCode")) {
			int code = atoi(api_get_str(c, "message") ?: "1");
			fprintf(stderr, "command terminated with exit code %d\n", code);
			return code;
		}
	}
	fprintf(stderr, "error: %s\n", api_get_str(s->status, "message") ?: "command failed");
	return 1;
}

static struct termios saved_tty;
static bool tty_raw;

static void tty_restore(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	tty_raw = false;
}

static void tty_make_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	t = saved_tty;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		tty_raw = true;
}

static int cmd_exec(int argc, char **argv)
{
	bool in = false, tty = false;
	const char *container = NULL;
	_cleanup_strv_ char **args = NULL;
	struct cli_flag flags[] = {
		{"stdin", 'i', CLI_FLAG_BOOL, &in, NULL},
		{"tty", 't', CLI_FLAG_BOOL, &tty, NULL},
		{"container", 'c', CLI_FLAG_STRING, &container, NULL},
		{0},
	};
	struct cli_client cl;
	struct conn c = {.fd = -1};
	struct session s = {.c = &c};
	json_t *pod = NULL;
	sk_err err = {0};
	int rc = 0;

	if (cli_parse_flags(argc, argv, flags, EXEC_USAGE, &args, &err) < 0)
		return cli_failf("error: %s", err.msg);
	if (sk_strv_len(args) < 2)
		return cli_failf("error: you must specify at least one command for the container");
	const char *name = cli_pod_arg(args[0], &err);
	if (!name)
		return cli_fail(&err);
	if (tty && (!in || !isatty(STDIN_FILENO))) {
		/* kubectl's words and choice: go on without a terminal */
		fprintf(stderr,
			"Unable to use a TTY - input is not a terminal or the right kind of "
			"file\n");
		tty = false;
	}
	if (cli_client_open(&cl, &err) < 0)
		return cli_fail(&err);
	_cleanup_free_ char *ens = sk_url_escape(cl.ns);
	_cleanup_free_ char *ename = sk_url_escape(name);
	_cleanup_free_ char *pod_path = sk_asprintf("/api/v1/namespaces/%s/pods/%s", ens, ename);
	_cleanup_free_ char *ctr = NULL, *prefix = NULL, *path = NULL;
	if (cli_request(&cl, "GET", pod_path, NULL, NULL, NULL, &pod, NULL, &err) < 0 ||
	    !(ctr = cli_default_container(pod, container, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	const char *phase = api_get_str(pod, "status.phase");
	if (sk_streq(phase, "Succeeded") || sk_streq(phase, "Failed")) {
		rc = cli_failf("error: cannot exec into a container in a completed pod; current "
			       "phase is %s",
			       phase);
		goto out;
	}
	sk_buf_init(&s.in);
	s.tty = tty;
	s.stdin_open = in;
	if (conn_open(&c, &cl.kc, &prefix, &err) < 0 ||
	    (path = exec_path(prefix, cl.ns, name, ctr, args + 1, in, tty),
	     upgrade(&s, &cl.kc, path, &err) < 0)) {
		rc = cli_fail(&err);
		goto done;
	}
	if (tty) {
		signal(SIGWINCH, on_winch);
		tty_make_raw();
		send_size(&s);
	}
	/* frames that came with the answer */
	if (s.in.len) {
		struct agent_ws_frame f;
		int used;
		while ((used = agent_ws_parse(s.in.data, s.in.len, 16u << 20, &f, &err)) > 0) {
			on_frame(&s, &f);
			memmove(s.in.data, s.in.data + used, s.in.len - (size_t)used);
			s.in.len -= (size_t)used;
		}
	}
	if (run_session(&s, &err) < 0)
		rc = cli_fail(&err);
	tty_restore();
	if (rc == 0)
		rc = exit_code(&s);
done:
	sk_buf_free(&s.in);
	json_decref(s.status);
	conn_close(&c);
out:
	json_decref(pod);
	cli_client_close(&cl);
	return rc;
}

SK_COMMAND(exec, "exec", cmd_exec, "run a command in a container of a pod");

enum { OPT_STATE_DIR = 256, OPT_TTY, OPT_ENV, OPT_CONSOLE };

static const struct option exec_helper_options[] = {
	{"state-dir", required_argument, NULL, OPT_STATE_DIR},
	{"tty", no_argument, NULL, OPT_TTY},
	{"console-socket", required_argument, NULL, OPT_CONSOLE},
	{"env", required_argument, NULL, OPT_ENV},
	{NULL, 0, NULL, 0},
};

static int cmd_exec_helper(int argc, char **argv)
{
	struct rt_exec_config ec = {0};
	const char *state_dir = RT_DEFAULT_STATE_DIR;
	_cleanup_strv_ char **env = NULL;
	sk_err err;
	int opt, status;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+", exec_helper_options, NULL)) != -1) {
		switch (opt) {
		case OPT_STATE_DIR:
			state_dir = optarg;
			break;
		case OPT_TTY:
			ec.tty = true;
			break;
		case OPT_ENV:
			env = sk_strv_push(env, optarg);
			break;
		case OPT_CONSOLE: {
			int64_t fd;
			if (sk_parse_int64(optarg, 3, 1023, &fd, &err) < 0)
				return cli_failf("--console-socket: %s", err.msg);
			ec.console_fd = (int)fd;
			break;
		}
		default:
			return cli_failf("usage: skiff __exec [--state-dir DIR] [--tty] "
					 "[--env K=V]... POD_ID CONTAINER -- CMD...");
		}
	}
	int cmd = optind + 2;
	if (cmd < argc && !strcmp(argv[cmd], "--"))
		cmd++;
	if (cmd >= argc)
		return cli_failf("usage: skiff __exec [--state-dir DIR] [--tty] [--env K=V]... "
				 "POD_ID CONTAINER -- CMD...");
	ec.env = env;
	ec.argv = argv + cmd;
	if (rt_exec(state_dir, argv[optind], argv[optind + 1], &ec, &status, &err) < 0)
		cli_fail(&err);
	/* _exit: this process now sits in the container's mount namespace,
	 * where exit handlers (a sanitizer's leak check reading /proc) have
	 * nothing to do */
	fflush(stdout);
	fflush(stderr);
	_exit(status);
}

SK_COMMAND_HIDDEN(exec_helper, "__exec", cmd_exec_helper);
