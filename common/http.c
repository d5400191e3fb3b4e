/* An HTTP/1.1 client on libcurl for talking to the API server: the CLI,
 * and later the node agent and the controllers. One handle per sk_http, so
 * libcurl's connection cache keeps the TCP/TLS connection alive between
 * requests. Certificates and keys given as PEM text (kubeconfig's *-data
 * fields) are handed to GnuTLS through a memfd, because libcurl's GnuTLS
 * backend takes only file names. */
#include "common.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HTTP_MAX_BODY (256u << 20)
#define HTTP_MAX_LINE (64u << 20)
#define HTTP_DEFAULT_CONNECT_MS 10000L

struct sk_http {
	CURL *curl;
	char *server; /* without a trailing '/' */
	bool tls;
	char *auth_header; /* "Authorization: Bearer ..." or NULL */
	long timeout_ms;
	int pem_fds[3]; /* memfds holding CA, certificate and key text */
	char errbuf[CURL_ERROR_SIZE];
	atomic_bool cancelled; /* sk_http_cancel: end the transfer under way */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Put PEM text into an anonymous file and return its /proc path. */
static int pem_memfd(const char *what, const char *data, int *fd_out, char **path, sk_err *err)
{
	_cleanup_close_ int fd = memfd_create(what, MFD_CLOEXEC);

	if (fd < 0)
		return sk_err_sys(err, errno, "memfd for %s", what);
	if (sk_write_all(fd, data, strlen(data)) < 0)
		return sk_err_sys(err, errno, "write %s", what);
	*path = sk_asprintf("/proc/self/fd/%d", fd);
	*fd_out = move_fd(fd);
	return 0;
}

/* A PEM source: a file name, or text that goes through a memfd. */
static int set_pem(sk_http *h, int slot, CURLoption opt, const char *what, const char *file,
		   const char *data, sk_err *err)
{
	_cleanup_free_ char *path = NULL;

	if (data && *data) {
		if (pem_memfd(what, data, &h->pem_fds[slot], &path, err) < 0)
			return -1;
		file = path;
	}
	if (!file || !*file)
		return 0;
	if (curl_easy_setopt(h->curl, opt, file) != CURLE_OK)
		return sk_err_set(err, EINVAL, "%s: not supported by libcurl", what);
	return 0;
}

/* Go's net/http never proxies loopback; libcurl would. Keep the user's
 * no_proxy and add loopback to it. */
static void set_no_proxy(CURL *curl)
{
	const char *env = getenv("no_proxy");
	_cleanup_free_ char *list = NULL;

	if (!env || !*env)
		env = getenv("NO_PROXY");
	list = env && *env ? sk_asprintf("%s,localhost,127.0.0.1,::1", env)
			   : sk_strdup("localhost,127.0.0.1,::1");
	curl_easy_setopt(curl, CURLOPT_NOPROXY, list); /* libcurl copies strings */
}

static int http_setup_tls(sk_http *h, const struct sk_http_config *cfg, sk_err *err)
{
	if (cfg->insecure) {
		curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (set_pem(h, 0, CURLOPT_CAINFO, "certificate authority", cfg->ca_file,
			   cfg->ca_data, err) < 0) {
		return -1;
	} else if ((cfg->ca_file && *cfg->ca_file) || (cfg->ca_data && *cfg->ca_data)) {
		/* the given CA is the only one trusted, as with kubectl; it also
		 * spares GnuTLS parsing the whole system store on every run */
		curl_easy_setopt(h->curl, CURLOPT_CAPATH, NULL);
	}
	if (set_pem(h, 1, CURLOPT_SSLCERT, "client certificate", cfg->cert_file, cfg->cert_data,
		    err) < 0)
		return -1;
	if (set_pem(h, 2, CURLOPT_SSLKEY, "client key", cfg->key_file, cfg->key_data, err) < 0)
		return -1;
	return 0;
}

static int on_progress(void *p, curl_off_t dltotal SK_UNUSED, curl_off_t dlnow SK_UNUSED,
		       curl_off_t ultotal SK_UNUSED, curl_off_t ulnow SK_UNUSED)
{
	sk_http *h = p;

	return atomic_load(&h->cancelled) ? 1 : 0;
}

void sk_http_cancel(sk_http *h)
{
	atomic_store(&h->cancelled, true);
}

int sk_http_new(const struct sk_http_config *cfg, sk_http **out, sk_err *err)
{
	sk_http *h;
	size_t n;

	if (!cfg->server || !*cfg->server)
		return sk_err_set(err, EINVAL, "no server URL");
	if (!sk_startswith(cfg->server, "http://") && !sk_startswith(cfg->server, "https://"))
		return sk_err_set(err, EINVAL, "server URL \"%s\": want http:// or https://",
				  cfg->server);
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return sk_err_set(err, EIO, "libcurl: %s", curl_easy_strerror(curl_init_result));

	h = sk_calloc(1, sizeof(*h));
	h->pem_fds[0] = h->pem_fds[1] = h->pem_fds[2] = -1;
	h->curl = curl_easy_init();
	if (!h->curl) {
		sk_http_free(h);
		return sk_err_set(err, EIO, "libcurl: cannot create a handle");
	}
	h->server = sk_strdup(cfg->server);
	n = strlen(h->server);
	while (n > 0 && h->server[n - 1] == '/')
		h->server[--n] = '\0';
	h->tls = sk_startswith(h->server, "https://");
	h->timeout_ms = cfg->timeout_ms;
	if (h->tls && cfg->token && *cfg->token)
		h->auth_header = sk_asprintf("Authorization: Bearer %s", cfg->token);

	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms
						     : HTTP_DEFAULT_CONNECT_MS);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, cfg->user_agent ? cfg->user_agent : "skiff");
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	/* libcurl calls this about once a second even on an idle stream */
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	set_no_proxy(h->curl);
	if (h->tls && http_setup_tls(h, cfg, err) < 0) {
		sk_http_free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void sk_http_free(sk_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	for (size_t i = 0; i < SK_ARRAY_SIZE(h->pem_fds); i++)
		if (h->pem_fds[i] >= 0)
			close(h->pem_fds[i]);
	free(h->server);
	free(h->auth_header);
	free(h);
}

const char *sk_http_server(const sk_http *h)
{
	return h->server;
}

void sk_http_response_free(struct sk_http_response *r)
{
	if (!r)
		return;
	free(r->content_type);
	r->content_type = NULL;
	sk_buf_free(&r->body);
}

/* ---- one transfer ------------------------------------------------------ */

struct transfer {
	sk_http *h;
	struct sk_http_response *resp;
	/* streaming */
	bool stream, lines;
	sk_http_data_cb cb;
	void *ctx;
	sk_buf line;
	sk_err *err;
	int stop; /* 0 running, 1 stopped quietly, -1 failed (err set) */
	bool too_big;
};

static bool status_ok(long status)
{
	return status >= 200 && status < 300;
}

static int deliver_lines(struct transfer *t)
{
	char *start = t->line.data, *nl;
	size_t rest = t->line.len;
	int r = 0;

	while (r == 0 && (nl = memchr(start, '\n', rest))) {
		size_t n = (size_t)(nl - start);

		r = t->cb(start, n > 0 && start[n - 1] == '\r' ? n - 1 : n, t->ctx, t->err);
		rest -= n + 1;
		start = nl + 1;
	}
	memmove(t->line.data, start, rest);
	t->line.len = rest;
	t->line.data[rest] = '\0';
	return r;
}

static int deliver(struct transfer *t, const char *data, size_t n)
{
	if (!t->lines)
		return t->cb(data, n, t->ctx, t->err);
	if (t->line.len + n > HTTP_MAX_LINE) {
		t->too_big = true;
		return sk_err_set(t->err, EMSGSIZE, "a streamed line is over %u bytes",
				  HTTP_MAX_LINE);
	}
	sk_buf_append(&t->line, data, n);
	return deliver_lines(t);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *userp)
{
	struct transfer *t = userp;
	size_t n = size * nmemb;
	long status = 0;
	int r;

	curl_easy_getinfo(t->h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (!t->stream || !status_ok(status)) {
		if (t->resp->body.len + n > HTTP_MAX_BODY) {
			t->too_big = true;
			return 0;
		}
		sk_buf_append(&t->resp->body, data, n);
		return n;
	}
	r = deliver(t, data, n);
	if (r < 0) {
		t->stop = -1;
		return 0;
	}
	if (r > 0) {
		t->stop = 1;
		return 0;
	}
	return n;
}

/* The errno that best describes a libcurl failure, for callers to branch on. */
static int curl_errno(CURL *curl, CURLcode rc)
{
	long os = 0;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os);
		return os ? (int)os : ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return ETIMEDOUT;
	case CURLE_ABORTED_BY_CALLBACK:
		return ECANCELED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return EHOSTUNREACH;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return EPROTO;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return ECONNRESET;
	default:
		return EIO;
	}
}

static struct curl_slist *request_headers(sk_http *h, const struct sk_http_request *req)
{
	struct curl_slist *hd = NULL;
	_cleanup_free_ char *accept =
		sk_asprintf("Accept: %s", req->accept ? req->accept : "application/json");

	hd = curl_slist_append(hd, accept);
	if (req->body) {
		_cleanup_free_ char *ct =
			sk_asprintf("Content-Type: %s",
				    req->content_type ? req->content_type : "application/json");
		hd = curl_slist_append(hd, ct);
	}
	/* a 100-continue round trip buys nothing against our own server */
	hd = curl_slist_append(hd, "Expect:");
	if (h->auth_header)
		hd = curl_slist_append(hd, h->auth_header);
	return hd;
}

static void set_method(CURL *curl, const struct sk_http_request *req, const char **method)
{
	*method = req->method ? req->method : req->body ? "POST" : "GET";
	if (req->body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, *method);
	} else if (strcmp(*method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		/* a body-less POST/DELETE: an empty body, with the method named */
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, *method);
	}
}

static int transfer_fail(struct transfer *t, CURLcode rc, const char *method, const char *url)
{
	sk_http *h = t->h;

	if (t->stop < 0)
		return sk_err_wrap(t->err, "%s %s", method, url);
	if (t->too_big)
		return sk_err_set(t->err, EMSGSIZE, "%s %s: the response is too large", method,
				  url);
	return sk_err_set(t->err, curl_errno(h->curl, rc), "%s %s: %s", method, url,
			  h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
}

static int run_transfer(struct transfer *t, const struct sk_http_request *req)
{
	sk_http *h = t->h;
	struct curl_slist *headers = request_headers(h, req);
	_cleanup_free_ char *url = sk_asprintf("%s%s", h->server, req->path ? req->path : "/");
	const char *method;
	long timeout = t->stream ? 0 : req->timeout_ms > 0 ? req->timeout_ms : h->timeout_ms;
	char *ct = NULL;
	CURLcode rc;

	memset(t->resp, 0, sizeof(*t->resp));
	sk_buf_init(&t->resp->body);
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	set_method(h->curl, req, &method);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, t);
	rc = curl_easy_perform(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &t->resp->status);
	if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		t->resp->content_type = sk_strdup(ct);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t->stop > 0))
		return transfer_fail(t, rc, method, url);
	if (!t->resp->body.data)
		sk_buf_puts(&t->resp->body, ""); /* callers may read body.data */
	return 0;
}

int sk_http_do(sk_http *h, const struct sk_http_request *req, struct sk_http_response *resp,
	       sk_err *err)
{
	struct transfer t = {.h = h, .resp = resp, .err = err};

	return run_transfer(&t, req);
}

int sk_http_stream(sk_http *h, const struct sk_http_request *req, bool lines, sk_http_data_cb cb,
		   void *ctx, struct sk_http_response *resp, sk_err *err)
{
	struct transfer t = {.h = h,
			     .resp = resp,
			     .stream = true,
			     .lines = lines,
			     .cb = cb,
			     .ctx = ctx,
			     .err = err};
	int r;

	sk_buf_init(&t.line);
	r = run_transfer(&t, req);
	if (r == 0 && t.stop == 0 && status_ok(resp->status) && lines && t.line.len > 0 &&
	    cb(t.line.data, t.line.len, ctx, err) < 0)
		r = -1;
	sk_buf_free(&t.line);
	return r;
}

char *sk_url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	sk_buf b;

	sk_buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			sk_buf_putc(&b, (char)*p);
		} else {
			sk_buf_putc(&b, '%');
			sk_buf_putc(&b, hex[*p >> 4]);
			sk_buf_putc(&b, hex[*p & 15]);
		}
	}
	return sk_buf_steal(&b);
}
